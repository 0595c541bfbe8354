"""The local sandbox: a stack's recipe run on this machine with real servers and no cloud account.

What the cloud runs maps onto local processes:
    CDN + bucket (StaticSite)   -> nginx serving the prepared viewer build, CloudFront's headers and SPA fallback
    ArchiveProxy VM             -> the same rendered nginx proxy config, on its own port
    the user's archive          -> Orthanc with the DICOMweb plugin, loaded with sample studies
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from components.render.proxy_nginx import DICOMWEB_PATH, TOKEN_CHECK_MODULE, render_proxy_conf
from components.render.realm import RealmModel, oidc_settings, proxy_auth, realm_model
from components.render.viewer_build import fetch_build, prepare_site, render_app_config
from sandbox import sample_data
from sandbox.keycloak import KEYCLOAK_VERSION, SandboxKeycloak
from sandbox.processes import SandboxError, Service, require_binary
from sandbox.nginx import nginx_binary, nginx_service, render_viewer_conf, write_spa_module
from settings import StackSettings

ORTHANC_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


@dataclass(frozen=True)
class SandboxUrls:
    viewer: str
    dicomweb: str
    archive: str | None
    keycloak: str | None = None
    username: str | None = None
    password: str | None = None

    def as_json(self) -> str:
        return json.dumps({k: v for k, v in self.__dict__.items() if v is not None})


class Sandbox:
    """Brings a stack's servers up on 127.0.0.1; a context manager that always tears them down."""

    def __init__(self, settings: StackSettings, *, port: int, proxy_port: int | None = None,
                 run_dir: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> None:
        self.settings, self.port, self.progress = settings, port, progress
        self.proxy_port = port + 1 if proxy_port is None else proxy_port
        self._own_dir = run_dir is None
        self.run_dir = Path(tempfile.mkdtemp(prefix="ohif-sandbox-")) if run_dir is None else run_dir
        self.run_dir.chmod(0o755)  # nginx workers run as an unprivileged user and must read the site
        self.services: list[Service] = []
        self.urls: SandboxUrls | None = None
        self.keycloak: SandboxKeycloak | None = None

    # The ports: the viewer on `port`, the proxy on the next (unless given), the archive and Keycloak
    # where the stack says.
    @property
    def viewer_origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        s = self.settings
        self.run_dir.mkdir(parents=True, exist_ok=True)
        nginx_binary()
        if not Path("/usr/lib/nginx/modules/ngx_http_js_module.so").exists():
            raise SandboxError("nginx: the njs module is missing (apt-get install libnginx-mod-http-js)")

        archive_url = None
        if s.archive.uses_proxy:
            upstream = urlsplit(s.archive.upstream_url)
            if upstream.hostname in ("127.0.0.1", "localhost"):
                archive_url = self._start_orthanc(upstream.port or 80, upstream.path)
            cross_origin = s.archive.topology == "cross-origin"
            proxy_origin = f"http://127.0.0.1:{self.proxy_port}"
            # Same-origin: at the host's root, beside the viewer, as the CDN's /dicom-web/* behaviour.
            dicomweb_url = (proxy_origin if cross_origin else self.viewer_origin) + DICOMWEB_PATH
        else:
            dicomweb_url = s.archive.dicomweb_url.rstrip("/")

        oidc = auth = None
        if s.auth is not None:
            realm = realm_model(s.auth, s.viewer, self.viewer_origin)
            self.keycloak = self._start_keycloak(realm)
            oidc = oidc_settings(realm, self.keycloak.url)
            auth = proxy_auth(realm, self.keycloak.url, module_path=str(TOKEN_CHECK_MODULE),
                              cache_dir=str(self.run_dir / "jwks-cache"))

        self.progress("preparing the OHIF viewer build")
        site_root = self.run_dir / "site"
        app_config = render_app_config(dicomweb_url=dicomweb_url, base_path=s.viewer.base_path, oidc=oidc)
        files = prepare_site(fetch_build(), site_root / s.viewer.base_path.strip("/"), app_config=app_config,
                             base_path=s.viewer.base_path, include_source_maps=s.viewer.include_source_maps)

        self.progress("rendering nginx configs for the viewer and the archive proxy")
        spa = self.run_dir / "spa_fallback.mjs"
        write_spa_module(spa, s.viewer.base_path)
        includes = [self.run_dir / "viewer.conf"]
        ports = [self.port]
        same_origin_proxy = None
        if s.archive.uses_proxy:
            includes.append(self.run_dir / "archive-proxy.conf")
            ports.append(self.proxy_port)
            # The viewer's own origin is always allowed, as the cloud recipe adds the CDN's.
            origins = (self.viewer_origin, *s.archive.allowed_origins)
            includes[-1].write_text(render_proxy_conf(
                listen=f"127.0.0.1:{self.proxy_port}", upstream_url=s.archive.upstream_url,
                allowed_origins=origins if cross_origin else (), enable_stow=s.archive.enable_stow, auth=auth))
            same_origin_proxy = None if cross_origin else f"127.0.0.1:{self.proxy_port}"
        includes[0].write_text(render_viewer_conf(
            listen=f"127.0.0.1:{self.port}", site_root=site_root, spa_module=spa, files=files,
            base_path=s.viewer.base_path, archive_proxy=same_origin_proxy))
        self.progress(f"starting nginx on {', '.join(map(str, ports))}")
        self._start(nginx_service(self.run_dir, includes, ports=ports,
                                  ready_url=self.viewer_origin + s.viewer.base_path,
                                  port_hint="stop what listens there, or pick another --port"))
        login = None
        if self.keycloak is not None:
            self.progress("creating a test user with a generated password")
            login = self.keycloak.create_user()
        self.urls = SandboxUrls(viewer=self.viewer_origin + s.viewer.base_path, dicomweb=dicomweb_url,
                                archive=archive_url, keycloak=login and login.url,
                                username=login and login.username, password=login and login.password)
        return self.urls

    def _start_keycloak(self, realm: RealmModel) -> SandboxKeycloak:
        url = urlsplit(self.settings.auth.keycloak_url or "")
        if url.hostname not in ("127.0.0.1", "localhost") or not url.port:
            raise SandboxError(f"auth.keycloak_url must be http://127.0.0.1:<port> for the sandbox to start Keycloak "
                               f"there, not {self.settings.auth.keycloak_url!r}")
        self.progress(f"starting Keycloak {KEYCLOAK_VERSION} on {url.port} with realm {realm.name!r} "
                      "(its first start takes a minute)")
        keycloak = SandboxKeycloak(self.run_dir, url.port, realm)
        self._start(keycloak.service(), timeout=240)
        return keycloak

    def _start_orthanc(self, port: int, dicomweb_root: str) -> str:
        self.progress(f"starting Orthanc with the DICOMweb plugin on {port}")
        orthanc = require_binary("orthanc", "Orthanc", "orthanc orthanc-dicomweb")
        if not ORTHANC_DICOMWEB_PLUGIN.exists():
            raise SandboxError(f"orthanc: {ORTHANC_DICOMWEB_PLUGIN} is missing (apt-get install orthanc-dicomweb)")
        data = self.run_dir / "orthanc"
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
        self._start(Service("orthanc", [orthanc, str(config)], log=self.run_dir / "orthanc.log",
                            ready_url=archive + "/system", ports=[port],
                            port_hint="stop what listens there, or change archive.upstream_url in the stack file"))
        self.progress("loading sample studies (pydicom's CT and MR, a 64-slice CT phantom)")
        phantom = self.run_dir / "phantom"
        sample_data.phantom_series(phantom)
        for path in sample_data.pydicom_samples() + sorted(phantom.glob("*.dcm")):
            request = urllib.request.Request(archive + "/instances", data=path.read_bytes(), method="POST",
                                             headers={"Content-Type": "application/dicom"})
            with urllib.request.urlopen(request, timeout=30):
                pass
        return archive

    def _start(self, service: Service, timeout: float = 60) -> None:
        self.services.append(service)
        service.start(timeout)

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
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
