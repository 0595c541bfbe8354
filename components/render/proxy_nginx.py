"""Temporary: the names of components/render/dicomweb_proxy/ under their old module, and the old call shapes, for the
importers still being moved (sandbox/, components/aws/, components/azure/, and the two cloud-init renderers whose
callers pass the old `origin_check`). Removed once they import the package.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.render.archive_service import ArchiveCredentialFiles
from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE, ArchiveAccess
from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.interface import (
    CACHE_MAX_SIZE,
    CHANGING_CACHE_SECONDS,
    CHANGING_PATH,
    CORS_ALLOWED_HEADERS,
    DICOMWEB_PATH,
    DICOMWEB_STORE_PATH,
    ERRORS,
    FRONT_DOOR_ID_HEADER,
    HEALTH_PATH,
    INSTANCE_CACHE,
    INSTANCE_CACHE_CONTROL,
    INSTANCE_PATH,
    MAX_FRAMES,
    MAX_URI,
    ORIGIN_VERIFY_HEADER,
    READ_CLASSES,
    RETRY_AFTER_SECONDS,
    SEARCH_PATH,
)
from components.render.dicomweb_proxy.origin import (
    ORIGIN_CHECK_CLOSED,
    ORIGIN_CHECK_PATH,
    FrontDoorCheck,
    NoOriginCheck,
    OriginCheck,
    SecretFileCheck,
    SharedSecretCheck,
)
from components.render.dicomweb_proxy.render import render_proxy_conf as render_conf
from components.render.dicomweb_proxy.token_check import (
    JWKS_CACHE_SECONDS,
    TOKEN_CHECK_MODULE,
    Login,
    TokenCheck,
    TokenCheckFiles,
)
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE
from components.render.edge import NginxEdge
from settings.services import ArchiveAuth

__all__ = ["ARCHIVE_CREDENTIALS_MODULE", "CACHE_MAX_SIZE", "CHANGING_CACHE_SECONDS", "CHANGING_PATH",
           "CORS_ALLOWED_HEADERS", "DICOMWEB_PATH", "DICOMWEB_STORE_PATH", "ERRORS", "HEALTH_PATH", "INSTANCE_CACHE",
           "INSTANCE_CACHE_CONTROL", "INSTANCE_PATH", "JWKS_CACHE_SECONDS", "MAX_FRAMES", "MAX_URI",
           "ORIGIN_CHECK_CLOSED", "ORIGIN_CHECK_PATH", "ORIGIN_VERIFY_HEADER", "READ_CLASSES", "RETRY_AFTER_SECONDS",
           "SEARCH_PATH", "SYSTEM_CA_FILE", "TOKEN_CHECK_MODULE", "TokenCheck", "TokenCheckFiles",
           "origin_check_directive", "origin_check_file", "render_origin_check", "render_proxy_conf"]


def _origin_check(legacy: tuple[str, str] | str | None) -> OriginCheck:
    """The old (header, value), file path or None, as its type."""
    if legacy is None:
        return NoOriginCheck()
    if isinstance(legacy, str):
        return SecretFileCheck(legacy)
    header, value = legacy
    kinds = {ORIGIN_VERIFY_HEADER: SharedSecretCheck, FRONT_DOOR_ID_HEADER: FrontDoorCheck}
    return kinds[header](value)


def origin_check_file(origin_check: tuple[str, str] | str) -> list[dict]:
    return _origin_check(origin_check).boot_files()


def render_origin_check(header: str, value: str) -> str:
    return _origin_check((header, value)).directives()


def origin_check_directive(origin_check: tuple[str, str] | str | None) -> str:
    return _origin_check(origin_check).directives()


def render_proxy_conf(*, listen: str, upstream_url: str, allowed_origins: Sequence[str], cache_dir: str,
                      enable_stow: bool = False, origin_check: tuple[str, str] | str | None = None,
                      resolver: str | None = None, auth: TokenCheck | None = None,
                      auth_files: TokenCheckFiles | None = None, serve_own_host: bool = False,
                      edge: NginxEdge | None = None, health_listen: str | None = None,
                      archive_auth: ArchiveAuth | None = None, archive_files: ArchiveCredentialFiles | None = None,
                      upstream_ca_file: str = SYSTEM_CA_FILE) -> str:
    return render_conf(ProxyConf(
        listen=listen, upstream_url=upstream_url, allowed_origins=tuple(allowed_origins), cache_dir=cache_dir,
        enable_stow=enable_stow, origin_check=_origin_check(origin_check), resolver=resolver,
        login=Login(auth, auth_files) if auth else None, serve_own_host=serve_own_host, edge=edge,
        health_listen=health_listen, archive=ArchiveAccess(archive_auth, archive_files) if archive_auth else None,
        upstream_ca_file=upstream_ca_file))
