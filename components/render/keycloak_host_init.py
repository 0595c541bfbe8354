"""cloud-init for a Keycloak VM: Keycloak in production mode behind nginx, its data in a PostgreSQL off the VM.

Cloud-neutral (a Debian 12 VM). Keycloak runs from its official container image, pinned to the same
version the sandbox runs from Maven Central, because Debian 12 ships no Java 21. It imports the
rendered realm at first start (an existing realm is left alone) and trusts forwarded headers from the
local nginx only. Its users, credentials and sessions live in the cloud's managed PostgreSQL (or one the
stack names), reached over TLS with the server's certificate and name checked, so the VM holds nothing
that a replacement would lose. Its secrets (passwords, the origin secret) are not in the cloud-init:
they arrive as files at boot (components/render/secret_files.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml

from components.render.dicomweb_proxy.origin import OriginCheck
from components.render.dicomweb_proxy.upstream import SYSTEM_CA_FILE
from components.render.secret_files import SecretFetch, writer_file

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_IMAGE = f"quay.io/keycloak/keycloak:{KEYCLOAK_VERSION}"
NGINX_CONF_PATH = "/etc/nginx/conf.d/keycloak.conf"
ENV_PATH = "/etc/keycloak/keycloak.env"
# The CAs Keycloak checks the database's certificate against: the system's, plus the cloud's database CA if any.
DATABASE_CA_PATH = "/etc/keycloak/database-ca.pem"
CONTAINER_DATABASE_CA = "/opt/keycloak/conf/database-ca.pem"
# AWS's bundle of every RDS CA, at the address AWS's RDS User Guide gives ("Using SSL/TLS to encrypt a connection
# to a DB instance"). Azure's Flexible Server certificates chain to DigiCert and Microsoft roots in Debian's bundle.
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


@dataclass(frozen=True)
class DatabaseEndpoint:
    """The PostgreSQL Keycloak keeps its state in."""

    host: str
    port: int = 5432
    name: str = "keycloak"
    username: str = "keycloak"
    ca_url: str | None = None
    """A CA bundle the VM fetches and trusts besides the system's (RDS_CA_BUNDLE_URL on AWS)."""

    @classmethod
    def from_url(cls, url: str, ca_url: str | None = None) -> DatabaseEndpoint:
        """A database the stack names, postgresql://<user>@<host>[:port]/<database> (settings checked its form)."""
        at = urlsplit(url)
        return cls(host=at.hostname, port=at.port or cls.port, name=at.path.lstrip("/"), username=at.username,
                   ca_url=ca_url)


def keycloak_jdbc_url(host: str, port: int, database: str, ca_file: str) -> str:
    """Keycloak's JDBC URL, on every target: TLS, with the server's certificate checked against `ca_file` and its
    name against `host` (verify-full), so neither a listener nor an impostor on the network sees a password."""
    return f"jdbc:postgresql://{host}:{port}/{database}?sslmode=verify-full&sslrootcert={ca_file}"

_NGINX = """\
# Keycloak behind the CDN. Rendered by components/keycloak_host_init.py; edits here are overwritten.
server {{
    listen 80;
    server_name _;
    server_tokens off;

{origin_check}
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
After=network-online.target
Wants=network-online.target

[Service]
# The secrets arrive apart from the cloud-init (from the secret store, or a protected extension): wait for them.
ConditionPathExists=/etc/keycloak/keycloak.env
EnvironmentFile=/etc/keycloak/keycloak.env
ExecStartPre=-/usr/bin/podman rm -f keycloak
ExecStart=/usr/bin/podman run --rm --name keycloak --network host --env-file /etc/keycloak/keycloak.env \\
    -v /etc/keycloak/import:/opt/keycloak/data/import:ro,Z -v {database_ca}:{container_ca}:ro,Z {image} \\
    start --import-realm --db=postgres --db-url={jdbc_url} --db-username={db_username} \\
    --http-enabled=true --http-host=127.0.0.1 --http-port=8080 \\
    --proxy-headers=xforwarded --proxy-trusted-addresses=127.0.0.1 --hostname-strict=false
ExecStop=/usr/bin/podman stop -t 30 keycloak
Restart=always

[Install]
WantedBy=multi-user.target
"""

# Run once the secrets are on the VM, wherever they came from (the cloud's secret store, or a protected extension).
START_COMMANDS = [
    ["sh", "-c", "nginx -t && systemctl reload nginx"],
    ["systemctl", "enable", "--now", "keycloak.service"],
]


def render_keycloak_nginx_conf(origin_check: OriginCheck) -> str:
    """nginx in front of Keycloak; `origin_check` is what only our CDN sends (components/render/dicomweb_proxy/
    origin.py): its value in the config, or a SecretFileCheck, the file that holds it."""
    return _NGINX.format(origin_check=origin_check.directives())


def render_keycloak_env(*, admin_password: str, db_password: str) -> str:
    """The secrets Keycloak's unit reads (ENV_PATH, mode 0600)."""
    return (f"KC_BOOTSTRAP_ADMIN_USERNAME=admin\nKC_BOOTSTRAP_ADMIN_PASSWORD={admin_password}\n"
            f"KC_DB_PASSWORD={db_password}\n")


def render_keycloak_cloud_init(*, realm_import: dict, origin_check: OriginCheck,
                               database: DatabaseEndpoint, fetch_secrets: SecretFetch | None) -> str:
    """The VM's cloud-init, with no secret in it. The CDN sets the public host name, from which Keycloak derives its
    URLs (hostname-strict off is safe here: only the CDN, with the origin check, reaches nginx).

    `fetch_secrets` writes the secret files from the cloud's secret store: ENV_PATH (render_keycloak_env) and, where
    the origin check is secret, its file (a SecretFileCheck's path, dicomweb_proxy.origin.ORIGIN_CHECK_PATH);
    cloud-init runs it, then START_COMMANDS. With None, whatever delivers the secrets later writes them and runs
    START_COMMANDS."""
    fetch_ca = f"cat {SYSTEM_CA_FILE} > {DATABASE_CA_PATH}.partial" + (
        f" && curl -fsSL --retry 10 {database.ca_url} >> {DATABASE_CA_PATH}.partial" if database.ca_url else "") + \
        f" && mv {DATABASE_CA_PATH}.partial {DATABASE_CA_PATH}"
    jdbc_url = keycloak_jdbc_url(database.host, database.port, database.name, CONTAINER_DATABASE_CA)
    config = {
        "package_update": True,
        "package_upgrade": True,
        "packages": ["nginx", "podman", "unattended-upgrades", *(["curl"] if database.ca_url else []),
                     *(fetch_secrets.packages if fetch_secrets else ())],
        "write_files": [writer_file(), *origin_check.boot_files(),
            {"path": f"/etc/keycloak/import/{realm_import['realm']}.json", "permissions": "0644",
             "content": json.dumps(realm_import, indent=2)},
            {"path": "/etc/systemd/system/keycloak.service", "permissions": "0644",
             "content": _UNIT.format(version=KEYCLOAK_VERSION, image=KEYCLOAK_IMAGE, database_ca=DATABASE_CA_PATH,
                                     container_ca=CONTAINER_DATABASE_CA, jdbc_url=jdbc_url,
                                     db_username=database.username)},
            {"path": NGINX_CONF_PATH, "permissions": "0640", "content": render_keycloak_nginx_conf(origin_check)},
        ],
        "runcmd": [
            ["rm", "-f", "/etc/nginx/sites-enabled/default"],
            ["install", "-d", "-m", "0755", "/etc/keycloak"],
            ["sh", "-c", fetch_ca],
            ["systemctl", "daemon-reload"],
            *([["sh", "-c", fetch_secrets.command], *START_COMMANDS] if fetch_secrets else []),
        ],
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False, width=1000)
