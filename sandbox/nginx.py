"""nginx in the sandbox: the stand-in for the CDN, and how any rendered config is run on this machine.

The viewer is served the way CloudFront serves it, from the cloud's own sources: the headers from
components/render/headers.py, the SPA fallback by running the CloudFront Function's code in njs, and each
file's Content-Type and Cache-Control from components/render/viewer_build.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

from components.render.proxy_nginx import DICOMWEB_PATH
from components.render.headers import VIEWER_HEADERS, spa_fallback_function
from components.render.viewer_build import CONTENT_TYPES, SiteFile
from sandbox.processes import Service, require_binary

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


def write_main_conf(run_dir: Path, includes: Sequence[Path]) -> Path:
    """Write `run_dir`/nginx.conf including `includes`, and the temp directories it names."""
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    main = run_dir / "nginx.conf"
    main.write_text(render_main_conf(run_dir=run_dir, includes=includes))
    return main


def nginx_binary() -> str:
    return require_binary("nginx", "nginx", "nginx libnginx-mod-http-js")


def nginx_service(run_dir: Path, includes: Sequence[Path], *, ports: Sequence[int], ready_url: str,
                  port_hint: str = "stop what listens there") -> Service:
    """An nginx (not started yet) in the foreground, serving `includes` from `run_dir`."""
    main = write_main_conf(run_dir, includes)
    return Service("nginx", [nginx_binary(), "-p", str(run_dir), "-c", str(main), "-g", "daemon off;"],
                   log=run_dir / "nginx.log", ready_url=ready_url, ports=ports, port_hint=port_hint)


def nginx_test(run_dir: Path, includes: Sequence[Path]) -> subprocess.CompletedProcess:
    """`nginx -t` on `includes`, as they would run from `run_dir`."""
    main = write_main_conf(run_dir, includes)
    return subprocess.run([nginx_binary(), "-t", "-p", str(run_dir), "-c", str(main)], capture_output=True, text=True)


def render_viewer_conf(*, listen: str, site_root: Path, spa_module: Path, files: Sequence[SiteFile],
                       base_path: str, proxy: str | None = None) -> str:
    """The viewer's server block. `proxy` (host:port) puts the DICOMweb proxy at /dicom-web/, as the
    same-origin topology's second CDN origin does."""
    types = "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))
    cache = "".join(f'    "{base_path}{f.key}" "{f.cache_control}";\n' for f in files)
    headers = "".join(f'    add_header {k} "{v}" always;\n' for k, v in VIEWER_HEADERS.items())
    mounted = f"""
    # Same-origin topology: the DICOMweb proxy is this host's second origin, as on the CDN.
    location {DICOMWEB_PATH}/ {{
        proxy_pass http://{proxy};
    }}
""" if proxy else ""
    return f"""\
# The viewer, served as the CDN serves it. Rendered by sandbox/nginx.py.
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
{mounted}}}
"""
