"""A cloud DICOM service as the archive: the proxy proves itself with its VM's own cloud identity
(components/render/archive_credentials.js; the services and their settings: components/render/archive_service.py).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from components.render.archive_service import ArchiveCredentialFiles
from components.render.dicomweb_proxy.quoting import nginx_string
from settings.services import ArchiveAuth

ARCHIVE_CREDENTIALS_MODULE = Path(__file__).parent.parent / "archive_credentials.js"
ACCESS_CHECK = "        auth_request /_ohif_archive_access;\n"
"""In every location that passes to the archive: the realm token check where login is on, then a fresh credential."""


@dataclass(frozen=True)
class ArchiveAccess:
    """How the proxy proves itself to the archive, with what its host keeps where."""

    auth: ArchiveAuth
    files: ArchiveCredentialFiles

    def http_block(self, host: str, root: str) -> str:
        """`host` and `root`: the archive's Host header and DICOMweb root path, which a signature covers."""
        auth, files = self.auth, self.files
        return f"""
# The archive is a cloud DICOM service: the proxy proves itself with its VM's own cloud identity
# (archive_credentials.js), in place of the browser's Authorization, which never goes past the proxy.
js_import ohif_archive from {files.module_path};
variables_hash_max_size 2048;  # the variables below outgrow the default table
map $host $ohif_archive_auth {{ default "{auth.scheme}"; }}
map $host $ohif_archive_metadata {{ default "{nginx_string(files.metadata_url)}"; }}
map $host $ohif_archive_region {{ default "{nginx_string(auth.region) if auth.region else ""}"; }}
map $host $ohif_archive_service {{ default "{auth.service}"; }}
map $host $ohif_archive_resource {{ default "{nginx_string(auth.resource) if auth.resource else ""}"; }}
map $host $ohif_archive_credentials_file {{ default "{files.credentials_file}"; }}
map $host $ohif_archive_host {{ default "{host}"; }}
map $host $ohif_archive_root {{ default "{root}"; }}
# Each evaluated once per request, so the headers below agree on one credential and one time.
js_set $ohif_archive_credential ohif_archive.credential;
js_set $ohif_amz_date ohif_archive.amzDate;
js_set $ohif_archive_authorization ohif_archive.authorization;
js_set $ohif_archive_security_token ohif_archive.securityToken;
"""

def request_headers(indent: str) -> str:
    """Sent on every request to the archive (an empty one is not sent: X-Amz-* on Azure)."""
    return textwrap.indent("proxy_set_header Authorization $ohif_archive_authorization;\n"
                           "proxy_set_header X-Amz-Date $ohif_amz_date;\n"
                           "proxy_set_header X-Amz-Security-Token $ohif_archive_security_token;\n", indent)


def access_location(token_check: bool) -> str:
    """Where ACCESS_CHECK asks: the realm token check first when `token_check`."""
    return f"""
    location = /_ohif_archive_access {{
        internal;
        set $ohif_archive_token_check {"on" if token_check else "off"};
        js_content ohif_archive.access;
    }}
"""
