"""cloud-init for a Debian 12 VM that runs one rendered nginx configuration.

Cloud-neutral: EC2 user data here, Azure custom data later. The nginx file it installs is exactly
what the sandbox and the integration tests run.
"""

from __future__ import annotations

import yaml

NGINX_CONF_PATH = "/etc/nginx/conf.d/ohif-dicomweb-proxy.conf"


def render_cloud_init(nginx_conf: str, extra_files: dict[str, str] | None = None) -> str:
    """`extra_files` (path: content) are written beside the config, such as the njs token check."""
    files = [{"path": path, "permissions": "0644", "content": content} for path, content in (extra_files or {}).items()]
    config = {
        "package_update": True,
        "package_upgrade": True,
        # unattended-upgrades: a proxy in front of patient data must take security fixes by itself.
        "packages": ["nginx", "libnginx-mod-http-js", "unattended-upgrades"],
        "write_files": files + [{"path": NGINX_CONF_PATH, "permissions": "0640", "content": nginx_conf}],
        "runcmd": [
            # Debian's default site would answer on port 80 beside ours.
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
            ["sh", "-c", "nginx -t && systemctl enable --now nginx && systemctl reload nginx"],
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False, width=1000)


def nginx_conf_of(cloud_init: str) -> str:
    """The nginx file a rendered cloud-init installs (what tests feed to a real nginx)."""
    config = yaml.safe_load(cloud_init)
    return next(f["content"] for f in config["write_files"] if f["path"] == NGINX_CONF_PATH)
