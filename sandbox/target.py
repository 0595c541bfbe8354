"""The recipe's operations on this machine: each records what the recipe asked for in a Plan and answers with the
URLs its servers will have (every one is known up front: ports on 127.0.0.1). Nothing here starts a server or
writes a file: Sandbox.up (sandbox/lifecycle.py) starts them from the Plan with sandbox/servers.py."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import astuple, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import pulumi

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.target import (
    FilesSpec,
    IdentityProvider,
    IdentityProviderSpec,
    Proxy,
    ProxySpec,
    Site,
    SiteSpec,
    Target,
    same_origin_url,
)
from sandbox.processes import SandboxError, free_port, free_ports
from settings import StackSettings

LOOPBACK = ("127.0.0.1", "localhost")


def origin(port: int) -> str:
    """A browser-facing host's origin: HTTPS, as on the CDN."""
    return f"https://127.0.0.1:{port}"


@dataclass
class LocalSite:
    spec: SiteSpec
    port: int
    published: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Rendered files by URL path; plain strings once finish() has resolved them."""
    proxy_ports: list[int] = field(default_factory=list)
    """The instances of the proxy mounted at /dicom-web/ (same-origin), which this site balances."""
    mounts: list[FilesSpec] = field(default_factory=list)
    """Files served at their path of this origin."""


@dataclass
class LocalFiles:
    spec: FilesSpec
    """Its allowed origins a plain list once finish() has resolved them."""
    port: int
    published: dict[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StandIn:
    """A cloud DICOM service's stand-in: its Orthanc, the service and the metadata endpoint, each on a port."""

    orthanc_port: int
    service_port: int
    metadata_port: int


@dataclass
class LocalProxy:
    name: str
    spec: ProxySpec
    """Its Inputs plain values once finish() has resolved them."""
    ports: list[int]
    """One per instance (ProxySpec.scale's fewest)."""
    on_site: bool = False
    """Mounted on a site, whose nginx is its edge and balancer; otherwise it is its own edge, as at its own CDN URL."""
    standin: StandIn | None = None
    """Where the sandbox stands in for the proxy's cloud DICOM service (spec.archive_service)."""


@dataclass
class Plan:
    """What the recipe asked for, by name, on the ports chosen for it."""

    sites: dict[str, LocalSite] = field(default_factory=dict)
    files: dict[str, LocalFiles] = field(default_factory=dict)
    stores: dict[str, tuple[LocalSite | LocalFiles, str]] = field(default_factory=dict)
    """Where `publish` puts a handle's files: the host serving them and their URL path."""
    proxies: list[LocalProxy] = field(default_factory=list)
    identity_providers: list[IdentityProviderSpec] = field(default_factory=list)

    def archive_ports(self) -> dict[int, str]:
        """An archive on a loopback port is the sandbox's to provide (its port, its DICOMweb path); any other is
        the user's own."""
        return {(url.port or 80): url.path for url in (urlsplit(p.spec.upstream_url) for p in self.proxies
                                                       if p.standin is None) if url.hostname in LOOPBACK}

    def ports(self) -> set[int]:
        """Every port the servers of this plan will listen on."""
        ports = {site.port for site in self.sites.values()} | {files.port for files in self.files.values()}
        ports |= {port for proxy in self.proxies for port in proxy.ports} | set(self.archive_ports())
        ports |= {port for proxy in self.proxies if proxy.standin for port in astuple(proxy.standin)}
        ports |= {urlsplit(spec.existing_url).port for spec in self.identity_providers}
        return ports


class LocalTarget(Target):
    """The operations, recorded in `plan`: the first site takes `port`, the first proxy `proxy_port`, the rest
    free ports."""

    def __init__(self, port: int, proxy_port: int) -> None:
        self.port, self.proxy_port = port, proxy_port
        self.plan = Plan()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def viewer_origin(self) -> str:
        """The first site's origin (the CLI's --port)."""
        return origin(self.port)

    def realise(self, settings: StackSettings, recipe: Callable | None) -> dict[str, Any]:
        """Run the stack's recipe (or a fork) on this target; its outputs, resolved."""
        from recipes import realise  # recipes import components.target, which this module implements

        # The recipe and its Outputs run on a loop of their own, in a thread of their own: a caller may
        # already run a loop in this one (Playwright's sync API does). Every value is known here, no engine
        # is needed.
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            return thread.submit(self._run_recipe, realise, settings, recipe).result()

    def _run_recipe(self, realise: Callable, settings: StackSettings, recipe: Callable | None) -> dict[str, Any]:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            outputs = realise(self, settings, recipe)
            return {name: self._resolve(value) for name, value in outputs.items()}
        finally:
            self._loop.close()

    def _resolve(self, value: pulumi.Input[Any]) -> Any:
        return self._loop.run_until_complete(pulumi.Output.from_input(value).future())

    # The operations: record, and answer with the URLs the servers will have.

    def static_site(self, name: str, spec: SiteSpec) -> Site:
        port = self.port if not self.plan.sites else free_port()
        self.plan.sites[name] = LocalSite(spec, port)
        self.plan.stores[name] = (self.plan.sites[name], spec.base_path)
        return Site(name=name, origin=pulumi.Output.from_input(origin(port)),
                    url=pulumi.Output.from_input(origin(port) + spec.base_path))

    def static_files(self, name: str, spec: FilesSpec, *, on_site: Site | None = None) -> Site:
        if on_site is not None:
            site = self.plan.sites[on_site.name]
            site.mounts.append(spec)
            self.plan.stores[name] = (site, spec.path)
            return Site(name=name, origin=on_site.origin, url=pulumi.Output.concat(on_site.origin, spec.path))
        files = self.plan.files[name] = LocalFiles(spec, free_port())
        self.plan.stores[name] = (files, spec.path)
        return Site(name=name, origin=pulumi.Output.from_input(origin(files.port)),
                    url=pulumi.Output.from_input(origin(files.port) + spec.path))

    def dicomweb_proxy(self, name: str, spec: ProxySpec, *, on_site: Site | None = None) -> Proxy:
        port = self.proxy_port if not self.plan.proxies else free_port()
        instances = spec.scale.min_instances
        standin = StandIn(*free_ports(3)) if spec.archive_service else None
        if on_site is None:
            if instances > 1:
                raise SandboxError(f"{name}: the sandbox balances several proxies behind the viewer's site "
                                   "(archive.topology same-origin); at a URL of its own it runs one")
            self.plan.proxies.append(LocalProxy(name, spec, [port], standin=standin))
            return Proxy(name=name, url=pulumi.Output.from_input(origin(port) + DICOMWEB_PATH))
        site = self.plan.sites[on_site.name]
        if site.proxy_ports:
            raise SandboxError(f"site {on_site.name!r} already serves {DICOMWEB_PATH}/")
        site.proxy_ports = [port] + [free_port() for _ in range(instances - 1)]
        self.plan.proxies.append(LocalProxy(name, spec, site.proxy_ports, on_site=True, standin=standin))
        return Proxy(name=name, url=same_origin_url(on_site))

    def identity_provider(self, name: str, spec: IdentityProviderSpec) -> IdentityProvider:
        url = urlsplit(spec.existing_url or "")
        if url.hostname not in LOOPBACK or not url.port:
            raise SandboxError(f"{name}: the sandbox starts Keycloak at https://127.0.0.1:<port> (auth.keycloak_url), "
                               f"not {spec.existing_url!r}")
        self.plan.identity_providers.append(spec)
        return IdentityProvider(name=name, url=pulumi.Output.from_input(origin(url.port)))

    def publish(self, site: Site, key: str, content: pulumi.Input[str]) -> None:
        host, path = self.plan.stores[site.name]
        host.published[path + key] = content

    def finish(self) -> dict[str, pulumi.Output]:
        plan = self.plan
        for host in [*plan.sites.values(), *plan.files.values()]:
            host.published = {path: self._resolve(content) for path, content in host.published.items()}
        for files in plan.files.values():
            files.spec = replace(files.spec, allowed_origins=[self._resolve(o) for o in files.spec.allowed_origins])
        for proxy in plan.proxies:
            proxy.spec = replace(proxy.spec, allowed_origins=self._resolve(proxy.spec.allowed_origins),
                                 token_check=self._resolve(proxy.spec.token_check))
        plan.identity_providers = [replace(spec, viewer_origin=self._resolve(spec.viewer_origin))
                                   for spec in plan.identity_providers]
        return {}
