"""How nginx reaches a server behind it: the archive, or the realm's key set."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from urllib.parse import urlsplit

SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"


def is_address(host: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host))


def tls_directives(host: str, ca_file: str, indent: str) -> str:
    """An https:// upstream's certificate, checked against `ca_file` for `host`."""
    return textwrap.indent(f"proxy_ssl_server_name on;\nproxy_ssl_name {host};\nproxy_ssl_verify on;\n"
                           f"proxy_ssl_trusted_certificate {ca_file};\n", indent)


@dataclass(frozen=True)
class Upstream:
    """The archive's DICOMweb root, as nginx reaches it."""

    url: str
    resolver: str | None
    """The DNS server nginx asks while running; None: a name is resolved once, at start-up."""
    ca_file: str
    """The CAs an https:// archive's certificate is checked against."""

    @property
    def _split(self):
        return urlsplit(self.url)

    @property
    def by_address(self) -> bool:
        """Without a resolver, nginx resolves a name once, at start-up, as it does an address."""
        return is_address(self._split.hostname) or self.resolver is None

    @property
    def host_header(self) -> str:
        url = self._split
        return url.netloc if url.port else url.hostname

    @property
    def _host_port(self) -> str:
        url = self._split
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        return f"{host}:{url.port or (443 if url.scheme == 'https' else 80)}"

    @property
    def root(self) -> str:
        return self._split.path.rstrip("/") + "/"

    @property
    def named_root(self) -> str:
        """The DICOMweb root as the archive names it in its answers: Orthanc, and the cloud services, build it from
        the Host the proxy sends."""
        return f"{self._split.scheme}://{self.host_header}{self.root}"

    def pass_directive(self) -> str:
        """Forwards $dicomweb_path, the DICOMweb path below DICOMWEB_PATH a location captured, and the query."""
        target = "ohif_archive" if self.by_address else "$ohif_archive"
        return f"proxy_pass {self._split.scheme}://{target}{self.root}$dicomweb_path$is_args$args;"

    def http_block(self) -> str:
        """An archive by IP address (or by a name resolved at start-up): a fixed upstream, with keep-alive to save a
        handshake per image frame."""
        if not self.by_address:
            return ""
        return f"""
# The archive. Keep-alive saves a TCP (and TLS) handshake per image frame.
upstream ohif_archive {{
    server {self._host_port};
    keepalive 16;
}}
"""

    def server_directives(self) -> str:
        """In a server that passes to the archive: an archive by name is resolved while running (a variable in
        proxy_pass), so a DNS change is followed and a name that does not resolve yet does not stop nginx from
        starting; an https:// archive's certificate is checked."""
        resolve = "" if self.by_address else (f"    resolver {self.resolver} valid=60s;\n"
                                               f"    set $ohif_archive \"{self._host_port}\";\n")
        url = self._split
        return resolve + (tls_directives(url.hostname, self.ca_file, "    ") if url.scheme == "https" else "")
