"""The DICOMweb proxy's nginx configuration: DICOMweb reads of one archive, with CORS for an allow-list.

One renderer feeds both the proxy VM's cloud-init and the sandbox, so what the tests run against
is what a cloud VM runs. The rendered file is an http-context include (conf.d/ on Debian).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence
from urllib.parse import urlsplit

from components.render.archive_service import ArchiveCredentialFiles
from settings.services import ArchiveAuth

if TYPE_CHECKING:
    from components.render.edge import NginxEdge

# The UIDs, frame lists and bulk-data tags DICOMweb paths carry; nothing else gets through.
_STUDY = r"studies/[0-9.]+"
_SERIES = rf"{_STUDY}/series/[0-9.]+"
_INSTANCE = rf"{_SERIES}/instances/[0-9.]+"
# QIDO-RS searches and WADO-RS retrieves (PS3.18 §10.4, §10.6) at study, series and instance level, in three classes
# that are cached differently (READ_CLASSES):
# searches, never stored anywhere, so a new study shows at once;
SEARCH_PATH = rf"(studies|series|instances|{_STUDY}/(series|instances)|{_SERIES}/instances)"
# metadata, and whole studies and series, which gain instances while a study arrives: never stored by browsers (the
# archive gives no validator to revalidate a stored copy with, so it would only leave patient data on the
# workstation's disk), kept briefly by the proxy;
CHANGING_PATH = rf"(({_STUDY}|{_SERIES})(/(metadata|rendered|thumbnail))?|{_INSTANCE}/metadata)"
# an instance's data, named by its UID, which never changes: kept by the browser and the proxy.
INSTANCE_PATH = rf"({_INSTANCE}(/(rendered|thumbnail|frames/[0-9,]+(/rendered)?|bulk/[0-9A-Fa-f/]+))?)"
# STOW-RS stores (PS3.18 §10.5).
DICOMWEB_STORE_PATH = r"(studies(/[0-9.]+)?)"

DICOMWEB_PATH = "/dicom-web"
"""Where the proxy serves DICOMweb, on its own host or beside the viewer."""
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
"""The header CloudFront sends with a generated secret; on Azure, Front Door's own X-Azure-FDID plays this part."""
CORS_ALLOWED_HEADERS = "Accept, Authorization, Content-Type"
MAX_FRAMES = 64
"""Frames one request may ask for: OHIF asks for one at a time, and a long list multiplies the answer's size
(`frames/1,1,…` ×3500 made Orthanc send 116 MB for a few KB of URL)."""
MAX_URI = 8192
"""The longest request line the proxy takes: CloudFront's and Front Door's own limit on a URL."""
RETRY_AFTER_SECONDS = 5
# The proxy's cache of instance data and metadata, shared by every reader: with login on, a request reaches it only
# after its token check (auth_request runs in the access phase, the cache in the content phase).
CHANGING_CACHE_SECONDS = 30
"""How long the proxy keeps metadata: how stale a series still arriving may look to a second reader."""
INSTANCE_CACHE = "7d"
CACHE_MAX_SIZE = "2g"  # of the VMs' 10 GB encrypted disk
INSTANCE_CACHE_CONTROL = "private, max-age=31536000, immutable"
"""Browsers keep an instance's data; `private`: never a shared cache, login or not."""
# (location class, proxy cache validity or None, what 200 responses tell browsers)
READ_CLASSES = (
    ("search", SEARCH_PATH, None, "no-store"),
    ("changing", CHANGING_PATH, f"{CHANGING_CACHE_SECONDS}s", "no-store"),
    ("instance", INSTANCE_PATH, INSTANCE_CACHE, INSTANCE_CACHE_CONTROL),
)
# The proxy's own error bodies: short JSON, never the archive's (Orthanc's carry its internals). 502 and 504
# (the archive down or silent) become 503 with Retry-After: the archive, not the request, is at fault.
ERRORS = {
    400: "bad request: not a DICOMweb read this proxy serves",
    401: "a valid token of the viewer realm is required",
    403: "forbidden",
    404: "not found: the proxy serves DICOMweb reads (QIDO-RS, WADO-RS) only",
    405: "method not allowed: GET, HEAD and OPTIONS only",
    413: "request too large",
    429: "too many requests from this address; try again in a minute",
    500: "the archive could not answer this request",
    501: "not implemented",
    503: "the archive is not reachable; try again shortly",
}

_TEMPLATE = """\
# The OHIF DICOMweb proxy: the DICOMweb reads of one archive, and none of its other endpoints.
# Rendered by components/render/proxy_nginx.py from the stack config; edits here are overwritten.

# CORS allow-list: a listed Origin is echoed back; any other gets no CORS headers at all.
{edge_http}
map $http_origin $ohif_cors_origin {{
    default "";
{origin_map}}}
# What CORS refuses, the proxy refuses: a request that names an origin not on the list gets no data. One without
# Origin (curl, a same-origin read) is served.
map $http_origin $ohif_origin_listed {{
    "" 1;
    default {wildcard};
{origin_allowed}}}
{own_host_map}map "$ohif_origin_listed$ohif_origin_is_host" $ohif_origin_refused {{
    "00" 1;
    default 0;
}}
map $ohif_cors_origin $ohif_cors_methods {{
    "" "";
    default "{methods}";
}}
map $ohif_cors_origin $ohif_cors_headers {{
    "" "";
    default "{cors_headers}";
}}
map $status $ohif_retry_after {{
    503 "{retry_after}";
    default {edge_retry_after};
}}
# Orthanc answers HEAD with 404: the archive is asked with GET, and nginx sends the client the headers alone.
map $request_method $ohif_upstream_method {{
    HEAD GET;
    default $request_method;
}}
# The archive compresses when the client takes gzip (Orthanc does, frames included): compressed once, then cached
# apart from the uncompressed answer.
map $http_accept_encoding $ohif_upstream_encoding {{
    "~*gzip" "gzip";
    default "";
}}
# Only a successful read is ever stored: an error (a 401 above all) is never.
map "$status:$ohif_class" $ohif_cache_control {{
{cache_control_map}    default "no-store";
}}
proxy_cache_path {cache_dir} levels=1:2 keys_zone=ohif_dicomweb:10m max_size={cache_max_size} inactive=1d
                 use_temp_path=off;

{upstream_block}{auth_http}{archive_http}
server {{
    listen {listen};
    server_name _;
    server_tokens off;
{edge_server}    # Request lines up to 32k are read whole (with their Origin, so the answer carries CORS), and above
    # {max_uri} bytes refused here with CORS; only a line past 32k gets nginx's own 414, without CORS.
    large_client_header_buffers 4 32k;
    default_type application/json;
    set $ohif_class "";  # what a read location caches; nothing elsewhere
    if ($request_uri ~ "^.{{{max_uri_plus_one}}}") {{ return 414 '{{"error": "URI too long: at most {max_uri} bytes"}}'; }}
{origin_check}
    if ($ohif_origin_refused) {{ return 403 '{{"error": "origin not allowed"}}'; }}
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

    # Errors, the archive's among them, get the proxy's own short JSON body.
    proxy_intercept_errors on;
{error_pages}
    # Ours are the only CORS headers: some archives (dcm4chee) send `*` themselves.
    proxy_hide_header Access-Control-Allow-Origin;
    proxy_hide_header Access-Control-Allow-Methods;
    proxy_hide_header Access-Control-Allow-Headers;
    proxy_hide_header Access-Control-Allow-Credentials;
    proxy_hide_header Access-Control-Expose-Headers;
    proxy_hide_header Cache-Control;
    proxy_hide_header Expires;
    proxy_hide_header Pragma;
    # Ours are the only caching rules; responses differ by Accept (content negotiation) and by encoding.
    proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires;
    proxy_cache_key "$dicomweb_path$is_args$args $http_accept $ohif_upstream_encoding";
    proxy_cache_lock on;
    proxy_set_header Accept-Encoding $ohif_upstream_encoding;
    # JSON an archive sends uncompressed is compressed here (tenfold); what it compressed passes as it is.
    # CloudFront's requests carry Via.
    gzip on;
    gzip_types application/dicom+json application/json;
    gzip_proxied any;
    gzip_min_length 1000;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host {upstream_host_header};
{archive_headers}    proxy_read_timeout 300s;
{upstream_resolve}{upstream_tls}{auth_locations}{archive_location}{store_location}
    # More frames than one request may ask for: a clear 400 before the archive is asked.
    location ~ "^{public_root}/{instance_path}/frames/([0-9]+,){{{max_frames}}}" {{
        return 400 '{{"error": "at most {max_frames} frames per request"}}';
    }}

    # DICOMweb reads: QIDO-RS searches and WADO-RS retrieves, by how they are cached. A preflight gets 204 here.
{read_locations}
    # Everything else, the archive's REST API (/instances, /tools/reset, DELETE ...) among it, is not here.
    location / {{
        return 404;
    }}
}}
{check_server}{health_server}"""

# The balancer's health check, on a port of its own that only the balancer reaches (nothing of a client's passes
# here, so it has no origin or token check): 200 only while nginx runs and the archive answers a search, else 503.
_HEALTH_SERVER = """
server {{
    listen {health_listen};
    server_name _;
    server_tokens off;
    access_log off;
{upstream_resolve}{upstream_tls}{archive_location}    location = {health_path} {{
        set $dicomweb_path studies;
        set $args limit=1;
{archive_access}        proxy_pass {upstream_scheme}://{upstream_target}{upstream_root}$dicomweb_path$is_args$args;
        proxy_set_header Host {upstream_host_header};
        proxy_set_header Accept application/dicom+json;
{archive_headers}        proxy_connect_timeout 3s;
        proxy_read_timeout 5s;
        proxy_intercept_errors on;
        error_page 300 301 302 400 401 403 404 405 500 501 502 503 504 =503 /_ohif_unhealthy;
    }}
    location = /_ohif_unhealthy {{ internal; default_type application/json; return 503 '{{"healthy": false}}'; }}
    location / {{ return 404; }}
}}
"""
HEALTH_PATH = "/healthz"

# The Origin a same-origin request names is the host it was sent to: scheme-blind, since the CDN allows HTTPS only.
_OWN_HOST = """map "$http_origin|$http_host" $ohif_origin_is_host {
    "~^https?://([^|]+)\\|\\1$" 1;
    default 0;
}
"""

_READ_LOCATION = """    location ~ "^{public_root}/(?<dicomweb_path>{path})$" {{
        set $ohif_class {name};
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method !~ ^(GET|HEAD)$) {{ return 405; }}
        # QIDO paging: a negative or absurd limit or offset makes Orthanc fail with a 500.
        if ($arg_limit !~ "^[0-9]{{0,6}}$") {{ return 400 '{{"error": "limit: a whole number up to 999999"}}'; }}
        if ($arg_offset !~ "^[0-9]{{0,9}}$") {{ return 400 '{{"error": "offset: a whole number"}}'; }}
{auth_check}{cache}        proxy_method $ohif_upstream_method;
        proxy_pass {upstream_scheme}://{upstream_target}{upstream_root}$dicomweb_path$is_args$args;
    }}
"""

_ORIGIN_CHECK = """
    # Only our CDN sends this value: a request without it did not come through our CDN. (A body of its own:
    # an error page would run this server-level check again and end in nginx's HTML.)
    if ($http_{header_var} != "{value}") {{ return 403 '{{"error": "forbidden"}}'; }}
"""

# An archive by IP address (or by a name resolved at start-up): a fixed upstream, with keep-alive to save a handshake per image frame.
_UPSTREAM_BY_ADDRESS = """
# The archive. Keep-alive saves a TCP (and TLS) handshake per image frame.
upstream ohif_archive {{
    server {host_port};
    keepalive 16;
}}
"""
# An archive by name, with the cloud's resolver: resolved while running (a variable in proxy_pass), so a
# DNS change is followed and a name that does not resolve yet does not stop nginx from starting.
_UPSTREAM_BY_NAME = """    resolver {resolver} valid=60s;
    set $ohif_archive "{host_port}";
"""

SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
_UPSTREAM_TLS = """    proxy_ssl_server_name on;
    proxy_ssl_name {host};
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate {ca_file};
"""

_STORE_LOCATION = """
    # STOW-RS uploads, enabled in the stack config (archive.enable_stow).
    location ~ "^{public_root}/(?<dicomweb_path>{store_path})$" {{
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method !~ ^(GET|HEAD|POST)$) {{ return 405; }}
{auth_check}        client_max_body_size 2g;
        proxy_request_buffering off;
        proxy_pass {upstream_scheme}://{upstream_target}{upstream_root}$dicomweb_path$is_args$args;
    }}
"""


@dataclass(frozen=True)
class TokenCheck:
    """The realm whose tokens the proxy accepts (components/render/token_check.js checks them)."""

    issuer: str
    """The realm URL tokens name as `iss`: https://<keycloak>/realms/<realm>."""
    jwks_url: str
    """Where the proxy fetches the realm's keys (the same host or an internal address)."""
    client_id: str
    """The viewer client, as `aud` or `azp`."""
    required_role: str
    """The realm role a user needs to read studies."""
    upload_role: str
    """The realm role a user needs to store studies (STOW-RS, where enabled)."""
    skew_seconds: int = 30


@dataclass(frozen=True)
class TokenCheckFiles:
    """Where a host keeps the token check: the target's choice, not the realm's."""

    module_path: str
    """Where token_check.js lies on the proxy host."""
    cache_dir: str
    """Where nginx caches the key set."""
    verdict_cache_dir: str
    """Where nginx caches the check's verdicts (by token digest: no token is written)."""
    check_listen: str
    """The loopback address the check's own server listens on, so that its verdicts can be cached."""
    audit_log: str
    """Where the proxy writes who read what (each request's token subject and path): an nginx access_log target."""
    key_set_ca_file: str = SYSTEM_CA_FILE
    """The CAs nginx trusts when it fetches an https:// key set (the sandbox: its run's own CA)."""


TOKEN_CHECK_MODULE = Path(__file__).with_name("token_check.js")
ARCHIVE_CREDENTIALS_MODULE = Path(__file__).with_name("archive_credentials.js")

_ARCHIVE_HTTP = """
# The archive is a cloud DICOM service: the proxy proves itself with its VM's own cloud identity
# (archive_credentials.js), in place of the browser's Authorization, which never goes past the proxy.
js_import ohif_archive from {module_path};
variables_hash_max_size 2048;  # the variables below outgrow the default table
map $host $ohif_archive_auth {{ default "{scheme}"; }}
map $host $ohif_archive_metadata {{ default "{metadata_url}"; }}
map $host $ohif_archive_region {{ default "{region}"; }}
map $host $ohif_archive_service {{ default "{service}"; }}
map $host $ohif_archive_resource {{ default "{resource}"; }}
map $host $ohif_archive_credentials_file {{ default "{credentials_file}"; }}
map $host $ohif_archive_host {{ default "{host}"; }}
map $host $ohif_archive_root {{ default "{root}"; }}
# Each evaluated once per request, so the headers below agree on one credential and one time.
js_set $ohif_archive_credential ohif_archive.credential;
js_set $ohif_amz_date ohif_archive.amzDate;
js_set $ohif_archive_authorization ohif_archive.authorization;
js_set $ohif_archive_security_token ohif_archive.securityToken;
"""

# Sent on every request to the archive (an empty one is not sent: X-Amz-* on Azure).
_ARCHIVE_HEADERS = """    proxy_set_header Authorization $ohif_archive_authorization;
    proxy_set_header X-Amz-Date $ohif_amz_date;
    proxy_set_header X-Amz-Security-Token $ohif_archive_security_token;
"""

# Before a request goes to the archive: the realm token check (where login is on), then a fresh credential.
_ARCHIVE_LOCATION = """
    location = /_ohif_archive_access {{
        internal;
        set $ohif_archive_token_check {token_check};
        js_content ohif_archive.access;
    }}
"""
_ARCHIVE_ACCESS = "        auth_request /_ohif_archive_access;\n"
JWKS_CACHE_SECONDS = 300

_AUTH_HTTP = """
# Tokens: the realm's keys, cached; a token with an unknown `kid` fetches them afresh (key rotation),
# at most once a second so forged `kid`s cannot flood the realm.
js_import ohif_jwt from {module_path};
js_set $ohif_token_digest ohif_jwt.digest;
proxy_cache_path {cache_dir} levels=1 keys_zone=ohif_jwks:1m max_size=1m inactive=1h;
# The check's verdicts, by token digest and role, each no longer than its token is valid (token_check.js).
proxy_cache_path {verdict_cache_dir} levels=1 keys_zone=ohif_verdicts:4m max_size=64m inactive=2m;
limit_req_zone $server_name zone=ohif_jwks_fresh:1m rate=1r/s;
# Reading needs the reader role; storing (POST, STOW-RS) the uploader role.
map $request_method $ohif_jwt_role_needed {{
    POST "{upload_role}";
    default "{required_role}";
}}
map $status $ohif_www_authenticate {{
    401 'Bearer realm="dicomweb"';
    default "";
}}
# Who read what: an archive (a cloud DICOM service's own audit log above all) sees only the proxy's identity.
js_set $ohif_reader ohif_jwt.reader;
log_format ohif_audit escape=json '{{"time": "$time_iso8601", "reader": "$ohif_reader", "method": "$request_method", '
                                  '"path": "$uri", "status": $status}}';
"""

_AUTH_LOCATIONS = """
    add_header WWW-Authenticate $ohif_www_authenticate always;
    access_log {audit_log} ohif_audit;

    # Every DICOMweb request must carry a valid realm token; preflights (OPTIONS) are answered first. The check runs
    # in a server of its own, whose verdicts nginx caches; a refusal is never cached.
    location = /_ohif_auth {{
        internal;
        proxy_pass http://{check_listen}/check;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Ohif-Role $ohif_jwt_role_needed;
        proxy_cache ohif_verdicts;
        proxy_cache_key "$ohif_jwt_role_needed $ohif_token_digest";
        proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;  # X-Accel-Expires says how long
    }}
"""

_CHECK_SERVER = """
# The token check itself, on loopback only: what /_ohif_auth asks and caches. It gets the client's headers, and
# makes the same origin check as the proxy.
server {{
    listen {check_listen};
    server_name _;
    server_tokens off;
{origin_check}
    location = /check {{
        set $ohif_jwt_issuer "{issuer}";
        set $ohif_jwt_client "{client_id}";
        set $ohif_jwt_role $http_x_ohif_role;
        set $ohif_jwt_skew "{skew}";
        js_content ohif_jwt.check;
    }}
    location = /_ohif_jwks {{
        internal;
{jwks_fetch}        proxy_cache ohif_jwks;
        proxy_cache_valid 200 {cache_seconds}s;
        proxy_cache_use_stale error timeout updating;
    }}
    location = /_ohif_jwks_fresh {{
        internal;
        limit_req zone=ohif_jwks_fresh burst=5 nodelay;
{jwks_fetch}    }}
    location / {{
        return 404;
    }}
}}
"""

_JWKS_FETCH = """        subrequest_output_buffer_size 64k;  # a key set with several keys (rotation) exceeds the 4k default
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Authorization "";
        proxy_set_header Host {host};
        proxy_pass {url};
{tls}"""


def _jwks_fetch(auth: TokenCheck, resolver: str | None, ca_file: str) -> str:
    url = urlsplit(auth.jwks_url)
    tls = _UPSTREAM_TLS.format(host=url.hostname, ca_file=ca_file).replace("    ", "        ") if url.scheme == "https" else ""
    if resolver is None or _is_address(url.hostname):
        return _JWKS_FETCH.format(host=url.netloc, url=auth.jwks_url, tls=tls)
    # By name, with a resolver: a variable makes nginx resolve it while running.
    return (f"        resolver {resolver} valid=60s;\n        set $ohif_jwks_url \"{auth.jwks_url}\";\n"
            + _JWKS_FETCH.format(host=url.netloc, url="$ohif_jwks_url", tls=tls))


def _is_address(host: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host))


def _nginx_string(value: str) -> str:
    """A value safe inside double quotes in nginx.conf."""
    if re.search(r'["\\$\s;{}]', value):
        raise ValueError(f"{value!r} cannot be placed in nginx.conf")
    return value


# Where a VM's nginx finds the origin check when its value is a secret, written at boot from the cloud's secret store.
ORIGIN_CHECK_PATH = "/etc/nginx/ohif-secrets/origin-check.conf"
# What that file holds until the secret arrives: every request refused.
ORIGIN_CHECK_CLOSED = "    return 403 '{\"error\": \"forbidden\"}';\n"


def origin_check_file(origin_check: tuple[str, str] | str) -> list[dict]:
    """The cloud-init `write_files` entry that closes the door until a secret origin check arrives; none inline."""
    if not isinstance(origin_check, str):
        return []
    return [{"path": origin_check, "permissions": "0600", "content": ORIGIN_CHECK_CLOSED}]


def render_origin_check(header: str, value: str) -> str:
    """The server-level check that a request came through our CDN: `header` carries `value`, or 403."""
    return _ORIGIN_CHECK.format(header_var=header.lower().replace("-", "_"), value=_nginx_string(value))


def origin_check_directive(origin_check: tuple[str, str] | str | None) -> str:
    """The check in place, or an include of the file that holds it (written at boot from a secret store)."""
    if isinstance(origin_check, str):
        return f"    include {origin_check};\n"
    return render_origin_check(*origin_check) if origin_check else ""


def render_proxy_conf(*, listen: str, upstream_url: str, allowed_origins: Sequence[str], cache_dir: str,
                      enable_stow: bool = False, origin_check: tuple[str, str] | str | None = None,
                      resolver: str | None = None, auth: TokenCheck | None = None,
                      auth_files: TokenCheckFiles | None = None, serve_own_host: bool = False,
                      edge: NginxEdge | None = None, health_listen: str | None = None,
                      archive_auth: ArchiveAuth | None = None, archive_files: ArchiveCredentialFiles | None = None,
                      upstream_ca_file: str = SYSTEM_CA_FILE) -> str:
    """nginx.conf (http context) for a proxy at `/dicom-web/` in front of the DICOMweb root `upstream_url`, caching
    reads in `cache_dir`.

    `allowed_origins` are the viewer origins CORS allows (`*` only where settings allowed it);
    `origin_check` (header, value), when set, is what our CDN sends, and requests without it get 403. Where the value
    is a secret, give instead the path of a file holding `render_origin_check(header, value)`: the VM writes it at
    boot from the cloud's secret store (components/render/secret_files.py), so the secret is not in user data.
    `resolver` is the DNS server nginx asks, while running, for a name (the cloud's VPC resolver);
    without one, names are resolved once at start-up (the sandbox: `localhost`).
    `auth`, when set, requires a valid token of that realm on every DICOMweb request; `auth_files`
    says where the host keeps the check's module and key cache.
    `serve_own_host`: a proxy mounted on the viewer's site also serves the Origin of the host the request was sent
    to (the site's, which the CDN forwards as Host): the site's config names the proxy, so the proxy's cannot name
    the site's generated host name without a cycle.
    `edge`, in the sandbox only, stands in for the CDN's firewall in front of a proxy at its own URL (the allow-list
    and the rate limit, components/render/edge.py); on a cloud VM the CDN's WAF does that, and the VM sees only
    the CDN's addresses.
    `health_listen`, when set, serves the balancer's health check there (HEALTH_PATH): 200 while the archive answers.
    `archive_auth`, for a cloud DICOM service (components/render/archive_service.py), has the proxy sign or carry
    its VM's credential on every request to the archive; `archive_files` says where the host keeps it.
    `upstream_ca_file`: the CAs nginx trusts for an https:// archive (the sandbox: its run's own CA).
    """
    up = urlsplit(upstream_url)
    default_port = 443 if up.scheme == "https" else 80
    host = f"[{up.hostname}]" if ":" in up.hostname else up.hostname
    host_port = f"{host}:{up.port or default_port}"
    wildcard = any(o == "*" for o in allowed_origins)
    if wildcard:
        origin_map, origin_allowed = '    "~." "*";\n', ""
    else:
        origins = sorted(set(map(_nginx_string, allowed_origins)))
        origin_map = "".join(f'    "{o}" $http_origin;\n' for o in origins)
        origin_allowed = "".join(f'    "{o}" 1;\n' for o in origins)
    methods = "GET, HEAD, OPTIONS" + (", POST" if enable_stow else "")
    error_pages = "".join(f"    error_page {code} /_ohif_error/{code};\n" for code in ERRORS if code != 503)
    error_pages += "    error_page 502 503 504 =503 /_ohif_error/503;\n"
    error_pages += "".join(
        f"    location = /_ohif_error/{code} {{ internal; return {code} '{json.dumps({'error': text})}'; }}\n"
        for code, text in ERRORS.items())
    if (auth is None) != (auth_files is None):
        raise ValueError("auth and auth_files go together")
    if (archive_auth is None) != (archive_files is None):
        raise ValueError("archive_auth and archive_files go together")
    if archive_auth and archive_auth.scheme == "sigv4" and enable_stow:
        raise ValueError("STOW-RS to a SigV4 archive would need each upload's hash before it is sent")
    # Without a resolver, nginx resolves a name once, at start-up, as it does an address.
    by_address = _is_address(up.hostname) or resolver is None
    shared = {"public_root": DICOMWEB_PATH, "upstream_scheme": up.scheme, "upstream_root": up.path.rstrip("/") + "/",
              "upstream_target": "ohif_archive" if by_address else "$ohif_archive",
              "auth_check": (_ARCHIVE_ACCESS if archive_auth else
                             "        auth_request /_ohif_auth;\n" if auth else "")}
    read_locations = "".join(_READ_LOCATION.format(
        name=name, path=path, cache=f"        proxy_cache ohif_dicomweb;\n        proxy_cache_valid 200 {valid};\n"
        if valid else "", **shared) for name, path, valid, _ in READ_CLASSES)
    cache_control_map = "".join(f'    "200:{name}" "{value}";\n' for name, _, _, value in READ_CLASSES
                                if value != "no-store")
    origin_check_block = origin_check_directive(origin_check)
    upstream_resolve = "" if by_address else _UPSTREAM_BY_NAME.format(resolver=resolver, host_port=host_port)
    upstream_tls = _UPSTREAM_TLS.format(host=up.hostname, ca_file=upstream_ca_file) if up.scheme == "https" else ""
    upstream_host_header = up.netloc if up.port else up.hostname
    archive = _archive_blocks(archive_auth, archive_files, upstream_host_header, shared["upstream_root"])
    return _TEMPLATE.format(
        edge_http=edge.http if edge else "",
        edge_server=edge.server_directives() + edge.rate_limit_directives() if edge else "",
        edge_retry_after="$ohif_edge_retry_after" if edge else '""',
        origin_map=origin_map,
        origin_allowed=origin_allowed,
        wildcard=1 if wildcard else 0,
        own_host_map=_OWN_HOST if serve_own_host else 'map $http_origin $ohif_origin_is_host {\n    default 0;\n}\n',
        cache_control_map=cache_control_map,
        cache_dir=cache_dir,
        cache_max_size=CACHE_MAX_SIZE,
        read_locations=read_locations,
        methods=methods,
        cors_headers=CORS_ALLOWED_HEADERS,
        retry_after=RETRY_AFTER_SECONDS,
        max_uri=MAX_URI,
        max_uri_plus_one=MAX_URI + 1,
        max_frames=MAX_FRAMES,
        instance_path=_INSTANCE,
        error_pages=error_pages,
        upstream_block=_UPSTREAM_BY_ADDRESS.format(host_port=host_port) if by_address else "",
        upstream_resolve=upstream_resolve,
        upstream_host_header=upstream_host_header,
        listen=listen,
        origin_check=origin_check_block,
        upstream_tls=upstream_tls,
        store_location=_STORE_LOCATION.format(store_path=DICOMWEB_STORE_PATH, **shared) if enable_stow else "",
        auth_http=_AUTH_HTTP.format(module_path=auth_files.module_path, cache_dir=auth_files.cache_dir,
                                    verdict_cache_dir=auth_files.verdict_cache_dir,
                                    required_role=_nginx_string(auth.required_role),
                                    upload_role=_nginx_string(auth.upload_role)) if auth else "",
        auth_locations=_AUTH_LOCATIONS.format(check_listen=auth_files.check_listen, audit_log=auth_files.audit_log)
        if auth else "",
        archive_http=archive["http"],
        archive_headers=archive["headers"],
        archive_location=archive["location"].format(token_check="on" if auth else "off"),
        check_server=_CHECK_SERVER.format(
            check_listen=auth_files.check_listen, origin_check=origin_check_block, issuer=_nginx_string(auth.issuer),
            client_id=_nginx_string(auth.client_id), skew=auth.skew_seconds, cache_seconds=JWKS_CACHE_SECONDS,
            jwks_fetch=_jwks_fetch(auth, resolver, auth_files.key_set_ca_file)) if auth else "",
        health_server=_HEALTH_SERVER.format(
            health_listen=health_listen, health_path=HEALTH_PATH, upstream_resolve=upstream_resolve,
            upstream_tls=upstream_tls, upstream_host_header=upstream_host_header,
            archive_headers=archive["headers"].replace("    proxy", "        proxy"),
            archive_location=archive["location"].format(token_check="off"),
            archive_access=_ARCHIVE_ACCESS if archive_auth else "",
            **shared) if health_listen else "",
        **shared,
    )


def _archive_blocks(archive_auth: ArchiveAuth | None, files: ArchiveCredentialFiles | None, host: str,
                    root: str) -> dict[str, str]:
    """The config that has the proxy prove itself to a cloud DICOM service; empty for any other archive."""
    if archive_auth is None:
        return {"http": "", "headers": "", "location": ""}
    return {"http": _ARCHIVE_HTTP.format(module_path=files.module_path, scheme=archive_auth.scheme,
                                         metadata_url=_nginx_string(files.metadata_url),
                                         region=_nginx_string(archive_auth.region) if archive_auth.region else "",
                                         service=archive_auth.service, resource=_nginx_string(archive_auth.resource)
                                         if archive_auth.resource else "",
                                         credentials_file=files.credentials_file, host=host, root=root),
            "headers": _ARCHIVE_HEADERS, "location": _ARCHIVE_LOCATION}
