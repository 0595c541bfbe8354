"""The share links' store: each link's record and each revocation in the cloud's object storage (an S3 bucket, a Blob
container), which every proxy reads and writes with its VM's own identity, so a revocation reaches every proxy and
outlives every VM.

    access.js (createShare, listShares, revokeShare) ──> the store's server, on loopback ──> S3 / Blob (HTTPS)
    access.js (checkShare) ──> /_ohif_revoked/<id>, cached SHARE_CHECK_SECONDS ──┘

components/render/share_store.js serves the store's server; it signs with archive_credentials.js, which it imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from components.render.dicomweb_proxy.quoting import nginx_string
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE
from settings.model import SHARE_MINUTES
from settings.services import ArchiveAuth

SHARE_STORE_MODULE = Path(__file__).parent.parent / "share_store.js"
SHARE_CHECK_SECONDS = 20
"""How long a proxy keeps the store's answer about a link's revocation, and its verdict on a share token: a
revocation reaches every proxy within twice this."""
RECORD_DAYS = math.ceil(SHARE_MINUTES[1] / (24 * 60)) + 1
"""How long the store keeps a link's record or revocation: past the longest link anyone can make."""
RECOVERY_DAYS = 7
"""How long an overwritten or deleted record or revocation can be brought back (versions, soft delete)."""
BLOB_STORAGE_AUDIENCE = "https://storage.azure.com/"
"""The audience of a managed identity's token for Azure Storage."""


@dataclass(frozen=True)
class ShareStoreAt:
    """Where a stack's share store is, and how a proxy proves itself to it: the target's resources."""

    url: str
    """https://<host>[/<bucket or container>]: the root its keys are below."""
    auth: ArchiveAuth
    """sigv4 (S3: region, service s3) or bearer (Blob: the storage audience), as for a cloud DICOM service."""


@dataclass(frozen=True)
class ShareStoreFiles:
    """Where a host keeps the store's module and credential: the target's choice."""

    module_dir: str
    """Where share_store.js and archive_credentials.js lie (nginx's js_path: the one imports the other)."""
    credentials_file: str
    """The VM identity's credential for the store, in a directory only nginx's workers enter."""
    metadata_url: str
    """The instance metadata endpoint (the sandbox: its stand-in)."""
    listen: str
    """The loopback address of the store's server."""
    cache_dir: str
    """Where nginx caches the store's answers about revocations."""
    ca_file: str = SYSTEM_CA_FILE
    """The CAs the store's certificate is checked against (the sandbox: its run's own CA)."""


@dataclass(frozen=True)
class ShareStore:
    at: ShareStoreAt
    files: ShareStoreFiles

    def http_block(self) -> str:
        url, auth, files = urlsplit(self.at.url), self.at.auth, self.files
        if url.scheme != "https" or not url.hostname or url.query:
            raise ValueError(f"share store: an https:// URL with no query, not {self.at.url!r}")
        return f"""
# Share links' records and revocations, in the cloud's storage (share_store.js), reached with the VM's identity.
js_path {files.module_dir};
js_import ohif_share_store from share_store.js;
map $host $ohif_share_store_listen {{ default "{files.listen}"; }}
map $host $ohif_share_store_auth {{ default "{auth.scheme}"; }}
map $host $ohif_share_store_host {{ default "{nginx_string(url.netloc)}"; }}
map $host $ohif_share_store_root {{ default "{nginx_string(url.path.rstrip("/"))}"; }}
map $host $ohif_share_store_region {{ default "{nginx_string(auth.region)}"; }}
map $host $ohif_share_store_resource {{ default "{nginx_string(auth.resource)}"; }}
map $host $ohif_share_store_metadata {{ default "{nginx_string(files.metadata_url)}"; }}
map $host $ohif_share_store_credentials_file {{ default "{files.credentials_file}"; }}
"""

    def server(self, resolver: str | None) -> str:
        """The store's server, on loopback only: what access.js asks."""
        return f"""
# The share store, on loopback only: access.js reads and writes links' records and revocations here.
server {{
    listen {self.files.listen};
    server_name _;
    server_tokens off;
{f"    resolver {resolver} valid=60s;{chr(10)}" if resolver else ""}\
    js_fetch_trusted_certificate {self.files.ca_file};
    location ~ "^/store/(?<ohif_store_key>(shares|revoked)/[A-Za-z0-9_/-]{{1,200}})$" {{
        client_max_body_size 4k;
        client_body_buffer_size 4k;
        js_content ohif_share_store.object;
    }}
    location / {{
        return 404;
    }}
}}
"""

    def revoked_location(self) -> str:
        """In the token check's server: whether a link is revoked, as the store answers, cached for every worker."""
        return f"""\
    location ~ "^/_ohif_revoked/(?<ohif_revoked_id>[A-Za-z0-9_-]{{22}})$" {{
        internal;
        proxy_pass http://{self.files.listen}/store/revoked/$ohif_revoked_id;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_cache ohif_revocations;
        proxy_cache_key "$ohif_revoked_id";
        proxy_cache_valid 200 404 {SHARE_CHECK_SECONDS}s;
        proxy_cache_lock on;
    }}
"""

    def cache_zone(self) -> str:
        return (f"proxy_cache_path {self.files.cache_dir} levels=1 keys_zone=ohif_revocations:1m max_size=16m "
                "inactive=1m;\n")
