"""cloud-init documents as several rules read them: the files a VM's user data (AWS) or custom data (Azure) writes."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ._azure import custom_data, vm_props
from ._ec2 import kind, user_data

ORIGIN_MAP = re.compile(r"map \$http_origin \$\w+ \{(.*?)\}", re.S)
# Secrets as a VM's files hold them: Keycloak's environment file (its admin and database passwords), a line assigning
# a non-empty *PASSWORD* or *SECRET* variable (KEY=value, as environment files have it), and an origin check's value
# (the X-Origin-Verify secret CloudFront sends).
SECRET_FILES = ("/etc/keycloak/keycloak.env",)
SECRET_ASSIGNMENT = re.compile(r"(?m)^\s*(?:export\s+)?[A-Z0-9_]*(?:PASSWORD|SECRET)[A-Z0-9_]*=\S")
SECRET_MARKERS = ("$http_x_origin_verify",)
# Cloud credentials: an AWS access key ID, an AWS credentials file's secret key, an Azure service principal's client
# secret, a bearer token (a JWT). A VM gets its cloud identity from instance metadata (its role, its managed
# identity), never from a key written into its files.
CLOUD_CREDENTIAL = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
                              r"|(?i:aws_secret_access_key|client_?secret)[\"']?\s*[=:]\s*\S"
                              r"|Bearer\s+ey[\w-]+\.[\w-]+\.")


def _document(cloud_init: Any) -> dict:
    """A #cloud-config document as a dict; empty where it is something else or unknown."""
    if not isinstance(cloud_init, str):
        return {}  # an unknown value (a preview before the inputs resolve) or nothing
    try:
        config = yaml.safe_load(cloud_init)
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def vm_cloud_init(args: Any) -> tuple[str, str] | None:
    """(what the resource is, its cloud-init) for an EC2 instance or launch template, an Azure VM or scale set; None
    for anything else."""
    aws = user_data(args)
    if aws is not None:
        return kind(args), aws
    vm = vm_props(args)
    return (vm[0], custom_data(vm[1])) if vm else None


def written_files(cloud_init: Any) -> list[dict]:
    """The `write_files` entries of a #cloud-config document."""
    return [f for f in _document(cloud_init).get("write_files") or [] if isinstance(f, dict)]


def packages(cloud_init: Any) -> list[str]:
    """The packages a #cloud-config document installs."""
    return [str(p) for p in _document(cloud_init).get("packages") or []]


def nginx_confs(cloud_init: Any) -> list[tuple[str, str]]:
    """(path, content) of each nginx configuration file (a `.conf` under /etc/nginx/) the document writes."""
    return [(str(f["path"]), str(f.get("content") or "")) for f in written_files(cloud_init)
            if str(f.get("path", "")).startswith("/etc/nginx/") and str(f["path"]).endswith(".conf")]


def allowed_origins(cloud_init: Any) -> list[str]:
    """The origins of every CORS map (`map $http_origin …`, components/render/dicomweb_proxy/) in the `.conf`
    files the document writes; `*` for an entry that answers any origin."""
    origins = []
    for content in (str(f.get("content") or "") for f in written_files(cloud_init)
                    if str(f.get("path", "")).endswith(".conf")):
        for body in ORIGIN_MAP.findall(content):
            for key, value in re.findall(r'^\s*"([^"]*)"\s+(\S+);', body, re.M):
                origins.append("*" if value == '"*"' else key)
    return origins


def secret_paths(cloud_init: Any) -> list[str]:
    """The files the document writes that hold a secret (SECRET_FILES, SECRET_ASSIGNMENT, SECRET_MARKERS,
    CLOUD_CREDENTIAL)."""
    return [str(f.get("path")) for f in written_files(cloud_init)
            if str(f.get("path")) in SECRET_FILES or SECRET_ASSIGNMENT.search(str(f.get("content") or ""))
            or any(m in str(f.get("content") or "") for m in SECRET_MARKERS)
            or CLOUD_CREDENTIAL.search(str(f.get("content") or ""))]


# Share links' signing keys (components/render/dicomweb_proxy/token_check.py: share_keys_conf), and the nginx
# settings of their lifetime.
SHARE_KEYS_MAP = re.compile(r"map \$host \$ohif_share_keys \{ default '(.*)'; \}")
SHARE_MINUTES = re.compile(r"set \$ohif_share_(default|max)_minutes (\d+);")
# A VM's boot fetch of its secret files from the cloud's secret store (components/render/secret_files.py).
SECRET_STORE_FETCHES = ("secretsmanager get-secret-value", ".vault.azure.net/secrets/")


def share_keys_written(cloud_init: Any) -> list[str]:
    """The files the document writes that hold share links' signing keys (a keys map with any key in it)."""
    return [str(f.get("path")) for f in written_files(cloud_init)
            if any(body not in ("", '{"keys":{}}') for body in SHARE_KEYS_MAP.findall(str(f.get("content") or "")))]


def share_lifetimes(cloud_init: Any) -> dict[str, int]:
    """The share links' lifetimes the nginx files set, in minutes: {"default": …, "max": …}; empty without share
    links."""
    return {kind: int(minutes) for _, content in nginx_confs(cloud_init) for kind, minutes in
            SHARE_MINUTES.findall(content)}


def fetches_secrets_before_nginx(cloud_init: Any) -> bool:
    """Whether the document's commands fetch the VM's secret files from the cloud's secret store before nginx
    starts."""
    commands = [" ".join(map(str, c)) if isinstance(c, list) else str(c)
                for c in _document(cloud_init).get("runcmd") or []]
    fetch = next((i for i, c in enumerate(commands) if any(f in c for f in SECRET_STORE_FETCHES)), None)
    start = next((i for i, c in enumerate(commands) if "systemctl enable --now nginx" in c), None)
    return fetch is not None and (start is None or fetch < start)
