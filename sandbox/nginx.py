"""nginx in the sandbox: the stand-in for the CDN, and how any rendered config is run on this machine.

The viewer is served the way CloudFront serves it, from the cloud's own sources: the headers from
components/render/headers.py, the SPA fallback by running the CloudFront Function's code in njs, and each
file's Content-Type and Cache-Control from components/render/viewer_build.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.edge import NginxEdge
from components.render.headers import FILE_HEADERS, cors_preflight_function, spa_fallback_function
from components.render.viewer_build import COMPRESSIBLE_TYPES, CONTENT_TYPES, SiteFile
from sandbox.processes import Service, require_binary
from sandbox.tls import RunTls

NJS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
"""Debian's njs module (libnginx-mod-http-js), which every config loads: the CDN's functions run in it."""

# njs runs the CloudFront Function unchanged; this adapter hands it the request as CloudFront would, and stands in for
# the object store's metadata.
_NJS_ADAPTER = """
function cloudfrontHeaders(r) {
    var headers = {};
    for (var name in r.headersIn) {
        headers[name.toLowerCase()] = {value: r.headersIn[name]};
    }
    return headers;
}
function route(r) {
    return handler({request: {method: r.method, uri: r.uri, headers: cloudfrontHeaders(r)}}).uri;
}
// Storage returns a variant's Content-Encoding with it. Set in a header filter, it is nginx's own, so gzip (the CDN's
// compression) leaves the variant alone, as the CDN does; `add_header` would not stop it.
function metadata(r) {
    var encoding = r.variables.object_encoding;
    if (encoding) {
        r.headersOut['Content-Encoding'] = encoding;
    }
}
"""

# The CORS preflight function's answer becomes nginx's.
_NJS_PREFLIGHT_ADAPTER = """
function preflight(r) {
    var answer = handler({request: {method: r.method, uri: r.uri, headers: cloudfrontHeaders(r)}});
    var out = answer.headers || {};
    for (var h in out) {
        r.headersOut[h] = out[h].value;
    }
    r.return(answer.statusCode);
}
"""

# The CDN's own compression of what has no variant (the entry files): CloudFront compresses objects of 1,000 bytes to
# 10 MB (Front Door 1 KB to 8 MB) of listed types. Nothing without a variant comes near the upper limits
# (tests/sandbox/test_delivery.py), so nginx, which has none, serves what the CDN would.
_CDN_COMPRESSION = f"""\
    gzip on;
    gzip_min_length 1000;
    gzip_types {" ".join(t for t in COMPRESSIBLE_TYPES if t != "text/html")};
"""


def cdn_listen(port: int) -> str:
    """A browser-facing socket, as both CDNs serve browsers: HTTPS, with HTTP/2."""
    return f"127.0.0.1:{port} ssl http2"


def write_spa_module(path: Path, base_path: str) -> None:
    path.write_text(spa_fallback_function(base_path) + _NJS_ADAPTER + "export default {route, metadata};\n")


def write_preflight_module(path: Path, allowed_origins: Sequence[str]) -> None:
    path.write_text(cors_preflight_function(allowed_origins) + _NJS_ADAPTER + _NJS_PREFLIGHT_ADAPTER +
                    "export default {route, metadata, preflight};\n")


def render_main_conf(*, run_dir: Path, includes: Sequence[Path], tls: RunTls | None = None) -> str:
    """A whole nginx.conf for an unprivileged nginx whose state all lives in `run_dir`; `tls` is the certificate of
    its `listen … ssl` sockets."""
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
    map_hash_max_size 4096;
{tls.nginx_directives() if tls else ""}{lines}}}
"""


def write_main_conf(run_dir: Path, includes: Sequence[Path], tls: RunTls | None = None) -> Path:
    """Write `run_dir`/nginx.conf including `includes`, and the temp directories it names."""
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    main = run_dir / "nginx.conf"
    main.write_text(render_main_conf(run_dir=run_dir, includes=includes, tls=tls))
    return main


def nginx_binary() -> str:
    return require_binary("nginx", "nginx", "nginx libnginx-mod-http-js")


def nginx_service(run_dir: Path, includes: Sequence[Path], *, ports: Sequence[int], ready_url: str,
                  port_hint: str = "stop what listens there", tls: RunTls | None = None) -> Service:
    """An nginx (not started yet) in the foreground, serving `includes` from `run_dir`, with `tls`'s certificate
    on its `listen … ssl` sockets."""
    main = write_main_conf(run_dir, includes, tls)
    return Service("nginx", [nginx_binary(), "-p", str(run_dir), "-c", str(main), "-g", "daemon off;"],
                   log=run_dir / "nginx.log", ready_url=ready_url, ports=ports, port_hint=port_hint,
                   ca_file=tls.ca_file if tls else None)


def nginx_test(run_dir: Path, includes: Sequence[Path], tls: RunTls | None = None) -> subprocess.CompletedProcess:
    """`nginx -t` on `includes`, as they would run from `run_dir`."""
    main = write_main_conf(run_dir, includes, tls)
    return subprocess.run([nginx_binary(), "-t", "-p", str(run_dir), "-c", str(main)], capture_output=True, text=True)


def _types() -> str:
    return "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))


def _metadata_maps(prefix: str, files: Sequence[SiteFile]) -> str:
    """Each stored object's Cache-Control and Content-Encoding (keys from the origin's root), as storage returns them
    with the object: `$<prefix>_cache_control` and `$object_encoding`."""
    cache = "".join(f'    "/{f.key}" "{f.cache_control}";\n' for f in files)
    encoding = "".join(f'    "/{f.key}" "{f.content_encoding}";\n' for f in files if f.content_encoding)
    return (f'map $uri ${prefix}_cache_control {{\n    default "no-cache";\n{cache}}}\n'
            f'map $uri $object_encoding {{\n    default "";\n{encoding}}}\n')


# The balancer in front of several proxies, as the cloud's (an NLB; Azure's load balancer): a proxy that refuses a
# connection or fails is skipped for 10 s (passive health checks), and its request goes to the next (a retry of a read;
# nginx does not retry a POST; an archive's error is the archive's, and not retried). Each answer's upstream(s) go to
# upstream.log: "a, b" is a request nginx retried.
_BALANCER = """
upstream ohif_proxies {{
{servers}    keepalive 16;
}}
log_format ohif_upstream '$time_iso8601 $status "$request" $upstream_addr $upstream_status';
"""


def render_viewer_conf(*, listen: str, site_root: Path, spa_module: Path, files: Sequence[SiteFile],
                       headers: dict[str, str], edge: NginxEdge, proxies: Sequence[str] = (),
                       log_dir: Path | None = None) -> str:
    """The viewer's server block behind the `edge` (the CDN's firewall); `files` are keyed from the origin's root.
    `proxies` (host:port each) put the DICOMweb proxy at /dicom-web/, as the same-origin topology's second CDN origin
    does, with the edge's rate limit, balanced across them; `log_dir` takes the balancer's upstream.log."""
    added = "".join(f'        add_header {k} "{v}" always;\n' for k, v in headers.items())
    balancer = _BALANCER.format(servers="".join(f"    server {p} max_fails=1 fail_timeout=10s;\n" for p in proxies)) \
        if proxies else ""
    mounted = f"""
    # Same-origin topology: the DICOMweb proxy is this host's second origin, as on the CDN, whose behaviour for it has
    # no response headers policy: the proxy's own headers (its Cache-Control above all) reach the browser.
    location {DICOMWEB_PATH}/ {{
{edge.rate_limit_directives("        ")}        add_header Retry-After $ohif_edge_retry_after always;
        proxy_set_header Host $http_host;  # as the CDN forwards it: the proxy serves this host's own Origin
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_next_upstream error timeout;
        access_log {log_dir}/upstream.log ohif_upstream;
        proxy_pass http://ohif_proxies;
    }}
""" if proxies else ""
    return f"""\
# The viewer, served as the CDN serves it. Rendered by sandbox/nginx.py.
{edge.http}{balancer}
js_import spa from {spa_module};
js_set $spa_uri spa.route;

# Routes (index.html) are never cached.
{_metadata_maps("viewer", files)}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
{edge.server_directives()}    root {site_root};
    charset utf-8;
    charset_types text/css text/javascript application/json;
{_CDN_COMPRESSION}
    types {{
{_types()}    }}
    default_type application/octet-stream;

    # The CloudFront Function decides which URIs are routes of the app, and which variant of a file is sent.
    location / {{
        rewrite ^ $spa_uri break;
        js_header_filter spa.metadata;
{added}        add_header Cache-Control $viewer_cache_control always;
    }}
{mounted}}}
"""


def render_files_conf(*, listen: str, root: Path, preflight_module: Path, files: Sequence[SiteFile],
                      allowed_origins: Sequence[str], edge: NginxEdge) -> str:
    """Files on an origin of their own, as the CDN serves them behind its firewall (`edge`): preflights answered
    by the CloudFront Function's code, and `Access-Control-Allow-Origin` for an allowed origin, as CloudFront's
    response headers policy adds it."""
    origins = "".join(f'    "{o}" $http_origin;\n' for o in allowed_origins)
    added = "".join(f'        add_header {k} "{v}" always;\n' for k, v in FILE_HEADERS.items())
    return f"""\
# Files other origins read, served as the CDN serves them. Rendered by sandbox/nginx.py.
{edge.http}
js_import cors from {preflight_module};
js_set $object_uri cors.route;

map $http_origin $files_cors_origin {{
    default "";
{origins}}}
{_metadata_maps("files", files)}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
{edge.server_directives()}    root {root};
    charset utf-8;
    charset_types text/javascript application/json;
{_CDN_COMPRESSION}
    types {{
{_types()}    }}
    default_type application/octet-stream;

    location / {{
        if ($request_method = OPTIONS) {{
            rewrite ^ /.cors-preflight last;
        }}
        rewrite ^ $object_uri break;
{added}        add_header Cache-Control $files_cache_control always;
        add_header Access-Control-Allow-Origin $files_cors_origin always;
        js_header_filter cors.metadata;
    }}
    # A preflight's answer is the function's alone, as an answer a CloudFront Function generates is.
    location = /.cors-preflight {{
        internal;
        js_content cors.preflight;
    }}
}}
"""


def render_keycloak_edge_conf(*, listen: str, keycloak: str, edge: NginxEdge) -> str:
    """The CDN in front of Keycloak, as far as who may reach it: its firewall (`edge`), then Keycloak (host:port) with
    the request's own Host, from which Keycloak builds its URLs, as behind the cloud's CDN."""
    return f"""\
# Keycloak behind the CDN's firewall. Rendered by sandbox/nginx.py.
{edge.http}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
{edge.server_directives()}    location / {{
        proxy_pass http://{keycloak};
        # As the CDN forwards it: Keycloak (--proxy-headers=xforwarded) builds its https:// URLs from these.
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Port $server_port;
        proxy_buffer_size 16k;  # Keycloak's login answers carry large cookies
        proxy_buffers 8 16k;
    }}
}}
"""
