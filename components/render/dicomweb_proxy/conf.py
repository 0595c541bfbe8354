"""What one DICOMweb proxy is: every choice the rendered nginx.conf depends on, in one typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from components.render.dicomweb_proxy.archive import ArchiveAccess
from components.render.dicomweb_proxy.origin import NoOriginCheck, OriginCheck
from components.render.dicomweb_proxy.token_check import Login
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE, Upstream

ACCESS_MODULE = Path(__file__).parent.parent / "access.js"
"""The proxy's one njs module: the query check, the study scope, the token check and share links."""


class Edge(Protocol):
    """What the proxy places of an edge in front of it (components/render/edge.py's NginxEdge); edge.py imports this
    package's paths, so the proxy names the parts it takes rather than the module."""

    @property
    def http(self) -> str: ...

    def server_directives(self) -> str: ...

    def rate_limit_directives(self) -> str: ...


@dataclass(frozen=True)
class ProxyConf:
    """A proxy at DICOMWEB_PATH in front of the DICOMweb root `upstream_url`."""

    listen: str
    """nginx's `listen` for the DICOMweb server."""
    upstream_url: str
    """The archive's DICOMweb root."""
    allowed_origins: tuple[str, ...]
    """The viewer origins CORS allows (`*` only where settings allowed it)."""
    cache_dir: str
    """Where the proxy caches reads."""
    enable_stow: bool = False
    """STOW-RS uploads pass too."""
    origin_check: OriginCheck = field(default_factory=NoOriginCheck)
    """What tells a request that came through our CDN; any other gets 403."""
    resolver: str | None = None
    """The DNS server nginx asks, while running, for a name (the cloud's VPC resolver); None: names are resolved once
    at start-up (the sandbox: `localhost`)."""
    login: Login | None = None
    """A valid token of that realm required on every DICOMweb request."""
    serve_own_host: bool = False
    """A proxy mounted on the viewer's site also serves the Origin of the host the request was sent to (the site's,
    which the CDN forwards as Host): the site's config names the proxy, so the proxy's cannot name the site's
    generated host name without a cycle."""
    edge: Edge | None = None
    """In the sandbox only, the stand-in for the CDN's firewall in front of a proxy at its own URL (the allow-list and
    the rate limit, components/render/edge.py); on a cloud VM the CDN's WAF does that, and the VM sees only the CDN's
    addresses."""
    health_listen: str | None = None
    """Where the balancer's health check is served (HEALTH_PATH): 200 while the archive answers."""
    archive: ArchiveAccess | None = None
    """For a cloud DICOM service: the proxy signs or carries its VM's credential on every request to the archive."""
    upstream_ca_file: str = SYSTEM_CA_FILE
    """The CAs nginx trusts for an https:// archive (the sandbox: its run's own CA)."""
    access_module_path: str = str(ACCESS_MODULE)
    """Where access.js, the proxy's njs module (ACCESS_MODULE), lies on the proxy's host."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_origins", tuple(self.allowed_origins))
        if self.archive and self.archive.auth.scheme == "sigv4" and self.enable_stow:
            raise ValueError("STOW-RS to a SigV4 archive would need each upload's hash before it is sent")

    @property
    def upstream(self) -> Upstream:
        return Upstream(self.upstream_url, self.resolver, self.upstream_ca_file)
