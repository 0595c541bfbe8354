"""The local sandbox: the third target. It runs a stack's recipe file on this machine, with real servers.

What the recipe's operations become here:
    static_site         nginx serving the prepared viewer build as the CDN does (its headers, the CloudFront
                        Function's SPA routing run by njs, each file's Content-Type and Cache-Control)
    static_files        the files in the site's root at their path, or an nginx of their own with the CDN's
                        CORS (the CloudFront Function's preflight answers run by njs)
    dicomweb_proxy      the same rendered nginx proxy config as the cloud VM's, on its own port, or behind
                        the site's /dicom-web/ (same-origin)
    identity_provider   Keycloak (dev mode) where the stack's auth.keycloak_url says, with the realm, its accounts in
                        a PostgreSQL of its own (Debian's), as in the cloud's managed database
    publish             the rendered file beside the build
    the user's archive  Orthanc with the DICOMweb plugin where a proxy's upstream_url names a loopback port,
                        loaded with sample studies; for a cloud DICOM service (HealthImaging, Azure's), an Orthanc
                        behind a stand-in for the service and for the metadata endpoint that hands the proxy its
                        credential (sandbox/cloud_standins.py)
    the host app        for the embedded recipe, a demo page on its loopback host origin that pastes the recipe's
                        snippets (sandbox/host_page.py)
    studies.folder      left out in a local dicom-json stack: the sample studies

Every host a browser reaches speaks HTTPS with HTTP/2, as both CDNs do, with a certificate from a CA made for the
run (sandbox/tls.py); plain HTTP to it is redirected, as the CDNs redirect it.

Operations only record what the recipe asked for; `finish()` resolves the recipe's Outputs (every URL is
known up front: ports on 127.0.0.1), and `up()` then claims the ports (sandbox/registry.py) and starts the
servers. A reaper (sandbox/reaper.py) stops them and removes the run directory however the sandbox ends,
and `watch()` ends it, naming the server, when one of them dies.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import pulumi

from components.render.archive_service import ArchiveCredentialFiles
from components.render.edge import NginxEdge, render_nginx_edge
from components.render.headers import viewer_headers
from components.render.proxy_nginx import (ARCHIVE_CREDENTIALS_MODULE, DICOMWEB_PATH, TOKEN_CHECK_MODULE, TokenCheckFiles,
                                           render_proxy_conf)
from components.render.viewer_build import SiteFile, object_key, stored_files
from components.target import (FilesSpec, IdentityProvider, IdentityProviderSpec, Proxy, ProxySpec, Site, SiteSpec,
                               Target, same_origin_url, site_files)
from sandbox import reaper, registry, sample_data
from sandbox.host_page import render_host_conf, write_host_pages
from sandbox.keycloak import KEYCLOAK_VERSION, SandboxKeycloak
from sandbox.nginx import (cdn_listen, nginx_binary, nginx_service, render_files_conf, render_keycloak_edge_conf,
                           render_viewer_conf, write_preflight_module, write_spa_module)
from sandbox.postgres import SandboxPostgres
from sandbox.cloud_standins import service_root
from sandbox.processes import SandboxError, Service, ServiceError, free_port, free_ports, require_binary
from sandbox.tls import RunTls, make_run_tls
from settings import StackSettings

ORTHANC_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
REPO = Path(__file__).resolve().parent.parent
RESTART_SECONDS = 70
"""How long `restart` keeps trying to start a server again: past Linux's 60 s TIME_WAIT."""
AUDIT_LOG = "audit.log"
"""Where a proxy with login writes who read what, in its run directory (a VM: its journal)."""
STANDIN_CREDENTIAL_SECONDS = 6 * 3600
"""How long the stand-in metadata endpoint's credentials last by default: as long as an EC2 role's."""
LOOPBACK = ("127.0.0.1", "localhost")


class SandboxUrls:
    """What `up` prints: the recipe's outputs (`viewer_url` as `viewer`, ...) and the sandbox's own."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = {k.removesuffix("_url"): v for k, v in values.items() if v is not None}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def as_json(self) -> str:
        return json.dumps(self._values)


@dataclass
class _LocalSite:
    spec: SiteSpec
    port: int
    published: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Rendered files by URL path; plain strings once finish() has resolved them."""
    proxy_ports: list[int] = field(default_factory=list)
    """The instances of the proxy mounted at /dicom-web/ (same-origin), which this site balances."""
    mounts: list[FilesSpec] = field(default_factory=list)
    """Files served at their path of this origin."""


@dataclass
class _LocalFiles:
    spec: FilesSpec
    """Its allowed origins a plain list once finish() has resolved them."""
    port: int
    published: dict[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _StandIn:
    """A cloud DICOM service's stand-in: its Orthanc, the service and the metadata endpoint, each on a port."""

    orthanc_port: int
    service_port: int
    metadata_port: int


@dataclass
class _LocalProxy:
    name: str
    spec: ProxySpec
    """Its Inputs plain values once finish() has resolved them."""
    ports: list[int]
    """One per instance (ProxySpec.scale's fewest)."""
    on_site: bool = False
    """Mounted on a site, whose nginx is its edge and balancer; otherwise it is its own edge, as at its own CDN URL."""
    standin: _StandIn | None = None
    """Where the sandbox stands in for the proxy's cloud DICOM service (spec.archive_service)."""


class Sandbox(Target):
    """Runs a recipe on 127.0.0.1; a context manager that always tears its servers down."""

    def __init__(self, settings: StackSettings, *, port: int, proxy_port: int | None = None,
                 run_dir: Path | None = None, progress: Callable[[str], None] = lambda _: None,
                 recipe: Callable | None = None, tls: RunTls | None = None,
                 credential_lifetime: float = STANDIN_CREDENTIAL_SECONDS) -> None:
        """`tls`: the certificate every browser-facing host presents; by default one made for this run.
        `credential_lifetime`: how long each credential the stand-in metadata endpoint issues lasts."""
        self.credential_lifetime = credential_lifetime
        self.settings, self.port, self.progress, self.recipe, self.tls = settings, port, progress, recipe, tls
        self.proxy_port = port + 1 if proxy_port is None else proxy_port
        self._own_dir = run_dir is None
        self.run_dir = Path(tempfile.mkdtemp(prefix="ohif-sandbox-")) if run_dir is None else run_dir
        self.run_dir.chmod(0o755)  # nginx workers run as an unprivileged user and must read the site
        self.services: list[Service] = []
        self.proxy_instances: dict[str, list[Service]] = {}
        """Each proxy's instances (one nginx each), by name: what a test stops and starts."""
        self.urls: SandboxUrls | None = None
        self.standin_log: Path | None = None
        """What the stand-in cloud DICOM service saw (JSON lines), where the archive is one."""
        self.keycloak: SandboxKeycloak | None = None
        self._sites: dict[str, _LocalSite] = {}
        self._files: dict[str, _LocalFiles] = {}
        # Where `publish` puts a handle's files: the host serving them and their URL path.
        self._stores: dict[str, tuple[_LocalSite | _LocalFiles, str]] = {}
        self._proxies: list[_LocalProxy] = []
        self._identity_providers: list[IdentityProviderSpec] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._archive_url: str | None = None
        self._reaper: subprocess.Popen | None = None
        self._claim: Path | None = None

    @property
    def viewer_origin(self) -> str:
        """The first site's origin (the CLI's --port)."""
        return _origin(self.port)

    def __enter__(self) -> "Sandbox":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> SandboxUrls:
        from recipes import realise  # recipes import components.target, which this module implements

        self.run_dir.mkdir(parents=True, exist_ok=True)
        # First of all: from here on, whatever ends this process, the reaper cleans up after it.
        # Run as a script (it imports nothing of ours), so it is up in an instant.
        self._reaper = subprocess.Popen(
            [sys.executable, str(Path(reaper.__file__)), str(self.run_dir), *(["--remove"] if self._own_dir else [])],
            stdin=subprocess.PIPE, start_new_session=True)
        if self.tls is None:
            self.tls = make_run_tls(self.run_dir / "tls")
        nginx_binary()
        if not Path("/usr/lib/nginx/modules/ngx_http_js_module.so").exists():
            raise SandboxError("nginx: the njs module is missing (apt-get install libnginx-mod-http-js)")
        # The recipe and its Outputs run on a loop of their own, in a thread of their own: a caller may
        # already run a loop in this one (Playwright's sync API does). Every value is known here, no engine
        # is needed.
        if self.settings.studies is not None and self.settings.studies.folder is None:
            self.progress("writing the sample studies (pydicom's CT, MR and RGB samples, a 64-slice CT phantom)")
            folder = sample_data.sample_set(self.run_dir / "sample-studies")
            self.settings = replace(self.settings, studies=replace(self.settings.studies, folder=str(folder)))
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            outputs = thread.submit(self._run_recipe, realise).result()
        # Before any server starts or any study is loaded: another sandbox on these ports is refused here.
        self._claim = registry.claim(self._ports(), self.run_dir, self.progress)
        self._tell_reaper(f"claim {self._claim}")
        self._start_servers()
        host = self._start_demo_host(outputs) if self.settings.embed else None
        login = self.keycloak.create_user() if self.keycloak else None
        study_urls = outputs.get("study_urls") or [None]
        self.urls = SandboxUrls({**outputs, "archive": self._archive_url, "host": host, "study": study_urls[0],
                                 "username": login and login.username, "password": login and login.password,
                                 "ca_file": str(self.tls.ca_file), "spki": self.tls.spki})
        return self.urls

    def watch(self, poll: float = 0.5) -> None:
        """Block while every server runs; when one exits, raise ServiceError naming it, with its log's tail."""
        while True:
            for service in self.services:
                if (code := service.exited()) is not None:
                    raise ServiceError(service.name, f"exited with code {code} while the sandbox ran",
                                       f"last lines of its log: {service.log_tail()}")
            time.sleep(poll)

    def _ports(self) -> set[int]:
        """Every port this sandbox's servers will listen on."""
        ports = {site.port for site in self._sites.values()} | {files.port for files in self._files.values()}
        ports |= {port for proxy in self._proxies for port in proxy.ports} | set(self._archive_ports())
        ports |= {port for proxy in self._proxies if proxy.standin for port in astuple(proxy.standin)}
        ports |= {urlsplit(spec.existing_url).port for spec in self._identity_providers}
        if (host := self._demo_host_origin()) is not None:
            ports.add(host.port)
        return ports

    def _archive_ports(self) -> dict[int, str]:
        """An archive on a loopback port is the sandbox's to provide (its port, its DICOMweb path); any other is
        the user's own."""
        return {(url.port or 80): url.path for url in (urlsplit(p.spec.upstream_url) for p in self._proxies
                                                       if p.standin is None) if url.hostname in LOOPBACK}

    def _demo_host_origin(self):
        """The embedded recipe's first loopback host origin, where the sandbox serves the demo host."""
        if self.settings.embed is None:
            return None
        origins = [urlsplit(o) for o in self.settings.embed.host_origins]
        return next((o for o in origins if o.hostname in LOOPBACK and o.port), None)

    def _run_recipe(self, realise: Callable) -> dict[str, Any]:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            outputs = realise(self, self.settings, self.recipe)
            return {name: self._resolve(value) for name, value in outputs.items()}
        finally:
            self._loop.close()

    def _resolve(self, value: pulumi.Input[Any]) -> Any:
        return self._loop.run_until_complete(pulumi.Output.from_input(value).future())

    # The operations: record, and answer with the URLs the servers will have.

    def static_site(self, name: str, spec: SiteSpec) -> Site:
        port = self.port if not self._sites else free_port()
        self._sites[name] = _LocalSite(spec, port)
        self._stores[name] = (self._sites[name], spec.base_path)
        origin = _origin(port)
        return Site(name=name, origin=pulumi.Output.from_input(origin),
                    url=pulumi.Output.from_input(origin + spec.base_path))

    def static_files(self, name: str, spec: FilesSpec, *, on_site: Site | None = None) -> Site:
        if on_site is not None:
            site = self._sites[on_site.name]
            site.mounts.append(spec)
            self._stores[name] = (site, spec.path)
            return Site(name=name, origin=on_site.origin, url=pulumi.Output.concat(on_site.origin, spec.path))
        files = self._files[name] = _LocalFiles(spec, free_port())
        self._stores[name] = (files, spec.path)
        origin = _origin(files.port)
        return Site(name=name, origin=pulumi.Output.from_input(origin),
                    url=pulumi.Output.from_input(origin + spec.path))

    def dicomweb_proxy(self, name: str, spec: ProxySpec, *, on_site: Site | None = None) -> Proxy:
        port = self.proxy_port if not self._proxies else free_port()
        instances = spec.scale.min_instances
        standin = _StandIn(*free_ports(3)) if spec.archive_service else None
        if on_site is None:
            if instances > 1:
                raise SandboxError(f"{name}: the sandbox balances several proxies behind the viewer's site "
                                   "(archive.topology same-origin); at a URL of its own it runs one")
            self._proxies.append(_LocalProxy(name, spec, [port], standin=standin))
            return Proxy(name=name, url=pulumi.Output.from_input(_origin(port) + DICOMWEB_PATH))
        site = self._sites[on_site.name]
        if site.proxy_ports:
            raise SandboxError(f"site {on_site.name!r} already serves {DICOMWEB_PATH}/")
        site.proxy_ports = [port] + [free_port() for _ in range(instances - 1)]
        self._proxies.append(_LocalProxy(name, spec, site.proxy_ports, on_site=True, standin=standin))
        return Proxy(name=name, url=same_origin_url(on_site))

    def identity_provider(self, name: str, spec: IdentityProviderSpec) -> IdentityProvider:
        url = urlsplit(spec.existing_url or "")
        if url.hostname not in LOOPBACK or not url.port:
            raise SandboxError(f"{name}: the sandbox starts Keycloak at https://127.0.0.1:<port> (auth.keycloak_url), "
                               f"not {spec.existing_url!r}")
        self._identity_providers.append(spec)
        return IdentityProvider(name=name, url=pulumi.Output.from_input(_origin(url.port)))

    def publish(self, site: Site, key: str, content: pulumi.Input[str]) -> None:
        host, path = self._stores[site.name]
        host.published[path + key] = content

    def finish(self) -> dict[str, pulumi.Output]:
        for host in [*self._sites.values(), *self._files.values()]:
            host.published = {path: self._resolve(content) for path, content in host.published.items()}
        for files in self._files.values():
            files.spec = replace(files.spec, allowed_origins=[self._resolve(o) for o in files.spec.allowed_origins])
        for proxy in self._proxies:
            proxy.spec = replace(proxy.spec, allowed_origins=self._resolve(proxy.spec.allowed_origins),
                                 token_check=self._resolve(proxy.spec.token_check))
        self._identity_providers = [replace(spec, realm=self._resolve(spec.realm)) for spec in self._identity_providers]
        return {}

    # The servers.

    def _start_servers(self) -> None:
        urls = [self._start_orthanc(port, path) for port, path in sorted(self._archive_ports().items())]
        for proxy in self._proxies:
            if proxy.standin:
                urls.append(self._start_orthanc(proxy.standin.orthanc_port, DICOMWEB_PATH))
                self._start_standin(proxy)
        self._archive_url = urls[0] if urls else None
        # Every host a browser reaches stands behind the same edge as on the CDN: the allow-list and the rate limit.
        access = self.settings.access
        edge = render_nginx_edge(access.allowed_networks, access.rate_limit)
        for spec in self._identity_providers:
            self.keycloak = self._start_keycloak(spec.realm, urlsplit(spec.existing_url).port, edge)
        self._start_nginx(edge)

    def _start_proxy(self, proxy: _LocalProxy, instance: int, port: int, edge: NginxEdge) -> Service:
        """One instance of a proxy: its own nginx, cache and token-check state, as each VM of a scale set has."""
        spec = proxy.spec
        run_dir = self._nginx_dir(f"proxy-{proxy.name}" + (f"-{instance}" if len(proxy.ports) > 1 else ""))
        files = TokenCheckFiles(module_path=str(TOKEN_CHECK_MODULE), cache_dir=str(run_dir / "jwks-cache"),
                                verdict_cache_dir=str(run_dir / "token-verdicts"),
                                check_listen=f"127.0.0.1:{free_port()}", audit_log=str(run_dir / AUDIT_LOG),
                                key_set_ca_file=str(self.tls.ca_file)) if spec.token_check else None
        # A mounted proxy is the site's origin, behind the site's edge; any other is a host of its own.
        listen, scheme = (f"127.0.0.1:{port}", "http") if proxy.on_site else (cdn_listen(port), "https")
        upstream_url, archive_files = spec.upstream_url, None
        if proxy.standin:
            upstream_url = self._standin_url(proxy)
            archive_files = ArchiveCredentialFiles(
                module_path=str(ARCHIVE_CREDENTIALS_MODULE),
                metadata_url=f"http://127.0.0.1:{proxy.standin.metadata_port}",
                credentials_file=str(worker_dir(run_dir / "archive-credential") / "credential.json"))
        (run_dir / "proxy.conf").write_text(render_proxy_conf(
            listen=listen, upstream_url=upstream_url,
            allowed_origins=spec.allowed_origins, cache_dir=str(run_dir / "dicomweb-cache"),
            enable_stow=spec.enable_stow, auth=spec.token_check, auth_files=files,
            serve_own_host=proxy.on_site, edge=None if proxy.on_site else edge,
            archive_auth=spec.archive_service.auth if spec.archive_service else None, archive_files=archive_files,
            upstream_ca_file=str(self.tls.ca_file)))
        self.progress(f"starting the DICOMweb proxy {proxy.name!r} (nginx) on {port}")
        service = nginx_service(run_dir, [run_dir / "proxy.conf"], ports=[port],
                                ready_url=f"{scheme}://127.0.0.1:{port}/",
                                port_hint="stop what listens there, or pick another --port", tls=self.tls)
        self._start(service)
        return service

    def _start_nginx(self, edge: NginxEdge) -> None:
        # One nginx per proxy and per site, as each is a host of its own in the cloud (their configs share names).
        self.progress("rendering the nginx configs (one nginx per host, as in the cloud)")
        for proxy in self._proxies:
            self.proxy_instances[proxy.name] = [self._start_proxy(proxy, i, port, edge)
                                                for i, port in enumerate(proxy.ports)]
        for name, site in self._sites.items():
            base_path, run_dir = site.spec.base_path, self._nginx_dir(f"site-{name}")
            self.progress(f"preparing the OHIF viewer build for {name!r}")
            site_root = self.run_dir / "site" / name
            files = _store(site_files(site.spec, site_root / base_path.lstrip("/")), base_path, site_root)
            for spec in site.mounts:
                files += _store(spec.files, spec.path, site_root)
            files += _write_published(site.published, site_root)
            write_spa_module(run_dir / "spa_fallback.mjs", base_path)
            (run_dir / "site.conf").write_text(render_viewer_conf(
                listen=cdn_listen(site.port), site_root=site_root, spa_module=run_dir / "spa_fallback.mjs",
                files=files, headers=viewer_headers(site.spec.frame_ancestors), edge=edge,
                proxies=[f"127.0.0.1:{port}" for port in site.proxy_ports], log_dir=run_dir))
            self.progress(f"starting the viewer {name!r} (nginx) on {site.port}")
            self._start(nginx_service(run_dir, [run_dir / "site.conf"], ports=[site.port],
                                      ready_url=_origin(site.port) + base_path,
                                      port_hint="stop what listens there, or pick another --port", tls=self.tls))
        for name, host in self._files.items():
            run_dir, root = self._nginx_dir(f"files-{name}"), self.run_dir / "files" / name
            files = _store(host.spec.files, host.spec.path, root) + _write_published(host.published, root)
            write_preflight_module(run_dir / "cors_preflight.mjs", host.spec.allowed_origins)
            (run_dir / "files.conf").write_text(render_files_conf(
                listen=cdn_listen(host.port), root=root, preflight_module=run_dir / "cors_preflight.mjs",
                files=files, allowed_origins=host.spec.allowed_origins, edge=edge))
            self.progress(f"starting the files {name!r} (nginx) on {host.port}")
            self._start(nginx_service(run_dir, [run_dir / "files.conf"], ports=[host.port],
                                      ready_url=_origin(host.port) + host.spec.path, tls=self.tls))

    def _start_demo_host(self, outputs: dict[str, Any]) -> str | None:
        """The embedded recipe's host application, on its first loopback origin, from the recipe's snippets."""
        origin = self._demo_host_origin()
        if origin is None:
            return None
        run_dir, root = self._nginx_dir("host"), self.run_dir / "host" / "pages"
        host_page_path = self.settings.embed.host_page_path
        write_host_pages(root, iframe_snippet=outputs.get("iframe_snippet"),
                         script_snippet=outputs.get("script_snippet"), host_page_path=host_page_path)
        (run_dir / "host.conf").write_text(render_host_conf(listen=cdn_listen(origin.port), root=root,
                                                            host_page_path=host_page_path))
        self.progress(f"starting the demo host application (nginx) on {origin.port}")
        url = _origin(origin.port) + "/"
        self._start(nginx_service(run_dir, [run_dir / "host.conf"], ports=[origin.port], ready_url=url,
                                  port_hint="stop what listens there, or change embed.host_origins", tls=self.tls))
        return url

    def _nginx_dir(self, name: str) -> Path:
        path = self.run_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _start_keycloak(self, realm, port: int, edge: NginxEdge) -> SandboxKeycloak:
        # Its accounts live apart from it, as in the cloud's managed database.
        self.progress("starting PostgreSQL for Keycloak's accounts")
        postgres = SandboxPostgres(self.run_dir, free_port(), self.tls)
        self._start(postgres.service())
        postgres.create_database()
        self.progress(f"starting Keycloak {KEYCLOAK_VERSION} on {port} with realm {realm.name!r} "
                      "(its first start takes a minute)")
        keycloak = SandboxKeycloak(self.run_dir / "keycloak", port, realm, listen_port=free_port(),
                                   ca_file=self.tls.ca_file, database=postgres.database,
                                   admin_password=secrets.token_urlsafe(18))
        self._start(keycloak.service(), timeout=240)
        # Browsers and the proxy reach Keycloak through the edge, as through its CDN in the cloud.
        run_dir = self._nginx_dir("keycloak-edge")
        (run_dir / "keycloak.conf").write_text(render_keycloak_edge_conf(
            listen=cdn_listen(port), keycloak=f"127.0.0.1:{keycloak.listen_port}", edge=edge))
        self.progress(f"starting Keycloak's edge (nginx) on {port}")
        self._start(nginx_service(run_dir, [run_dir / "keycloak.conf"], ports=[port],
                                  ready_url=f"{keycloak.url}/realms/{realm.name}",
                                  port_hint="stop what listens there, or change auth.keycloak_url in the stack file",
                                  tls=self.tls))
        return keycloak

    def replace_keycloak(self) -> SandboxKeycloak:
        """Stop Keycloak and start a fresh one in a new directory on the same database and port, as a replaced
        Keycloak VM comes back on the managed database: every account is still there."""
        old = self.keycloak
        service = next(s for s in self.services if s.name == "keycloak")
        service.stop()
        self.services.remove(service)
        self.keycloak = SandboxKeycloak(old.run_dir.with_name(f"{old.run_dir.name}-next"), old.port, old.realm,
                                        listen_port=old.listen_port, ca_file=self.tls.ca_file,
                                        database=old.database, admin_password=old.admin_password)
        self.progress("starting a fresh Keycloak on the same database")
        self._start(self.keycloak.service(), timeout=240)
        return self.keycloak

    @staticmethod
    def _standin_url(proxy: _LocalProxy) -> str:
        service = proxy.spec.archive_service
        return f"https://127.0.0.1:{proxy.standin.service_port}" + service_root(service.kind, service.datastore_id)

    def _start_standin(self, proxy: _LocalProxy) -> None:
        service, ports = proxy.spec.archive_service, proxy.standin
        run_dir = self._nginx_dir(f"standin-{proxy.name}")
        self.standin_log = run_dir / "requests.jsonl"
        self.progress(f"starting the stand-in {service.kind} on {ports.service_port} and its metadata endpoint on "
                      f"{ports.metadata_port}")
        argv = [sys.executable, "-m", "sandbox.cloud_standins", "--kind", service.kind,
                "--metadata-port", str(ports.metadata_port), "--service-port", str(ports.service_port),
                "--archive", f"http://127.0.0.1:{ports.orthanc_port}{DICOMWEB_PATH}/",
                "--region", service.region or "", "--cert", str(self.tls.cert_file), "--key", str(self.tls.key_file),
                "--log", str(self.standin_log), "--lifetime", str(self.credential_lifetime),
                *(["--datastore-id", service.datastore_id] if service.datastore_id else [])]
        self._start(Service(f"stand-in {service.kind}", argv, log=run_dir / "standin.log",
                            # Its metadata endpoint: a probe of the service would be a request it refuses and logs.
                            ready_url=f"http://127.0.0.1:{ports.metadata_port}/",
                            ports=[ports.service_port, ports.metadata_port],
                            env={**os.environ, "PYTHONPATH": str(REPO)}))

    def _start_orthanc(self, port: int, dicomweb_root: str) -> str:
        self.progress(f"starting Orthanc with the DICOMweb plugin on {port}")
        orthanc = require_binary("orthanc", "Orthanc", "orthanc orthanc-dicomweb")
        if not ORTHANC_DICOMWEB_PLUGIN.exists():
            raise SandboxError(f"orthanc: {ORTHANC_DICOMWEB_PLUGIN} is missing (apt-get install orthanc-dicomweb)")
        data = self.run_dir / f"orthanc-{port}"
        data.mkdir(parents=True, exist_ok=True)
        config = data / "orthanc.json"
        # Orthanc 1.10 has no bind address: it listens on all interfaces, so it refuses remote clients
        # and runs no DICOM listener. Its REST API is reachable only here, never through the proxy.
        config.write_text(json.dumps({
            "Name": "ohif-sandbox", "HttpPort": port, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomServerEnabled": False,
            "StorageDirectory": str(data / "storage"), "IndexDirectory": str(data / "index"),
            "Plugins": [str(ORTHANC_DICOMWEB_PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": dicomweb_root.rstrip("/") + "/"},
        }))
        archive = f"http://127.0.0.1:{port}"
        self._start(Service("orthanc", [orthanc, str(config)], log=data / "orthanc.log",
                            ready_url=archive + "/system", ports=[port],
                            port_hint="stop what listens there, or change archive.upstream_url in the stack file"))
        self.progress("loading the sample studies (pydicom's CT, MR and RGB samples, a 64-slice CT phantom)")
        for path in sorted(sample_data.sample_set(data / "samples").rglob("*.dcm")):
            request = urllib.request.Request(archive + "/instances", data=path.read_bytes(), method="POST",
                                             headers={"Content-Type": "application/dicom"})
            with urllib.request.urlopen(request, timeout=30):
                pass
        return archive

    def restart(self, name: str | Service, down_seconds: float = 0, kill: bool = False) -> None:
        """Stop a server (by name, such as the archive's "orthanc", or one of `proxy_instances`), or `kill` it, wait
        `down_seconds`, and start it again."""
        service = name if isinstance(name, Service) else next(s for s in self.services if s.name == name)
        if kill:
            service.kill()
        else:
            service.stop()
        time.sleep(down_seconds)
        # Orthanc binds its port without SO_REUSEADDR: while connections it closed linger in TIME_WAIT (up to a
        # minute on Linux), it exits at once ("port already in use"). Start it again until the port is free.
        deadline = time.monotonic() + RESTART_SECONDS
        while True:
            try:
                service.start(on_spawn=self._adopt)
                return
            except ServiceError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def _start(self, service: Service, timeout: float = 60) -> None:
        self.services.append(service)
        service.start(timeout, on_spawn=self._adopt)

    def _adopt(self, group: int) -> None:
        """Tell the reaper of a server's process group, before waiting for it."""
        self._tell_reaper(f"group {group}")

    def _tell_reaper(self, line: str) -> None:
        self._reaper.stdin.write(f"{line}\n".encode())
        self._reaper.stdin.flush()

    def down(self) -> None:
        # A second Ctrl-C or SIGTERM must not cut the teardown short, so both are ignored until it is done.
        # (Blocking them with a signal mask is not enough: numpy's threads would still take them.)
        handlers = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for service in reversed(self.services):
                service.stop()
            self.services.clear()
            if self._own_dir:
                shutil.rmtree(self.run_dir, ignore_errors=True)
            if self._claim is not None:
                registry.release(self._claim)
            if self._reaper is not None:
                self._reaper.stdin.close()  # nothing left for it to do: it exits
                self._reaper.wait(30)
                self._reaper = None
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)


def worker_dir(path: Path) -> Path:
    """A directory only nginx's workers may enter (as root, nginx runs them as `nobody`)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.getuid() == 0:
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    return path


def _origin(port: int) -> str:
    """A browser-facing host's origin: HTTPS, as on the CDN."""
    return f"https://127.0.0.1:{port}"


def _store(files: Sequence[SiteFile], path: str, root: Path) -> list[SiteFile]:
    """`files` served under the URL `path`, stored under `root` where the cloud's storage keeps them (object_key);
    SiteFiles keyed from the origin's root."""
    stored = []
    for f in files:
        key = object_key(path, f)
        dest = root / key
        if dest != f.path:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.path, dest)
        stored.append(replace(f, key=key, path=dest))
    return stored


def _write_published(published: dict[str, str], root: Path) -> list[SiteFile]:
    """Published files written under `root`, with the variants their names get, as the cloud targets store them."""
    entries = []
    for url_path, content in published.items():
        key = url_path.lstrip("/")
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        entries.append((key, path))
    return _store(stored_files(entries), "/", root)
