"""The sandbox's stand-in for the CDN: nginx serving the prepared viewer the way CloudFront does.

Same sources as the cloud: the headers from components/headers.py, the SPA fallback by running
the CloudFront Function's own code in njs, and each file's Content-Type and Cache-Control from
components/viewer_build.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from components.archive_proxy_nginx import DICOMWEB_PATH
from components.headers import VIEWER_HEADERS, spa_fallback_function
from components.viewer_build import CONTENT_TYPES, SiteFile

NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"

# njs runs the CloudFront Function unchanged; this adapter hands it the request as CloudFront would.
_NJS_ADAPTER = """
function route(r) {
    return handler({request: {uri: r.uri}}).uri;
}
export default {route};
"""


def write_spa_module(path: Path, base_path: str) -> None:
    path.write_text(spa_fallback_function(base_path) + _NJS_ADAPTER)


def render_main_conf(*, run_dir: Path, includes: Sequence[Path]) -> str:
    """A whole nginx.conf for an unprivileged nginx whose state all lives in `run_dir`."""
    lines = "".join(f"    include {p};\n" for p in includes)
    return f"""\
load_module {NJS_MODULE};
worker_processes 1;
error_log {run_dir}/nginx-error.log warn;
pid {run_dir}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    access_log {run_dir}/nginx-access.log;
    client_body_temp_path {run_dir}/tmp/body;
    proxy_temp_path {run_dir}/tmp/proxy;
    fastcgi_temp_path {run_dir}/tmp/fastcgi;
    uwsgi_temp_path {run_dir}/tmp/uwsgi;
    scgi_temp_path {run_dir}/tmp/scgi;
    sendfile on;
    map_hash_bucket_size 128;
    gzip on;
    gzip_types text/css text/javascript application/json application/wasm image/svg+xml;
{lines}}}
"""


def render_viewer_conf(*, listen: str, site_root: Path, spa_module: Path, files: Sequence[SiteFile],
                       base_path: str, archive_proxy: str | None = None) -> str:
    """The viewer's server block. `archive_proxy` (host:port) puts the proxy at /dicom-web/, as the
    same-origin topology's second CDN origin does."""
    types = "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))
    cache = "".join(f'    "{base_path}{f.key}" "{f.cache_control}";\n' for f in files)
    headers = "".join(f'    add_header {k} "{v}" always;\n' for k, v in VIEWER_HEADERS.items())
    archive = f"""
    # Same-origin topology: the archive proxy is this host's second origin, as on the CDN.
    location {DICOMWEB_PATH}/ {{
        proxy_pass http://{archive_proxy};
    }}
""" if archive_proxy else ""
    return f"""\
# The viewer, served as the CDN serves it. Rendered by sandbox/viewer_nginx.py.
js_import spa from {spa_module};
js_set $spa_uri spa.route;

# Cache-Control per file, as set on each bucket object; routes (index.html) are never cached.
map $uri $viewer_cache_control {{
    default "no-cache";
{cache}}}

server {{
    listen {listen};
    server_name _;
    server_tokens off;
    root {site_root};
    charset utf-8;
    charset_types text/css text/javascript application/json;

    types {{
{types}    }}
    default_type application/octet-stream;

{headers}    add_header Cache-Control $viewer_cache_control always;

    # The SPA fallback: the CloudFront Function decides which URIs are routes of the app.
    location / {{
        rewrite ^ $spa_uri break;
    }}
{archive}}}
"""
