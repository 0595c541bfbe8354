"""A real Keycloak for the sandbox: the pinned server distribution from Maven Central, in dev mode on loopback.

Each Keycloak gets its own copy of the server (Keycloak writes its build under its home) and keeps its state in
the sandbox's PostgreSQL (sandbox/postgres.py), as the cloud's Keycloak keeps it in a managed database: a fresh
Keycloak on the same database finds every account. The rendered realm is imported at the first start (a realm that
exists is left alone), with a generated admin password and a test user with a generated password.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from components.render.keycloak_host_init import KEYCLOAK_VERSION
from components.render.realm import RealmModel, render_realm_import
from components.render.viewer_build import CACHE
from sandbox.postgres import KeycloakDatabase
from sandbox.processes import Service, ServiceError

ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
# Keycloak 26 needs Java 21+; Debian 12's default JDK is 17.
JAVA_HOMES = ("/usr/lib/jvm/temurin-25-jdk-amd64", "/usr/lib/jvm/temurin-21-jdk-amd64",
              "/usr/lib/jvm/java-21-openjdk-amd64")
TEST_USER = "sandbox-reader"


def fetch_keycloak() -> Path:
    """The unpacked server distribution, downloaded once with Maven."""
    home = CACHE / f"keycloak-{KEYCLOAK_VERSION}"
    if home.is_dir():
        return home
    CACHE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        try:
            subprocess.run(["mvn", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={tmp}"],
                           check=True, capture_output=True, text=True)
        except FileNotFoundError as e:
            raise ServiceError("keycloak", "mvn not found", "apt-get install maven") from e
        except subprocess.CalledProcessError as e:
            raise ServiceError("keycloak", f"mvn could not fetch {ARTIFACT}", e.stdout[-500:]) from e
        with zipfile.ZipFile(next(Path(tmp).glob("*.zip"))) as archive:
            archive.extractall(tmp)
        unpacked = Path(tmp) / f"keycloak-{KEYCLOAK_VERSION}"
        for script in (unpacked / "bin").glob("*.sh"):
            script.chmod(0o755)
        shutil.move(str(unpacked), home)
    return home


def java_home() -> str:
    for home in JAVA_HOMES:
        if Path(home, "bin", "java").exists():
            return home
    raise ServiceError("keycloak", "no Java 21+ found", f"install a JDK 21+ at one of {', '.join(JAVA_HOMES)}")


@dataclass(frozen=True)
class KeycloakLogin:
    url: str
    username: str
    password: str


class SandboxKeycloak:
    def __init__(self, home: Path, port: int, realm: RealmModel, listen_port: int, ca_file: Path,
                 database: KeycloakDatabase, admin_password: str) -> None:
        """Keycloak installed in `home`, reached at https://127.0.0.1:`port` (through the sandbox's edge, whose
        certificate `ca_file` vouches for), listening on `listen_port`, its state in `database`. `admin_password`
        is the bootstrap admin's: it takes effect when the database is new, and stays the database's after."""
        self.run_dir, self.port, self.realm, self.listen_port = home, port, realm, listen_port
        self.url = f"https://127.0.0.1:{port}"
        self._tls = ssl.create_default_context(cafile=ca_file)
        self.database, self.admin_password = database, admin_password

    def service(self) -> Service:
        shutil.copytree(fetch_keycloak(), self.run_dir, symlinks=True)
        imports = self.run_dir / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        (imports / f"{self.realm.name}.json").write_text(json.dumps(render_realm_import(self.realm), indent=2))
        env = {**os.environ, "JAVA_HOME": java_home(), "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
               "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password, "KC_DB_PASSWORD": self.database.password}
        return Service("keycloak", [str(self.run_dir / "bin" / "kc.sh"), "start-dev", f"--http-port={self.listen_port}",
                                    "--http-host=127.0.0.1", "--import-realm", "--db=postgres",
                                    f"--db-url={self.database.jdbc_url}", f"--db-username={self.database.username}",
                                    # Behind the edge, as behind the CDN in the cloud (keycloak_host_init.py).
                                    "--proxy-headers=xforwarded", "--proxy-trusted-addresses=127.0.0.1"],
                       log=self.run_dir.parent / f"{self.run_dir.name}.log",
                       ready_url=f"http://127.0.0.1:{self.listen_port}/realms/{self.realm.name}/.well-known/"
                                 "openid-configuration",
                       ports=[self.listen_port], env=env,
                       port_hint="stop what listens there, or change auth.keycloak_url in the stack file")

    def admin_token(self) -> str:
        form = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                       "password": self.admin_password}).encode()
        with urllib.request.urlopen(f"{self.url}/realms/master/protocol/openid-connect/token", form,
                                    context=self._tls) as reply:
            return json.load(reply)["access_token"]

    def admin(self, method: str, path: str, body: object | None = None) -> object:
        """Call the admin REST API (/admin/realms/<realm><path>) as the bootstrap admin."""
        request = urllib.request.Request(
            f"{self.url}/admin/realms/{self.realm.name}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.admin_token()}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._tls) as reply:
            text = reply.read()
            return json.loads(text) if text else None

    def create_user(self, username: str = TEST_USER, studies: tuple[str, ...] = (),
                    roles: tuple[str, ...] | None = None) -> KeycloakLogin:
        """A user with a generated password and `roles` (the realm's reader role if None); with `studies`, limited to
        them (the user attribute an admin sets, which the realm's mapper puts in the token)."""
        password = secrets.token_urlsafe(12)
        self.admin("POST", "/users", {
            "username": username, "enabled": True, "email": f"{username}@sandbox.invalid", "emailVerified": True,
            "firstName": "Sandbox", "lastName": "Reader",
            **({"attributes": {self.realm.studies_attribute: list(studies)}} if studies else {}),
            "credentials": [{"type": "password", "value": password, "temporary": False}]})
        user_id = self.admin("GET", f"/users?exact=true&username={username}")[0]["id"]
        granted = [self.admin("GET", f"/roles/{role}") for role in (roles or (self.realm.reader_role,))]
        self.admin("POST", f"/users/{user_id}/role-mappings/realm", granted)
        return KeycloakLogin(self.url, username, password)
