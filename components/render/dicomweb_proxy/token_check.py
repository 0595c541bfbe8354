"""Login on: the proxy requires a valid token of the viewer's realm on every DICOMweb request.

components/render/token_check.js checks each token, in a server of the proxy's own on loopback; the proxy asks it
through `auth_request` and caches its verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from components.render.dicomweb_proxy.origin import OriginCheck
from components.render.dicomweb_proxy.quoting import nginx_string
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE, is_address, tls_directives

TOKEN_CHECK_MODULE = Path(__file__).parent.parent / "token_check.js"
JWKS_CACHE_SECONDS = 300
ACCESS_CHECK = "        auth_request /_ohif_auth;\n"
"""In every location that passes a client's request to the archive."""


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
    unscoped_readers: str = "archive"
    """What a token without a study scope may read (settings.model.UNSCOPED_READERS)."""
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


@dataclass(frozen=True)
class Login:
    """The token check on one host: the realm's, in the host's files."""

    realm: TokenCheck
    files: TokenCheckFiles

    def http_block(self) -> str:
        return f"""
# Tokens: the realm's keys, cached; a token with an unknown `kid` fetches them afresh (key rotation),
# at most once a second so forged `kid`s cannot flood the realm.
js_import ohif_jwt from {self.files.module_path};
js_set $ohif_token_digest ohif_jwt.digest;
proxy_cache_path {self.files.cache_dir} levels=1 keys_zone=ohif_jwks:1m max_size=1m inactive=1h;
# The check's verdicts, by token digest and role, each no longer than its token is valid (token_check.js).
proxy_cache_path {self.files.verdict_cache_dir} levels=1 keys_zone=ohif_verdicts:4m max_size=64m inactive=2m;
limit_req_zone $server_name zone=ohif_jwks_fresh:1m rate=1r/s;
# Reading needs the reader role; storing (POST, STOW-RS) the uploader role.
map $request_method $ohif_jwt_role_needed {{
    POST "{nginx_string(self.realm.upload_role)}";
    default "{nginx_string(self.realm.required_role)}";
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

    def server_directives(self) -> str:
        """In the proxy's server: the 401's challenge, the audit log, and where ACCESS_CHECK asks."""
        return f"""
    add_header WWW-Authenticate $ohif_www_authenticate always;
    access_log {self.files.audit_log} ohif_audit;

    # Every DICOMweb request must carry a valid realm token; preflights (OPTIONS) are answered first. The check runs
    # in a server of its own, whose verdicts nginx caches; a refusal is never cached.
    location = /_ohif_auth {{
        internal;
        proxy_pass http://{self.files.check_listen}/check;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Ohif-Role $ohif_jwt_role_needed;
        proxy_cache ohif_verdicts;
        proxy_cache_key "$ohif_jwt_role_needed $ohif_token_digest";
        proxy_ignore_headers Cache-Control Expires Set-Cookie Vary;  # X-Accel-Expires says how long
    }}
"""

    def check_server(self, origin_check: OriginCheck, resolver: str | None) -> str:
        """The token check itself, on loopback; `resolver`, as the archive's, for a key set by name."""
        jwks_fetch = self._jwks_fetch(resolver)
        return f"""
# The token check itself, on loopback only: what /_ohif_auth asks and caches. It gets the client's headers, and
# makes the same origin check as the proxy.
server {{
    listen {self.files.check_listen};
    server_name _;
    server_tokens off;
{origin_check.directives()}
    location = /check {{
        set $ohif_jwt_issuer "{nginx_string(self.realm.issuer)}";
        set $ohif_jwt_client "{nginx_string(self.realm.client_id)}";
        set $ohif_jwt_role $http_x_ohif_role;
        set $ohif_jwt_skew "{self.realm.skew_seconds}";
        js_content ohif_jwt.check;
    }}
    location = /_ohif_jwks {{
        internal;
{jwks_fetch}        proxy_cache ohif_jwks;
        proxy_cache_valid 200 {JWKS_CACHE_SECONDS}s;
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

    def _jwks_fetch(self, resolver: str | None) -> str:
        jwks_url = self.realm.jwks_url
        url = urlsplit(jwks_url)
        # By name, with a resolver: a variable makes nginx resolve it while running.
        by_name = resolver is not None and not is_address(url.hostname)
        resolve = (f"        resolver {resolver} valid=60s;\n        set $ohif_jwks_url \"{jwks_url}\";\n"
                   if by_name else "")
        target = "$ohif_jwks_url" if by_name else jwks_url
        tls = tls_directives(url.hostname, self.files.key_set_ca_file, "        ") if url.scheme == "https" else ""
        return resolve + f"""\
        subrequest_output_buffer_size 64k;  # a key set with several keys (rotation) exceeds the 4k default
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Authorization "";
        proxy_set_header Host {url.netloc};
        proxy_pass {target};
{tls}"""
