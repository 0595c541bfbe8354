"""cloud-init for a Keycloak VM: Keycloak in production mode behind nginx, PostgreSQL for its data.

Cloud-neutral (a Debian 12 VM). Keycloak runs from its official container image, pinned to the same
version the sandbox runs from Maven Central, because Debian 12 ships no Java 21. It imports the
rendered realm at first start (an existing realm is left alone), keeps its data in PostgreSQL on the
VM's encrypted disk, and trusts forwarded headers from the local nginx only.
"""

from __future__ import annotations

import json

import yaml

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_IMAGE = f"quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}"
NGINX_CONF_PATH = "/etc/nginx/conf.d/keycloak.conf"

_NGINX = """\
# Keycloak behind the CDN. Rendered by components/keycloak_host_init.py; edits here are overwritten.
server {{
    listen 80;
    server_name _;
    server_tokens off;

    # Only our CDN sends this value: a request without it did not come through our CDN.
    if ($http_{header_var} != "{value}") {{ return 403; }}

    # Logins and tokens only. The admin console and API are not published: the realm is managed as code.
    location /admin/ {{ return 404; }}
    location / {{
        proxy_pass http://127.0.0.1:8080;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Host $host;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-Port 443;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_buffer_size 16k;  # Keycloak's login cookies exceed the 4k default
        proxy_buffers 8 16k;
    }}
}}
"""

_UNIT = """\
[Unit]
Description=Keycloak {version}
After=network-online.target postgresql.service
Wants=network-online.target

[Service]
# The secrets arrive apart from the rest where user data is not secret (Azure custom data).
ConditionPathExists=/etc/keycloak/keycloak.env
EnvironmentFile=/etc/keycloak/keycloak.env
ExecStartPre=-/usr/bin/podman rm -f keycloak
ExecStart=/usr/bin/podman run --rm --name keycloak --network host --env-file /etc/keycloak/keycloak.env \\
    -v /etc/keycloak/import:/opt/keycloak/data/import:ro,Z {image} start --import-realm \\
    --db=postgres --db-url=jdbc:postgresql://127.0.0.1:5432/keycloak --db-username=keycloak \\
    --http-enabled=true --http-host=127.0.0.1 --http-port=8080 \\
    --proxy-headers=xforwarded --proxy-trusted-addresses=127.0.0.1 --hostname-strict=false
ExecStop=/usr/bin/podman stop -t 30 keycloak
Restart=always

[Install]
WantedBy=multi-user.target
"""


ENV_PATH = "/etc/keycloak/keycloak.env"
# Run once the secrets are on the VM, wherever they came from (cloud-init or a protected VM extension).
START_COMMANDS = [
    ["sh", "-c", "sudo -u postgres psql -c \"CREATE ROLE keycloak LOGIN PASSWORD '$(sed -n "
                 f"'s/^KC_DB_PASSWORD=//p' {ENV_PATH})'\" && sudo -u postgres createdb -O keycloak keycloak"],
    ["systemctl", "enable", "--now", "keycloak.service"],
]


def render_keycloak_nginx_conf(origin_check: tuple[str, str]) -> str:
    """nginx in front of Keycloak; `origin_check` (header, value) is what only our CDN sends."""
    header, value = origin_check
    return _NGINX.format(header_var=header.lower().replace("-", "_"), value=value)


def render_keycloak_env(*, admin_password: str, db_password: str) -> str:
    """The secrets Keycloak's unit reads (ENV_PATH, mode 0600)."""
    return (f"KC_BOOTSTRAP_ADMIN_USERNAME=admin\nKC_BOOTSTRAP_ADMIN_PASSWORD={admin_password}\n"
            f"KC_DB_PASSWORD={db_password}\n")


def render_keycloak_cloud_init(*, realm_import: dict, origin_check: tuple[str, str], env: str | None) -> str:
    """The VM's cloud-init. The CDN sets the public host name, from which Keycloak derives its URLs
    (hostname-strict off is safe here: only the CDN, with the origin check, reaches nginx).

    `env` (render_keycloak_env) is written and Keycloak started here where user data is secret (AWS);
    with None, whatever delivers the secrets later writes ENV_PATH and runs START_COMMANDS."""
    secrets = [{"path": ENV_PATH, "permissions": "0600", "content": env}] if env is not None else []
    config = {
        "package_update": True,
        "package_upgrade": True,
        "packages": ["nginx", "podman", "postgresql", "unattended-upgrades"],
        "write_files": secrets + [
            {"path": f"/etc/keycloak/import/{realm_import['realm']}.json", "permissions": "0644",
             "content": json.dumps(realm_import, indent=2)},
            {"path": "/etc/systemd/system/keycloak.service", "permissions": "0644",
             "content": _UNIT.format(version=KEYCLOAK_VERSION, image=KEYCLOAK_IMAGE)},
            {"path": NGINX_CONF_PATH, "permissions": "0640", "content": render_keycloak_nginx_conf(origin_check)},
        ],
        "runcmd": [
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
            ["sh", "-c", "nginx -t && systemctl reload nginx"],
            ["systemctl", "daemon-reload"],
            *(START_COMMANDS if env is not None else []),
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False, width=1000)
