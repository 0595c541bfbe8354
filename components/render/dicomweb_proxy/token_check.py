"""Login on: the proxy requires a valid token of the viewer's realm on every DICOMweb request.

components/render/access.js checks each token, in a server of the proxy's own on loopback; the proxy asks it
through `auth_request` and caches its verdicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.origin import OriginCheck
from components.render.dicomweb_proxy.quoting import nginx_string
from components.render.dicomweb_proxy.share_store import SHARE_CHECK_SECONDS, ShareStore
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE, is_address, tls_directives
from settings.model import SHARE_MINUTES, ShareSettings

JWKS_CACHE_SECONDS = 300
ACCESS_CHECK = "        auth_request /_ohif_auth;\n"
"""In every location that passes a client's request to the archive."""
SHARES_PATH = f"{DICOMWEB_PATH}/shares"
"""Where a sharer creates (POST) and lists (GET) share links, and revokes one (DELETE <SHARES_PATH>/<id>)."""
SHARES_CLASS = "shares"
"""$ohif_class of the share endpoint, which the token check asks for the sharer role."""
SHARE_KEYS_CLOSED = "map $host $ohif_share_keys { default ''; }\n"
"""The share keys' file until the keys arrive from the secret store: no share link is made or accepted."""


def share_keys_conf(keys: dict[str, str], signing: str) -> str:
    """The share keys' file, an http-context include: each key ID's key (base64url), and which one signs."""
    document = json.dumps({"signing": signing, "keys": keys}, sort_keys=True, separators=(",", ":"))
    if signing not in keys or "'" in document or "\\" in document:
        raise ValueError("share keys: base64url keys, the signing one among them")
    return f"map $host $ohif_share_keys {{ default '{document}'; }}\n"


@dataclass(frozen=True)
class TokenCheck:
    """The realm whose tokens the proxy accepts (components/render/access.js checks them)."""

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
    share_keys_path: str = ""
    """Where the share keys' file lies (share_keys_conf), written from the secret store; with share links only."""


@dataclass(frozen=True)
class Login:
    """The token check on one host: the realm's, in the host's files."""

    realm: TokenCheck
    files: TokenCheckFiles
    share: ShareSettings | None = None
    """Share links: the proxy signs them for sharers, and reads studies with them."""
    store: ShareStore | None = None
    """With share links: where their records and revocations are kept."""

    def __post_init__(self) -> None:
        if (self.share is None) != (self.store is None):
            raise ValueError("share links need their store, and a store goes with share links only")

    def http_block(self) -> str:
        share = self.share
        return f"""
# Tokens: the realm's keys, cached; a token with an unknown `kid` fetches them afresh (key rotation),
# at most once a second so forged `kid`s cannot flood the realm.
js_set $ohif_token_digest ohif_access.digest;
proxy_cache_path {self.files.cache_dir} levels=1 keys_zone=ohif_jwks:1m max_size=1m inactive=1h;
# The check's verdicts, by token digest and role, each no longer than its token is valid (access.js).
proxy_cache_path {self.files.verdict_cache_dir} levels=1 keys_zone=ohif_verdicts:4m max_size=64m inactive=2m;
limit_req_zone $server_name zone=ohif_jwks_fresh:1m rate=1r/s;
# Reading needs the reader role; storing (POST, STOW-RS) the uploader role{"; sharing, the sharer's" if share else ""}.
map "$ohif_class:$request_method" $ohif_jwt_role_needed {{
{f'    "~^{SHARES_CLASS}:" "{nginx_string(share.sharer_role)}";{chr(10)}' if share else ""}\
    "~:POST$" "{nginx_string(self.realm.upload_role)}";
    default "{nginx_string(self.realm.required_role)}";
}}{self._share_keys()}
map $status $ohif_www_authenticate {{
    401 'Bearer realm="dicomweb"';
    default "";
}}
# Who read what: an archive (a cloud DICOM service's own audit log above all) sees only the proxy's identity. A share
# link's creation names the link (access.js sets $ohif_share_id); its reads and its revocation name it in the reader
# and the path.
js_set $ohif_reader ohif_access.reader;
js_var $ohif_share_id;
log_format ohif_audit escape=json '{{"time": "$time_iso8601", "reader": "$ohif_reader", "method": "$request_method", '
                                  '"path": "$uri", "share": "$ohif_share_id", "status": $status}}';
{self._store_http()}"""

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
        set $ohif_jwt_reader_role "{nginx_string(self.realm.required_role)}";
        set $ohif_jwt_skew "{self.realm.skew_seconds}";
        set $ohif_share_seconds {SHARE_CHECK_SECONDS};
        js_content ohif_access.check;
    }}
{self.store.revoked_location() if self.store else ""}\
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
{self.store.server(resolver) if self.store else ""}"""

    def boot_files(self) -> list[dict]:
        """The cloud-init `write_files` entries it needs before nginx starts: with share links, the keys' file closed
        until the keys arrive from the secret store (as an OriginCheck's boot_files)."""
        if not self.share:
            return []
        return [{"path": self.files.share_keys_path, "permissions": "0600", "content": SHARE_KEYS_CLOSED}]

    def _store_http(self) -> str:
        if not self.store:
            return ""
        return self.store.http_block() + self.store.cache_zone()

    def _share_keys(self) -> str:
        if not self.share:
            return ""
        if not self.files.share_keys_path:
            raise ValueError("share links need the share keys' file")
        return (f"\n# Share links' signing keys (access.js), from the cloud's secret store.\n"
                f"include {self.files.share_keys_path};")

    def share_location(self) -> str:
        """The share endpoint: a sharer's POST {"study": uid, "minutes": n} answers a link's token, GET lists their
        links (access.js: shares), and DELETE <SHARES_PATH>/<id> revokes one (revokeShare)."""
        share = self.share
        if not share:
            return ""
        return f"""
    # Share links: a user with the sharer role asks for one study they read themselves, or lists their links.
    location = {SHARES_PATH} {{
        set $ohif_class {SHARES_CLASS};
        set $dicomweb_path "";  # createShare asks the study scope about the study's path
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method !~ ^(GET|POST)$) {{ return 405; }}
{ACCESS_CHECK}\
        set $ohif_share_reader_role "{nginx_string(self.realm.required_role)}";
        set $ohif_share_default_minutes {share.default_minutes};
        set $ohif_share_min_minutes {SHARE_MINUTES[0]};
        set $ohif_share_max_minutes {share.max_minutes};
        client_max_body_size 4k;
        client_body_buffer_size 4k;
        js_content ohif_access.shares;
    }}
    # Its creator, or a sharer with the share admin role, revokes one link.
    location ~ "^{SHARES_PATH}/(?<ohif_revoke_id>[A-Za-z0-9_-]{{22}})$" {{
        set $ohif_class {SHARES_CLASS};
        if ($request_method = OPTIONS) {{ return 204; }}
        if ($request_method != DELETE) {{ return 405; }}
{ACCESS_CHECK}\
        set $ohif_share_admin_role "{nginx_string(share.admin_role)}";
        js_content ohif_access.revokeShare;
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
