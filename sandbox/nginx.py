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
from components.render.headers import FILE_HEADERS, cors_preflight_function, spa_fallback_function
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


# The CORS preflight function, handed the request as CloudFront would; its answer becomes nginx's.
_NJS_PREFLIGHT_ADAPTER = """
function preflight(r) {
    var headers = {};
    for (var name in r.headersIn) {
        headers[name.toLowerCase()] = {value: r.headersIn[name]};
    }
    var answer = handler({request: {method: r.method, uri: r.uri, headers: headers}});
    var out = answer.headers || {};
    for (var h in out) {
        r.headersOut[h] = out[h].value;
    }
    r.return(answer.statusCode);
}
export default {preflight};
"""


def write_spa_module(path: Path, base_path: str) -> None:
    path.write_text(spa_fallback_function(base_path) + _NJS_ADAPTER)


def write_preflight_module(path: Path, allowed_origins: Sequence[str]) -> None:
    path.write_text(cors_preflight_function(allowed_origins) + _NJS_PREFLIGHT_ADAPTER)


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


def _types() -> str:
    return "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))


def _cache_map(variable: str, files: Sequence[SiteFile]) -> str:
    """Cache-Control per file (keys from the origin's root), as set on each stored object."""
    lines = "".join(f'    "/{f.key}" "{f.cache_control}";\n' for f in files)
    return f'map $uri ${variable} {{\n    default "no-cache";\n{lines}}}\n'


def render_viewer_conf(*, listen: str, site_root: Path, spa_module: Path, files: Sequence[SiteFile],
                       headers: dict[str, str], proxy: str | None = None) -> str:
    """The viewer's server block; `files` are keyed from the origin's root. `proxy` (host:port) puts the
    DICOMweb proxy at /dicom-web/, as the same-origin topology's second CDN origin does."""
    added = "".join(f'    add_header {k} "{v}" always;\n' for k, v in headers.items())
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

# Routes (index.html) are never cached.
{_cache_map("viewer_cache_control", files)}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
    root {site_root};
    charset utf-8;
    charset_types text/css text/javascript application/json;

    types {{
{_types()}    }}
    default_type application/octet-stream;

{added}    add_header Cache-Control $viewer_cache_control always;

    # The SPA fallback: the CloudFront Function decides which URIs are routes of the app.
    location / {{
        rewrite ^ $spa_uri break;
    }}
{mounted}}}
"""


def render_files_conf(*, listen: str, root: Path, preflight_module: Path, files: Sequence[SiteFile],
                      allowed_origins: Sequence[str]) -> str:
    """Files on an origin of their own, as the CDN serves them: preflights answered by the CloudFront
    Function's code, and `Access-Control-Allow-Origin` for an allowed origin, as CloudFront's response
    headers policy adds it."""
    origins = "".join(f'    "{o}" $http_origin;\n' for o in allowed_origins)
    added = "".join(f'        add_header {k} "{v}" always;\n' for k, v in FILE_HEADERS.items())
    return f"""\
# Files other origins read, served as the CDN serves them. Rendered by sandbox/nginx.py.
js_import cors from {preflight_module};

map $http_origin $files_cors_origin {{
    default "";
{origins}}}
{_cache_map("files_cache_control", files)}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
    root {root};
    charset utf-8;
    charset_types text/javascript application/json;
    types {{
{_types()}    }}
    default_type application/octet-stream;

    location / {{
        if ($request_method = OPTIONS) {{
            rewrite ^ /.cors-preflight last;
        }}
{added}        add_header Cache-Control $files_cache_control always;
        add_header Access-Control-Allow-Origin $files_cors_origin always;
    }}
    # A preflight's answer is the function's alone, as an answer a CloudFront Function generates is.
    location = /.cors-preflight {{
        internal;
        js_content cors.preflight;
    }}
}}
"""
