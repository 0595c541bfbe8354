"""A real PostgreSQL for the sandbox's Keycloak, from Debian's packages: where accounts live apart from Keycloak, as
the cloud's managed database does, so that a fresh Keycloak finds every account the last one made.

One cluster per run (initdb), on 127.0.0.1 only, password authentication (scram-sha-256) for one role and database,
`keycloak`, with a generated password, over TLS only (the run's certificate, sandbox/tls.py), as the clouds require
it: Keycloak connects with the same JDBC URL the VMs use (keycloak_host_init.keycloak_jdbc_url, verify-full).
PostgreSQL refuses to run as root; run as root, the sandbox runs it as the package's `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.render.keycloak_host_init import keycloak_jdbc_url
from sandbox.processes import Service, ServiceError
from sandbox.tls import RunTls

BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "keycloak"


@dataclass(frozen=True)
class KeycloakDatabase:
    """Where Keycloak keeps its state: a JDBC URL and the role's credentials."""

    jdbc_url: str
    username: str
    password: str


def _as_owner(argv: list[str]) -> list[str]:
    """`argv` as the cluster's owner: the package's `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


# Who may connect, and how: the superuser (the OS user) by the cluster's own socket, the role over TLS with its
# password; anything else, plain TCP included, matches no line and is refused.
_HBA = f"""local all postgres peer
hostssl {DATABASE} {DATABASE} 127.0.0.1/32 scram-sha-256
"""


class SandboxPostgres:
    def __init__(self, run_dir: Path, port: int, tls: RunTls) -> None:
        self.data, self.port, self.tls = run_dir / "postgres", port, tls
        self.database = KeycloakDatabase(keycloak_jdbc_url("127.0.0.1", port, DATABASE, str(tls.ca_file)), DATABASE,
                                         secrets.token_urlsafe(18))

    def service(self) -> Service:
        """The initialised cluster's server (not started yet)."""
        if not (BIN / "postgres").exists():
            raise ServiceError("postgres", f"{BIN / 'postgres'} not found", "apt-get install postgresql")
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            shutil.chown(self.data, owner.pw_uid, owner.pw_gid)
        self.data.chmod(0o700)
        # The superuser (the OS user) may connect only by the cluster's own socket; the role only by password.
        self._run([str(BIN / "initdb"), "-D", str(self.data / "cluster"), "-U", "postgres", "--auth-local=peer",
                   "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"])
        cluster = self.data / "cluster"
        (cluster / "pg_hba.conf").write_text(_HBA)
        # PostgreSQL reads its key only if its owner alone can: a copy of its own in the cluster.
        for name, source in (("server.crt", self.tls.cert_file), ("server.key", self.tls.key_file)):
            (cluster / name).write_bytes(source.read_bytes())
            (cluster / name).chmod(0o600)
            if os.geteuid() == 0:
                shutil.chown(cluster / name, "postgres", "postgres")
        (cluster / "postgresql.auto.conf").write_text(
            f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.data}'\n"
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            "ssl_min_protocol_version = 'TLSv1.2'\n")
        return Service("postgres", _as_owner([str(BIN / "postgres"), "-D", str(self.data / "cluster")]),
                       log=self.data.parent / "postgres.log", ready_url=f"tcp://127.0.0.1:{self.port}",
                       ports=[self.port], port_hint="stop what listens there")

    def create_database(self) -> None:
        """The role and database Keycloak uses, once the server runs. The SQL (with the password) goes in on
        stdin, not in a command line another user's `ps` would show."""
        role = self.database.username
        self._run([str(BIN / "psql"), "-h", str(self.data), "-p", str(self.port), "-U", "postgres",
                   "-v", "ON_ERROR_STOP=1", "-f", "-"],
                  sql=f"CREATE ROLE {role} LOGIN PASSWORD '{self.database.password}';\n"
                      f"CREATE DATABASE {DATABASE} OWNER {role};\n")

    def _run(self, argv: list[str], sql: str | None = None) -> None:
        try:
            subprocess.run(_as_owner(argv), check=True, capture_output=True, text=True, cwd=self.data, input=sql)
        except subprocess.CalledProcessError as e:
            raise ServiceError("postgres", f"{Path(argv[0]).name} failed", (e.stderr or e.stdout)[-500:]) from e
