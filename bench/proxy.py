"""Our DICOMweb proxy with the token check on, as the user-account-control recipe runs it (the sandbox's own proxy is
the same config without it): rendered by the same function as the cloud VM's, in front of the sandbox's Orthanc."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.dicomweb_proxy.share_store import SHARE_STORE_MODULE
from components.render.dicomweb_proxy.token_check import (
    Login,
    TokenCheck,
    TokenCheckFiles,
    share_keys_conf,
)
from sandbox.nginx import nginx_service
from sandbox.processes import free_port
from sandbox.share_store import RunningStore
from settings import ShareSettings

SHARE = ShareSettings()


@contextmanager
def token_proxy(run_dir: Path, port: int, *, upstream_url: str, viewer_origin: str, auth: TokenCheck,
                store: RunningStore) -> Iterator[str]:
    """The proxy on `port` while the block runs, with share links (SHARE) on, a key of its own and `store`; yields its
    DICOMweb root."""
    keys = run_dir / "share-keys.conf"
    keys.write_text(share_keys_conf({"k1": secrets.token_urlsafe(32)}, signing="k1"))
    conf = run_dir / "proxy.conf"
    conf.write_text(render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=upstream_url, allowed_origins=(viewer_origin,),
        cache_dir=str(run_dir / "cache"),
        login=Login(auth, TokenCheckFiles(cache_dir=str(run_dir / "jwks"),
                                          verdict_cache_dir=str(run_dir / "verdicts"),
                                          check_listen=f"127.0.0.1:{free_port()}",
                                          audit_log=str(run_dir / "audit.log"), share_keys_path=str(keys)),
                    SHARE, store.for_proxy(run_dir, str(SHARE_STORE_MODULE.parent))))))
    service = nginx_service(run_dir, [conf], ports=[port], ready_url=f"http://127.0.0.1:{port}/")
    try:
        service.start()
        yield f"http://127.0.0.1:{port}{DICOMWEB_PATH}"
    finally:
        service.stop()
