"""A sandbox's life: `up()` starts its reaper before anything else, then runs the recipe, claims the ports
(sandbox/registry.py) and starts the servers; `watch()` ends it, naming the server, when one of them dies;
`restart()` and `replace_keycloak()` stop and start one server as a test asks; `down()` stops them all.

The reaper (sandbox/reaper.py) learns of each thing the sandbox makes before it is made (the run directory, the
port claim) or as it is spawned (a server's process group), so it can stop and remove them however the sandbox
ends."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.edge import render_nginx_edge
from sandbox import reaper, registry, sample_data
from sandbox.keycloak import SandboxKeycloak
from sandbox.nginx import NJS_MODULE, nginx_binary
from sandbox.processes import SandboxError, Service, ServiceError
from sandbox.servers import Servers, demo_host_origin
from sandbox.target import LocalTarget
from sandbox.tls import RunTls, make_run_tls
from settings import StackSettings

RESTART_SECONDS = 70
"""How long `restart` keeps trying to start a server again: past Linux's 60 s TIME_WAIT."""
STANDIN_CREDENTIAL_SECONDS = 6 * 3600
"""How long the stand-in metadata endpoint's credentials last by default: as long as an EC2 role's."""


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


class Sandbox(LocalTarget):
    """Runs a recipe on 127.0.0.1; a context manager that always tears its servers down."""

    def __init__(self, settings: StackSettings, *, port: int, proxy_port: int | None = None,
                 run_dir: Path | None = None, progress: Callable[[str], None] = lambda _: None,
                 recipe: Callable | None = None, tls: RunTls | None = None,
                 credential_lifetime: float = STANDIN_CREDENTIAL_SECONDS) -> None:
        """`run_dir`: where the run keeps its files (kept afterwards); by default a new temporary directory, made by
        `up` and removed with the sandbox. `tls`: the certificate every browser-facing host presents; by default one
        made for this run. `credential_lifetime`: how long each credential the stand-in metadata endpoint issues
        lasts. Nothing is created here: a sandbox never entered leaves nothing behind."""
        super().__init__(port, port + 1 if proxy_port is None else proxy_port)
        self.settings, self.progress, self.recipe, self.tls = settings, progress, recipe, tls
        self.credential_lifetime = credential_lifetime
        self._own_dir = run_dir is None
        self.run_dir = run_dir
        self.services: list[Service] = []
        self.proxy_instances: dict[str, list[Service]] = {}
        """Each proxy's instances (one nginx each), by name: what a test stops and starts."""
        self.urls: SandboxUrls | None = None
        self.standin_log: Path | None = None
        """What the stand-in cloud DICOM service saw (JSON lines), where the archive is one."""
        self.keycloak: SandboxKeycloak | None = None
        self._servers: Servers | None = None
        self._archive_url: str | None = None
        self._reaper: subprocess.Popen | None = None
        self._claim: Path | None = None

    def __enter__(self) -> Sandbox:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def up(self) -> SandboxUrls:
        if self._own_dir:
            # Named, not made, until the reaper that removes it runs.
            self.run_dir = Path(tempfile.gettempdir()) / f"ohif-sandbox-{secrets.token_hex(8)}"
        # First of all: from here on, whatever ends this process, the reaper cleans up after it.
        # Run as a script (it imports nothing of ours), so it is up in an instant.
        self._reaper = subprocess.Popen(
            [sys.executable, str(Path(reaper.__file__)), str(self.run_dir), *(["--remove"] if self._own_dir else [])],
            stdin=subprocess.PIPE, start_new_session=True)
        self.run_dir.mkdir(parents=True, exist_ok=not self._own_dir)
        self.run_dir.chmod(0o755)  # nginx workers run as an unprivileged user and must read the site
        if self.tls is None:
            self.tls = make_run_tls(self.run_dir / "tls")
        nginx_binary()
        if not NJS_MODULE.exists():
            raise SandboxError("nginx: the njs module is missing (apt-get install libnginx-mod-http-js)")
        if self.settings.studies is not None and self.settings.studies.folder is None:
            self.progress("writing the sample studies (pydicom's CT, MR and RGB samples, a 64-slice CT phantom)")
            folder = sample_data.sample_set(self.run_dir / "sample-studies")
            self.settings = replace(self.settings, studies=replace(self.settings.studies, folder=str(folder)))
        outputs = self.realise(self.settings, self.recipe)
        # Before any server starts or any study is loaded: another sandbox on these ports is refused here.
        self._tell_reaper(f"claim {registry.claim_file(self.run_dir)}")
        self._claim = registry.claim(self._ports(), self.run_dir, self.progress)
        self._servers = Servers(self.run_dir, self.tls, self.progress, self._start)
        self._start_servers()
        host = self._servers.demo_host(self.settings, outputs) if self.settings.embed else None
        login = self.keycloak.create_user() if self.keycloak else None
        study_urls = outputs.get("study_urls") or [None]
        self.urls = SandboxUrls({**outputs, "archive": self._archive_url, "host": host, "study": study_urls[0],
                                 "username": login and login.username, "password": login and login.password,
                                 "ca_file": str(self.tls.ca_file), "spki": self.tls.spki})
        return self.urls

    def _ports(self) -> set[int]:
        """Every port this sandbox's servers will listen on."""
        host = demo_host_origin(self.settings)
        return self.plan.ports() | ({host.port} if host else set())

    def _start_servers(self) -> None:
        servers, plan = self._servers, self.plan
        urls = [servers.orthanc(port, path) for port, path in sorted(plan.archive_ports().items())]
        for proxy in plan.proxies:
            if proxy.standin:
                urls.append(servers.orthanc(proxy.standin.orthanc_port, DICOMWEB_PATH))
                self.standin_log = servers.standin(proxy, self.credential_lifetime)
        self._archive_url = urls[0] if urls else None
        # Every host a browser reaches stands behind the same edge as on the CDN: the allow-list and the rate limit.
        access = self.settings.access
        edge = render_nginx_edge(access.allowed_networks, access.rate_limit)
        for spec in plan.identity_providers:
            realm = replace(spec.realm, viewer_origin=spec.viewer_origin)
            self.keycloak = servers.keycloak(realm, urlsplit(spec.existing_url).port, edge)
        # One nginx per proxy and per site, as each is a host of its own in the cloud (their configs share names).
        self.progress("rendering the nginx configs (one nginx per host, as in the cloud)")
        for proxy in plan.proxies:
            self.proxy_instances[proxy.name] = [servers.proxy(proxy, i, port, edge)
                                                for i, port in enumerate(proxy.ports)]
        for name, site in plan.sites.items():
            servers.site(name, site, edge)
        for name, host in plan.files.items():
            servers.files(name, host, edge)

    def watch(self, poll: float = 0.5) -> None:
        """Block while every server runs; when one exits, raise ServiceError naming it, with its log's tail."""
        while True:
            for service in self.services:
                if (code := service.exited()) is not None:
                    raise ServiceError(service.name, f"exited with code {code} while the sandbox ran",
                                       f"last lines of its log: {service.log_tail()}")
            time.sleep(poll)

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

    def replace_keycloak(self) -> SandboxKeycloak:
        """Stop Keycloak and start a fresh one in a new directory on the same database and port, as a replaced
        Keycloak VM comes back on the managed database: every account is still there."""
        service = next(s for s in self.services if s.name == "keycloak")
        service.stop()
        self.services.remove(service)
        self.keycloak = self._servers.fresh_keycloak(self.keycloak)
        return self.keycloak

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
            if self._own_dir and self.run_dir is not None:
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
