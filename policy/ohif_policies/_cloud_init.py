"""cloud-init documents as several rules read them: the files a VM's user data (AWS) or custom data (Azure) writes."""

from __future__ import annotations

import re
from typing import Any

import yaml

ORIGIN_MAP = re.compile(r"map \$http_origin \$\w+ \{(.*?)\}", re.S)


def written_files(cloud_init: Any) -> list[dict]:
    """The `write_files` entries of a #cloud-config document; none where it is something else or unknown."""
    if not isinstance(cloud_init, str):
        return []  # an unknown value (a preview before the inputs resolve) or nothing
    try:
        config = yaml.safe_load(cloud_init)
    except yaml.YAMLError:
        return []
    files = config.get("write_files") if isinstance(config, dict) else None
    return [f for f in files or [] if isinstance(f, dict)]


def nginx_confs(cloud_init: Any) -> list[tuple[str, str]]:
    """(path, content) of each nginx configuration file (a `.conf` under /etc/nginx/) the document writes."""
    return [(str(f["path"]), str(f.get("content") or "")) for f in written_files(cloud_init)
            if str(f.get("path", "")).startswith("/etc/nginx/") and str(f["path"]).endswith(".conf")]


def allowed_origins(cloud_init: Any) -> list[str]:
    """The origins of every CORS map (`map $http_origin …`, components/render/proxy_nginx.py) in the `.conf`
    files the document writes; `*` for an entry that answers any origin."""
    origins = []
    for content in (str(f.get("content") or "") for f in written_files(cloud_init)
                    if str(f.get("path", "")).endswith(".conf")):
        for body in ORIGIN_MAP.findall(content):
            for key, value in re.findall(r'^\s*"([^"]*)"\s+(\S+);', body, re.M):
                origins.append("*" if value == '"*"' else key)
    return origins
