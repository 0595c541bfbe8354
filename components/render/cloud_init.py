"""cloud-init for a Debian 12 VM that runs one rendered nginx configuration.

Cloud-neutral: EC2 user data and Azure custom data alike. The nginx file it installs is exactly
what the sandbox and the integration tests run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import yaml

from components.render.archive_service import INSTANCE_METADATA_URL, ArchiveCredentialFiles
from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE, ArchiveAccess
from components.render.dicomweb_proxy.conf import ACCESS_MODULE, ProxyConf
from components.render.dicomweb_proxy.origin import OriginCheck
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.dicomweb_proxy.share_store import SHARE_STORE_MODULE, ShareStore, ShareStoreAt, ShareStoreFiles
from components.render.dicomweb_proxy.token_check import (
    Login,
    TokenCheck,
    TokenCheckFiles,
)
from components.render.secret_files import SecretFetch, writer_file
from settings.model import ShareSettings
from settings.services import ArchiveAuth

NGINX_CONF_PATH = "/etc/nginx/conf.d/ohif-dicomweb-proxy.conf"


def render_cloud_init(nginx_conf: str, extra_files: dict[str, str] | None = None,
                      secret_files: list[dict] | None = None, fetch_secrets: SecretFetch | None = None,
                      worker_dirs: Sequence[str] = ()) -> str:
    """`extra_files` (path: content) are written beside the config, such as the njs token check. `secret_files` are
    the write_files entries that hold a secret's place until `fetch_secrets` writes it, before nginx starts.
    `worker_dirs` are made for nginx's workers alone (www-data, mode 0700), such as where a cloud credential is kept."""
    files = [{"path": path, "permissions": "0644", "content": content} for path, content in (extra_files or {}).items()]
    fetch = [writer_file()] if fetch_secrets else []
    config = {
        "package_update": True,
        "package_upgrade": True,
        # unattended-upgrades: a proxy in front of patient data must take security fixes by itself.
        "packages": ["nginx", "libnginx-mod-http-js", "unattended-upgrades",
                     *(fetch_secrets.packages if fetch_secrets else ())],
        "write_files": fetch + (secret_files or []) + files + [
            {"path": NGINX_CONF_PATH, "permissions": "0640", "content": nginx_conf}],
        "runcmd": [
            # Debian's default site would answer on port 80 beside ours.
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
            *(["install", "-d", "-o", "www-data", "-g", "www-data", "-m", "0700", d] for d in worker_dirs),
            *([["sh", "-c", fetch_secrets.command]] if fetch_secrets else []),
            ["sh", "-c", "nginx -t && systemctl enable --now nginx && systemctl reload nginx"],
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False, width=1000)


# Where a proxy VM answers its balancer's health check (dicomweb_proxy.interface.HEALTH_PATH).
VM_HEALTH_PORT = 8090
# Where a proxy VM keeps its cache of DICOMweb reads (on its encrypted disk).
VM_CACHE_DIR = "/var/cache/nginx/ohif-dicomweb"
# Where a proxy VM keeps the cached realm keys, the token check's verdicts and the share keys.
VM_TOKEN_CHECK_FILES = TokenCheckFiles(cache_dir="/var/cache/nginx/ohif-jwks",
                                       verdict_cache_dir="/var/cache/nginx/ohif-token-verdicts",
                                       check_listen="127.0.0.1:8081",
                                       # The VM's journal (journald reads /dev/log): `journalctl -t ohif_audit`.
                                       audit_log="syslog:server=unix:/dev/log,tag=ohif_audit,nohostname",
                                       share_keys_path="/etc/nginx/ohif-secrets/share-keys.conf")
# Where a proxy VM keeps its njs modules, each under its name in the repository (share_store.js imports
# archive_credentials.js by name).
VM_NJS_DIR = "/etc/nginx/njs"
# Its module of what a request may reach (dicomweb_proxy.conf.ACCESS_MODULE).
VM_ACCESS_MODULE = f"{VM_NJS_DIR}/{ACCESS_MODULE.name}"
# What proves it to a cloud DICOM service (its credential fetched from instance metadata).
VM_ARCHIVE_FILES = ArchiveCredentialFiles(module_path=f"{VM_NJS_DIR}/{ARCHIVE_CREDENTIALS_MODULE.name}",
                                          credentials_file="/var/lib/ohif-archive/credential.json",
                                          metadata_url=INSTANCE_METADATA_URL)
# The share links' store, reached with the VM's identity as the archive service is.
VM_SHARE_STORE_FILES = ShareStoreFiles(module_dir=VM_NJS_DIR,
                                       credentials_file="/var/lib/ohif-share-store/credential.json",
                                       metadata_url=INSTANCE_METADATA_URL, listen="127.0.0.1:8082",
                                       cache_dir="/var/cache/nginx/ohif-revocations")


def njs_modules(*, archive: bool, share_store: bool) -> dict[str, str]:
    """The proxy's njs modules by file name, as every host runs them (the VMs and the sandbox): the repository's,
    without their whole-line comments (read those there), which would take a quarter of the 16 KB of user data EC2
    allows a VM, gzipped. `archive`: the archive credential's module; `share_store`: the share store's, which imports
    it."""
    paths = [ACCESS_MODULE] + ([ARCHIVE_CREDENTIALS_MODULE] if archive or share_store else []) + (
        [SHARE_STORE_MODULE] if share_store else [])
    return {path.name: "".join(line for line in path.read_text().splitlines(keepends=True)
                               if not line.lstrip().startswith("//")) for path in paths}


def render_proxy_cloud_init(*, upstream_url: str, allowed_origins: Sequence[str], enable_stow: bool,
                            origin_check: OriginCheck, resolver: str, token_check: TokenCheck | None,
                            serve_own_host: bool, fetch_secrets: SecretFetch | None = None,
                            archive_auth: ArchiveAuth | None = None, share: ShareSettings | None = None,
                            share_store: ShareStoreAt | None = None) -> str:
    """A DICOMweb proxy VM's cloud-init, on either cloud: the rendered nginx config, its njs module (ACCESS_MODULE:
    the query check, and with login the study scope, the token check and share links), and the archive credential's
    module (`archive_auth`) for a cloud DICOM service. A secret origin check (a SecretFileCheck: components/render/
    dicomweb_proxy/origin.py) and `share` links' keys are written by `fetch_secrets` before nginx starts; their
    records and revocations are in `share_store`."""
    if share and not (token_check and fetch_secrets):
        raise ValueError("share links need login, and their keys fetched from the secret store at boot")
    store = ShareStore(share_store, VM_SHARE_STORE_FILES) if share_store else None
    login = Login(token_check, VM_TOKEN_CHECK_FILES, share, store) if token_check else None
    archive_files = VM_ARCHIVE_FILES if archive_auth else None
    conf = render_proxy_conf(ProxyConf(
        listen="80", upstream_url=upstream_url, allowed_origins=tuple(allowed_origins), cache_dir=VM_CACHE_DIR,
        enable_stow=enable_stow, origin_check=origin_check, resolver=resolver,
        login=login, serve_own_host=serve_own_host,
        health_listen=str(VM_HEALTH_PORT),
        archive=ArchiveAccess(archive_auth, archive_files) if archive_auth else None,
        access_module_path=VM_ACCESS_MODULE))
    modules = {f"{VM_NJS_DIR}/{name}": text
               for name, text in njs_modules(archive=archive_files is not None, share_store=store is not None).items()}
    credentials = ([archive_files.credentials_file] if archive_files else []) + (
        [VM_SHARE_STORE_FILES.credentials_file] if store else [])
    return render_cloud_init(conf, extra_files=modules,
                             secret_files=origin_check.boot_files() + (login.boot_files() if login else []),
                             fetch_secrets=fetch_secrets,
                             worker_dirs=[str(PurePosixPath(f).parent) for f in credentials])


def nginx_conf_of(cloud_init: str) -> str:
    """The nginx file a rendered cloud-init installs (what tests feed to a real nginx)."""
    config = yaml.safe_load(cloud_init)
    return next(f["content"] for f in config["write_files"] if f["path"] == NGINX_CONF_PATH)
