"""The sandbox's servers, each started as its host runs in the cloud: the archive (Orthanc, or a stand-in for a cloud
DICOM service), Keycloak on its own database behind its edge, one nginx per proxy instance, per site, per files
host, and the embedded recipe's demo host. Every config is rendered by the renderers the clouds use."""

from __future__ import annotations

import json
import os
import secrets
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from components.render.archive_service import ArchiveCredentialFiles
from components.render.cloud_init import njs_modules
from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE, ArchiveAccess
from components.render.dicomweb_proxy.conf import ACCESS_MODULE, ProxyConf
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.dicomweb_proxy.share_store import ShareStore
from components.render.dicomweb_proxy.token_check import (
    Login,
    TokenCheckFiles,
    share_keys_conf,
)
from components.render.edge import NginxEdge
from components.render.headers import viewer_headers
from components.render.realm import RealmModel
from components.target import site_files
from sandbox import sample_data
from sandbox.cloud_standins import service_root
from sandbox.host_page import render_host_conf, write_host_pages
from sandbox.keycloak import KEYCLOAK_VERSION, SandboxKeycloak
from sandbox.nginx import (
    cdn_listen,
    nginx_service,
    render_files_conf,
    render_keycloak_edge_conf,
    render_viewer_conf,
    write_preflight_module,
    write_spa_module,
)
from sandbox.postgres import SandboxPostgres
from sandbox.processes import SandboxError, Service, free_port, require_binary
from sandbox.share_store import RunningStore, start_store
from sandbox.staging import server_dir, store, worker_dir, write_published
from sandbox.target import LOOPBACK, LocalFiles, LocalProxy, LocalSite, origin
from sandbox.tls import RunTls
from settings import StackSettings
from settings.model import ShareSettings

ORTHANC_DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
REPO = Path(__file__).resolve().parent.parent
AUDIT_LOG = "audit.log"
"""Where a proxy with login writes who read what, in its run directory (a VM: its journal)."""
KEYCLOAK_START_SECONDS = 240
"""How long Keycloak may take to be ready: its first start builds it, about a minute."""


def standin_url(proxy: LocalProxy) -> str:
    """The stand-in cloud DICOM service's root, which the proxy asks as it would ask the service."""
    service = proxy.spec.archive_service
    return f"https://127.0.0.1:{proxy.standin.service_port}" + service_root(service.kind, service.datastore_id)


def demo_host_origin(settings: StackSettings) -> SplitResult | None:
    """The embedded recipe's first loopback host origin, where the sandbox serves the demo host."""
    if settings.embed is None:
        return None
    origins = [urlsplit(o) for o in settings.embed.host_origins]
    return next((o for o in origins if o.hostname in LOOPBACK and o.port), None)


class Servers:
    """Starts servers in `run_dir`, each through `start(service, timeout=60)`, which hands it to the run's reaper and
    waits until it is ready; browser-facing ones present `tls`'s certificate."""

    def __init__(self, run_dir: Path, tls: RunTls, progress: Callable[[str], None],
                 start: Callable[..., None]) -> None:
        self.run_dir, self.tls, self.progress, self._start = run_dir, tls, progress, start
        self._share_keys: dict[str, str] = {}
        self._share_store: RunningStore | None = None

    def orthanc(self, port: int, dicomweb_root: str) -> str:
        """Orthanc with the DICOMweb plugin, loaded with the sample studies; its URL."""
        self.progress(f"starting Orthanc with the DICOMweb plugin on {port}")
        orthanc = require_binary("orthanc", "Orthanc", "orthanc orthanc-dicomweb")
        if not ORTHANC_DICOMWEB_PLUGIN.exists():
            raise SandboxError(f"orthanc: {ORTHANC_DICOMWEB_PLUGIN} is missing (apt-get install orthanc-dicomweb)")
        data = server_dir(self.run_dir, f"orthanc-{port}")
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

    def standin(self, proxy: LocalProxy, credential_lifetime: float) -> Path:
        """The stand-in for the proxy's cloud DICOM service and its metadata endpoint, in front of the Orthanc on
        `proxy.standin.orthanc_port`; the log of what it saw (JSON lines)."""
        service, ports = proxy.spec.archive_service, proxy.standin
        run_dir = server_dir(self.run_dir, f"standin-{proxy.name}")
        log = run_dir / "requests.jsonl"
        self.progress(f"starting the stand-in {service.kind} on {ports.service_port} and its metadata endpoint on "
                      f"{ports.metadata_port}")
        argv = [sys.executable, "-m", "sandbox.cloud_standins", "--kind", service.kind,
                "--metadata-port", str(ports.metadata_port), "--service-port", str(ports.service_port),
                "--archive", f"http://127.0.0.1:{ports.orthanc_port}{DICOMWEB_PATH}/",
                "--region", service.region or "", "--cert", str(self.tls.cert_file), "--key", str(self.tls.key_file),
                "--log", str(log), "--lifetime", str(credential_lifetime),
                *(["--datastore-id", service.datastore_id] if service.datastore_id else [])]
        self._start(Service(f"stand-in {service.kind}", argv, log=run_dir / "standin.log",
                            # Its metadata endpoint: a probe of the service would be a request it refuses and logs.
                            ready_url=f"http://127.0.0.1:{ports.metadata_port}/",
                            ports=[ports.service_port, ports.metadata_port],
                            env={**os.environ, "PYTHONPATH": str(REPO)}))
        return log

    def keycloak(self, realm: RealmModel, port: int, edge: NginxEdge) -> SandboxKeycloak:
        """PostgreSQL, Keycloak on it with `realm`, and its edge on `port`."""
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
        self._start(keycloak.service(), timeout=KEYCLOAK_START_SECONDS)
        # Browsers and the proxy reach Keycloak through the edge, as through its CDN in the cloud.
        run_dir = server_dir(self.run_dir, "keycloak-edge")
        (run_dir / "keycloak.conf").write_text(render_keycloak_edge_conf(
            listen=cdn_listen(port), keycloak=f"127.0.0.1:{keycloak.listen_port}", edge=edge))
        self.progress(f"starting Keycloak's edge (nginx) on {port}")
        self._start(nginx_service(run_dir, [run_dir / "keycloak.conf"], ports=[port],
                                  ready_url=f"{keycloak.url}/realms/{realm.name}",
                                  port_hint="stop what listens there, or change auth.keycloak_url in the stack file",
                                  tls=self.tls))
        return keycloak

    def fresh_keycloak(self, old: SandboxKeycloak) -> SandboxKeycloak:
        """A Keycloak in a new directory on `old`'s database and ports (`old` stopped), as a replaced Keycloak VM
        comes back on the managed database: every account is still there."""
        keycloak = SandboxKeycloak(old.run_dir.with_name(f"{old.run_dir.name}-next"), old.port, old.realm,
                                   listen_port=old.listen_port, ca_file=self.tls.ca_file,
                                   database=old.database, admin_password=old.admin_password)
        self.progress("starting a fresh Keycloak on the same database")
        self._start(keycloak.service(), timeout=KEYCLOAK_START_SECONDS)
        return keycloak

    def proxy(self, proxy: LocalProxy, instance: int, port: int, edge: NginxEdge) -> Service:
        """One instance of a proxy: its own nginx, cache and token-check state, as each VM of a scale set has."""
        spec = proxy.spec
        run_dir = server_dir(self.run_dir, f"proxy-{proxy.name}" + (f"-{instance}" if len(proxy.ports) > 1 else ""))
        files = TokenCheckFiles(cache_dir=str(run_dir / "jwks-cache"),
                                verdict_cache_dir=str(run_dir / "token-verdicts"),
                                check_listen=f"127.0.0.1:{free_port()}", audit_log=str(run_dir / AUDIT_LOG),
                                key_set_ca_file=str(self.tls.ca_file),
                                share_keys_path=self._write_share_keys(spec.share, run_dir)
                                ) if spec.token_check else None
        # A mounted proxy is the site's origin, behind the site's edge; any other is a host of its own.
        listen, scheme = (f"127.0.0.1:{port}", "http") if proxy.on_site else (cdn_listen(port), "https")
        upstream_url, archive_files = spec.upstream_url, None
        njs = self._njs_modules()
        if proxy.standin:
            upstream_url = standin_url(proxy)
            archive_files = ArchiveCredentialFiles(
                module_path=str(njs / ARCHIVE_CREDENTIALS_MODULE.name),
                metadata_url=f"http://127.0.0.1:{proxy.standin.metadata_port}",
                credentials_file=str(worker_dir(run_dir / "archive-credential") / "credential.json"))
        archive_auth = spec.archive_service.auth if spec.archive_service else None
        store = self._share_store_of(run_dir) if spec.share else None
        (run_dir / "proxy.conf").write_text(render_proxy_conf(ProxyConf(
            listen=listen, upstream_url=upstream_url,
            allowed_origins=tuple(spec.allowed_origins), cache_dir=str(run_dir / "dicomweb-cache"),
            enable_stow=spec.enable_stow,
            login=Login(spec.token_check, files, spec.share, store) if spec.token_check else None,
            serve_own_host=proxy.on_site, edge=None if proxy.on_site else edge,
            archive=ArchiveAccess(archive_auth, archive_files) if archive_auth else None,
            upstream_ca_file=str(self.tls.ca_file), access_module_path=str(njs / ACCESS_MODULE.name))))
        self.progress(f"starting the DICOMweb proxy {proxy.name!r} (nginx) on {port}")
        service = nginx_service(run_dir, [run_dir / "proxy.conf"], ports=[port],
                                ready_url=f"{scheme}://127.0.0.1:{port}/",
                                port_hint="stop what listens there, or pick another --port", tls=self.tls)
        self._start(service)
        return service

    def _njs_modules(self) -> Path:
        """Where the run's proxies load their njs modules: every one, as a VM gets them (njs_modules)."""
        directory = self.run_dir / "njs"
        if not directory.exists():
            directory.mkdir()
            for name, text in njs_modules(archive=True, share_store=True).items():
                (directory / name).write_text(text)
        return directory

    def _share_store_of(self, run_dir: Path) -> ShareStore:
        """One proxy instance's way to the run's share store, which every instance shares, as every VM of a stack
        shares its bucket (started with the first)."""
        if self._share_store is None:
            self._share_store = start_store(server_dir(self.run_dir, "share-store"), self.tls, self._start,
                                            self.progress)
        return self._share_store.for_proxy(run_dir, str(self._njs_modules()))

    def _write_share_keys(self, share: ShareSettings | None, run_dir: Path) -> str:
        """The share keys' file of one proxy instance; every instance of the run gets the same keys, as every VM of
        a stack gets the keys in its secret store."""
        if share is None:
            return ""
        for kid in share.signing_keys:
            self._share_keys.setdefault(kid, secrets.token_urlsafe(32))
        path = run_dir / "share-keys.conf"
        path.touch(mode=0o600)
        path.write_text(share_keys_conf({kid: self._share_keys[kid] for kid in share.signing_keys},
                                        signing=share.signing_keys[-1]))
        return str(path)

    def site(self, name: str, site: LocalSite, edge: NginxEdge) -> None:
        """The viewer's host, as the CDN serves the build, with the files mounted on it and the proxy's instances
        balanced at /dicom-web/ (same-origin)."""
        base_path, run_dir = site.spec.base_path, server_dir(self.run_dir, f"site-{name}")
        self.progress(f"preparing the OHIF viewer build for {name!r}")
        site_root = self.run_dir / "site" / name
        files = store(site_files(site.spec, site_root / base_path.lstrip("/")), base_path, site_root)
        for spec in site.mounts:
            files += store(spec.files, spec.path, site_root)
        files += write_published(site.published, site_root)
        write_spa_module(run_dir / "spa_fallback.mjs", base_path)
        (run_dir / "site.conf").write_text(render_viewer_conf(
            listen=cdn_listen(site.port), site_root=site_root, spa_module=run_dir / "spa_fallback.mjs",
            files=files, headers=viewer_headers(site.spec.frame_ancestors), edge=edge,
            proxies=[f"127.0.0.1:{port}" for port in site.proxy_ports], log_dir=run_dir))
        self.progress(f"starting the viewer {name!r} (nginx) on {site.port}")
        self._start(nginx_service(run_dir, [run_dir / "site.conf"], ports=[site.port],
                                  ready_url=origin(site.port) + base_path,
                                  port_hint="stop what listens there, or pick another --port", tls=self.tls))

    def files(self, name: str, host: LocalFiles, edge: NginxEdge) -> None:
        """Files on an origin of their own, with the CDN's CORS."""
        run_dir, root = server_dir(self.run_dir, f"files-{name}"), self.run_dir / "files" / name
        files = store(host.spec.files, host.spec.path, root) + write_published(host.published, root)
        write_preflight_module(run_dir / "cors_preflight.mjs", host.spec.allowed_origins)
        (run_dir / "files.conf").write_text(render_files_conf(
            listen=cdn_listen(host.port), root=root, preflight_module=run_dir / "cors_preflight.mjs",
            files=files, allowed_origins=host.spec.allowed_origins, edge=edge))
        self.progress(f"starting the files {name!r} (nginx) on {host.port}")
        self._start(nginx_service(run_dir, [run_dir / "files.conf"], ports=[host.port],
                                  ready_url=origin(host.port) + host.spec.path, tls=self.tls))

    def demo_host(self, settings: StackSettings, outputs: dict[str, Any]) -> str | None:
        """The embedded recipe's host application, on its first loopback origin, from the recipe's snippets."""
        host = demo_host_origin(settings)
        if host is None:
            return None
        host_page_path = settings.embed.host_page_path
        run_dir, root = server_dir(self.run_dir, "host"), self.run_dir / "host" / "pages"
        write_host_pages(root, iframe_snippet=outputs.get("iframe_snippet"),
                         script_snippet=outputs.get("script_snippet"), host_page_path=host_page_path)
        (run_dir / "host.conf").write_text(render_host_conf(listen=cdn_listen(host.port), root=root,
                                                            host_page_path=host_page_path))
        self.progress(f"starting the demo host application (nginx) on {host.port}")
        url = origin(host.port) + "/"
        self._start(nginx_service(run_dir, [run_dir / "host.conf"], ports=[host.port], ready_url=url,
                                  port_hint="stop what listens there, or change embed.host_origins", tls=self.tls))
        return url
