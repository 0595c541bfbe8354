"""The DICOMweb proxy's nginx configuration: DICOMweb reads of one archive, with CORS for an allow-list.

One renderer feeds both the proxy VM's cloud-init and the sandbox, so what the tests run against is what a cloud VM
runs. The rendered file is an http-context include (conf.d/ on Debian), assembled from sections of one concern each,
in the order they appear in it.
"""

from __future__ import annotations

import json

from components.render.dicomweb_proxy import archive, study_scope, token_check
from components.render.dicomweb_proxy.conf import Edge, ProxyConf
from components.render.dicomweb_proxy.interface import (
    CACHE_MAX_SIZE,
    CORS_ALLOWED_HEADERS,
    DICOMWEB_PATH,
    DICOMWEB_STORE_PATH,
    ERRORS,
    HEALTH_PATH,
    INSTANCE_UIDS,
    MAX_FRAMES,
    MAX_URI,
    READ_CLASSES,
    RETRY_AFTER_SECONDS,
    ReadClass,
)
from components.render.dicomweb_proxy.quoting import nginx_string


def render_proxy_conf(conf: ProxyConf) -> str:
    """nginx.conf (http context): what the DICOMweb server reads from the http context, the server, then the token
    check's server and the balancer's health check where they are on."""
    login, upstream = conf.login, conf.upstream
    return "".join([
        _HEADING,
        _edge_http(conf.edge),
        _allow_list_maps(conf.allowed_origins, conf.serve_own_host),
        _cors_header_maps(conf.enable_stow, bool(login and login.share)),
        _retry_after_map(conf.edge),
        _UPSTREAM_REQUEST_MAPS,
        _CACHE_CONTROL_MAP,
        _cache_zone(conf.cache_dir),
        upstream.http_block(),
        f"\n# What a request may reach (access.js): its query, its token's study scope, the token itself.\n"
        f"js_import ohif_access from {conf.access_module_path};\n",
        login.http_block() if login else "",
        study_scope.http_block(login.realm.unscoped_readers if login else None),
        conf.archive.http_block(upstream.host_header, upstream.root) if conf.archive else "",
        _dicomweb_server(conf),
        login.check_server(conf.origin_check, conf.resolver) if login else "",
        _health_server(conf) if conf.health_listen else "",
    ])


def _dicomweb_server(conf: ProxyConf) -> str:
    return "".join([
        f"\nserver {{\n    listen {conf.listen};\n    server_name _;\n    server_tokens off;\n",
        conf.edge.server_directives() + conf.edge.rate_limit_directives() if conf.edge else "",
        _REQUEST_LINE,
        conf.origin_check.directives() + "\n",
        _ORIGIN_REFUSED,
        _RESPONSE_HEADERS,
        _ERROR_PAGES,
        _ARCHIVE_HEADERS_HIDDEN,
        _CACHE_RULES,
        _COMPRESSION,
        _to_the_archive(conf),
        conf.login.server_directives() + conf.login.share_location() if conf.login else "",
        archive.access_location(token_check=conf.login is not None) if conf.archive else "",
        _store_location(conf) if conf.enable_stow else "",
        _FRAMES_CAP,
        _READS_HEADING,
        *(_read_location(conf, read_class) for read_class in READ_CLASSES),
        _NOTHING_ELSE,
    ])


# The CORS allow-list's comment stays above the edge's block, where it has always been: the output is unchanged.
_HEADING = """\
# The OHIF DICOMweb proxy: the DICOMweb reads of one archive, and none of its other endpoints.
# Rendered by components/render/dicomweb_proxy/ from the stack config; edits here are overwritten.

# CORS allow-list: a listed Origin is echoed back; any other gets no CORS headers at all.
"""


def _edge_http(edge: Edge | None) -> str:
    return (edge.http if edge else "") + "\n"


# The Origin a same-origin request names is the host it was sent to: scheme-blind, since the CDN allows HTTPS only.
_OWN_HOST = """map "$http_origin|$http_host" $ohif_origin_is_host {
    "~^https?://([^|]+)\\|\\1$" 1;
    default 0;
}
"""
_NOT_OWN_HOST = "map $http_origin $ohif_origin_is_host {\n    default 0;\n}\n"


def _allow_list_maps(allowed_origins: tuple[str, ...], serve_own_host: bool) -> str:
    """Which Origin CORS echoes back, and which the proxy refuses."""
    wildcard = "*" in allowed_origins
    if wildcard:
        echoed, listed = '    "~." "*";\n', ""
    else:
        origins = sorted(set(map(nginx_string, allowed_origins)))
        echoed = "".join(f'    "{o}" $http_origin;\n' for o in origins)
        listed = "".join(f'    "{o}" 1;\n' for o in origins)
    return f"""\
map $http_origin $ohif_cors_origin {{
    default "";
{echoed}}}
# What CORS refuses, the proxy refuses: a request that names an origin not on the list gets no data. One without
# Origin (curl, a same-origin read) is served.
map $http_origin $ohif_origin_listed {{
    "" 1;
    default {1 if wildcard else 0};
{listed}}}
{_OWN_HOST if serve_own_host else _NOT_OWN_HOST}map "$ohif_origin_listed$ohif_origin_is_host" $ohif_origin_refused {{
    "00" 1;
    default 0;
}}
"""


def _cors_header_maps(uploads: bool, shares: bool) -> str:
    """What CORS allows an allowed Origin; nothing for any other. Uploads and share links are POSTs, and a share link
    is revoked with DELETE."""
    methods = ["GET", "HEAD", "OPTIONS"] + (["POST"] if uploads or shares else []) + (["DELETE"] if shares else [])
    return f"""\
map $ohif_cors_origin $ohif_cors_methods {{
    "" "";
    default "{", ".join(methods)}";
}}
map $ohif_cors_origin $ohif_cors_headers {{
    "" "";
    default "{CORS_ALLOWED_HEADERS}";
}}
"""


def _retry_after_map(edge: Edge | None) -> str:
    """The archive down is a 503 to retry shortly; the edge's rate limit says how long its 429 lasts."""
    return f"""\
map $status $ohif_retry_after {{
    503 "{RETRY_AFTER_SECONDS}";
    default {"$ohif_edge_retry_after" if edge else '""'};
}}
"""


_UPSTREAM_REQUEST_MAPS = f"""\
# Orthanc answers HEAD with 404: the archive is asked with GET, and nginx sends the client the headers alone.
map $request_method $ohif_upstream_method {{
    HEAD GET;
    default $request_method;
}}
# The archive compresses an instance's data when the client takes gzip (Orthanc does, frames included): compressed
# once, then cached apart from the uncompressed answer. JSON that names the archive is asked for uncompressed, since
# the proxy rewrites it (_archive_renamed) and then compresses it itself.
map "$ohif_class:$http_accept_encoding" $ohif_upstream_encoding {{
{"".join(f'    "~*^{c.name}:.*gzip" "gzip";{chr(10)}' for c in READ_CLASSES if not c.names_archive)}\
    default "";
}}
# Where a client reached this proxy: the CDN forwards the viewer's Host.
map $http_host $ohif_public_root {{
    default "https://$http_host{DICOMWEB_PATH}/";
}}
"""
_CACHE_CONTROL_MAP = f"""\
# Only a successful read is ever stored: an error (a 401 above all) is never.
map "$status:$ohif_class" $ohif_cache_control {{
{"".join(f'    "200:{c.name}" "{c.cache_control}";{chr(10)}' for c in READ_CLASSES if c.cache_control != "no-store")}\
    default "no-store";
}}
"""


def _cache_zone(cache_dir: str) -> str:
    return f"""\
proxy_cache_path {cache_dir} levels=1:2 keys_zone=ohif_dicomweb:10m max_size={CACHE_MAX_SIZE} inactive=1d
                 use_temp_path=off;

"""


_REQUEST_LINE = f"""\
    # Request lines up to 32k are read whole (with their Origin, so the answer carries CORS), and above
    # {MAX_URI} bytes refused here with CORS; only a line past 32k gets nginx's own 414, without CORS.
    large_client_header_buffers 4 32k;
    default_type application/json;
    # $ohif_class: what a read location caches, empty elsewhere. Never set at this level: the token check's subrequest
    # runs this level's rewrites on the variables it shares with its request, and would empty it there too.
    uninitialized_variable_warn off;
    if ($request_uri ~ "^.{{{MAX_URI + 1}}}") {{ return 414 '{{"error": "URI too long: at most {MAX_URI} bytes"}}'; }}
"""
_ORIGIN_REFUSED = """\
    if ($ohif_origin_refused) { return 403 '{"error": "origin not allowed"}'; }
"""
_RESPONSE_HEADERS = """\
    # On every response, errors included (`always`), so the viewer can read a 401 or 404.
    # CORP cross-origin lets a cross-origin-isolated viewer (COEP require-corp) load the frames.
    add_header Access-Control-Allow-Origin $ohif_cors_origin always;
    add_header Access-Control-Allow-Methods $ohif_cors_methods always;
    add_header Access-Control-Allow-Headers $ohif_cors_headers always;
    add_header Access-Control-Max-Age 600 always;
    add_header Vary "Origin, Accept, Accept-Encoding" always;
    add_header Cache-Control $ohif_cache_control always;
    add_header Cross-Origin-Resource-Policy cross-origin always;
    add_header X-Content-Type-Options nosniff always;
    add_header Retry-After $ohif_retry_after always;

"""
_ERROR_PAGES = "".join([
    "    # Errors, the archive's among them, get the proxy's own short JSON body.\n    proxy_intercept_errors on;\n",
    *(f"    error_page {code} /_ohif_error/{code};\n" for code in ERRORS if code != 503),
    "    error_page 502 503 504 =503 /_ohif_error/503;\n",
    *(f"    location = /_ohif_error/{code} {{ internal; return {code} '{json.dumps({'error': text})}'; }}\n"
      for code, text in ERRORS.items()),
    "\n",
])
_ARCHIVE_HEADERS_HIDDEN = """\
    # Ours are the only CORS headers: some archives (dcm4chee) send `*` themselves.
    proxy_hide_header Access-Control-Allow-Origin;
    proxy_hide_header Access-Control-Allow-Methods;
    proxy_hide_header Access-Control-Allow-Headers;
    proxy_hide_header Access-Control-Allow-Credentials;
    proxy_hide_header Access-Control-Expose-Headers;
    proxy_hide_header Cache-Control;
    proxy_hide_header Expires;
    proxy_hide_header Pragma;
"""
_CACHE_RULES = """\
    # Ours are the only caching rules; responses differ by Accept (content negotiation) and by encoding.
    proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires;
    proxy_cache_key "$dicomweb_path$is_args$args $http_accept $ohif_upstream_encoding";
    proxy_cache_lock on;
    proxy_set_header Accept-Encoding $ohif_upstream_encoding;
"""
_COMPRESSION = """\
    # JSON an archive sends uncompressed is compressed here (tenfold); what it compressed passes as it is.
    # CloudFront's requests carry Via.
    gzip on;
    gzip_types application/dicom+json application/json;
    gzip_proxied any;
    gzip_min_length 1000;
"""


def _to_the_archive(conf: ProxyConf) -> str:
    """How every request reaches the archive: kept alive, with the archive's own Host and, for a cloud DICOM service,
    the proxy's credential."""
    upstream = conf.upstream
    return (f"    proxy_http_version 1.1;\n    proxy_set_header Connection \"\";\n"
            f"    proxy_set_header Host {upstream.host_header};\n"
            + (archive.request_headers("    ") if conf.archive else "")
            + "    proxy_read_timeout 300s;\n" + upstream.server_directives())


def _access_check(conf: ProxyConf) -> str:
    """Before a client's request goes to the archive: the archive's credential (which runs the token check itself),
    or the token check."""
    if conf.archive:
        return archive.ACCESS_CHECK
    return token_check.ACCESS_CHECK if conf.login else ""


def _store_location(conf: ProxyConf) -> str:
    return f"""
    # STOW-RS uploads, enabled in the stack config (archive.enable_stow).
    location ~ "^{DICOMWEB_PATH}/(?<dicomweb_path>{DICOMWEB_STORE_PATH})$" {{
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method !~ ^(GET|HEAD|POST)$) {{ return 405; }}
{study_scope.request_checks(conf.login is not None)}{_access_check(conf)}        client_max_body_size 2g;
        proxy_request_buffering off;
        {conf.upstream.pass_directive()}
    }}
"""


_FRAMES_CAP = f"""
    # More frames than one request may ask for: a clear 400 before the archive is asked.
    location ~ "^{DICOMWEB_PATH}/{INSTANCE_UIDS}/frames/([0-9]+,){{{MAX_FRAMES}}}" {{
        return 400 '{{"error": "at most {MAX_FRAMES} frames per request"}}';
    }}
"""


_READS_HEADING = """
    # DICOMweb reads: QIDO-RS searches and WADO-RS retrieves, by how they are cached. A preflight gets 204 here.
"""


def _read_location(conf: ProxyConf, read_class: ReadClass) -> str:
    cache = (f"        proxy_cache ohif_dicomweb;\n        proxy_cache_valid 200 {read_class.proxy_cache};\n"
             if read_class.proxy_cache else "")
    return f"""\
    location ~ "^{DICOMWEB_PATH}/(?<dicomweb_path>{read_class.path})$" {{
        set $ohif_class {read_class.name};
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method !~ ^(GET|HEAD)$) {{ return 405; }}
        # QIDO paging: a negative or absurd limit or offset makes Orthanc fail with a 500.
        if ($arg_limit !~ "^[0-9]{{0,6}}$") {{ return 400 '{{"error": "limit: a whole number up to 999999"}}'; }}
        if ($arg_offset !~ "^[0-9]{{0,9}}$") {{ return 400 '{{"error": "offset: a whole number"}}'; }}
{study_scope.request_checks(conf.login is not None)}{_access_check(conf)}\
{cache}{_archive_renamed(conf) if read_class.names_archive else ""}        proxy_method $ohif_upstream_method;
        {conf.upstream.pass_directive()}
    }}
"""


def _archive_renamed(conf: ProxyConf) -> str:
    """The archive names itself in its JSON answers (Retrieve URL, BulkDataURI); the proxy puts its own public root in
    its place, so no answer hands out the archive's private address ($ohif_upstream_encoding asks for them
    uncompressed: nginx rewrites plain text only)."""
    return f"""\
        sub_filter_types application/dicom+json application/json;
        sub_filter_once off;
        sub_filter "{nginx_string(conf.upstream.named_root)}" "$ohif_public_root";
"""


_NOTHING_ELSE = """
    # Everything else, the archive's REST API (/instances, /tools/reset, DELETE ...) among it, is not here.
    location / {
        return 404;
    }
}
"""


def _health_server(conf: ProxyConf) -> str:
    """The balancer's health check, on a port of its own that only the balancer reaches (nothing of a client's passes
    here, so it has no origin or token check): 200 only while nginx runs and the archive answers a search, else
    503."""
    upstream, access = conf.upstream, conf.archive
    return f"""
server {{
    listen {conf.health_listen};
    server_name _;
    server_tokens off;
    access_log off;
{upstream.server_directives()}{archive.access_location(token_check=False) if access else ""}\
    location = {HEALTH_PATH} {{
        set $dicomweb_path studies;
        set $args limit=1;
{archive.ACCESS_CHECK if access else ""}        {upstream.pass_directive()}
        proxy_set_header Host {upstream.host_header};
        proxy_set_header Accept application/dicom+json;
{archive.request_headers("        ") if access else ""}        proxy_connect_timeout 3s;
        proxy_read_timeout 5s;
        proxy_intercept_errors on;
        error_page 300 301 302 400 401 403 404 405 500 501 502 503 504 =503 /_ohif_unhealthy;
    }}
    location = /_ohif_unhealthy {{ internal; default_type application/json; return 503 '{{"healthy": false}}'; }}
    location / {{ return 404; }}
}}
"""
