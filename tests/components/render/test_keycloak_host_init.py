"""The Keycloak VM's rendered nginx config and cloud-init, checked by real nginx."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
import yaml

from components.render.dicomweb_proxy.origin import (
    ORIGIN_CHECK_CLOSED,
    ORIGIN_CHECK_PATH,
    OriginCheck,
    SecretFileCheck,
    SharedSecretCheck,
)
from components.render.keycloak_host_init import (
    CONTAINER_DATABASE_CA,
    ENV_PATH,
    KEYCLOAK_IMAGE,
    NGINX_CONF_PATH,
    RDS_CA_BUNDLE_URL,
    DatabaseEndpoint,
    render_keycloak_cloud_init,
    render_keycloak_env,
    render_keycloak_nginx_conf,
)
from components.render.realm import RealmModel, render_realm_import
from components.render.secret_files import WRITER, WRITER_PATH, SecretFetch, secret_document
from sandbox.keycloak import fetch_keycloak, java_home
from sandbox.nginx import nginx_service
from sandbox.postgres import BIN, SandboxPostgres
from sandbox.processes import Service, free_port, free_ports
from tests.conftest import SESSION_TLS, nginx_syntax_ok, require_servers, require_tool


def test_keycloak_nginx_conf_passes_nginx_t(tmp_path):
    require_servers()
    conf = render_keycloak_nginx_conf(SharedSecretCheck("abcDEF123"))
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    nginx_syntax_ok(conf, tmp_path)


REALM = render_realm_import(RealmModel(name="ohif", viewer_origin="https://viewer.example.org"))
FETCH = SecretFetch(command="fetch-the-secrets", packages=("awscli",))


SECRET_FILE_CHECK = SecretFileCheck()


def render(database: DatabaseEndpoint, origin_check: OriginCheck = SECRET_FILE_CHECK) -> dict:
    return yaml.safe_load(render_keycloak_cloud_init(realm_import=REALM, origin_check=origin_check, database=database,
                                                     fetch_secrets=FETCH))


def test_cloud_init_holds_no_secret_and_starts_keycloak_once_they_arrive():
    doc = render(DatabaseEndpoint(host="kc.c0ffee.eu-west-1.rds.amazonaws.com", ca_url=RDS_CA_BUNDLE_URL))
    files = {f["path"]: f for f in doc["write_files"]}
    assert ENV_PATH not in files, "the passwords come from the secret store"
    assert files[ORIGIN_CHECK_PATH]["content"] == ORIGIN_CHECK_CLOSED, "closed until the origin secret arrives"
    assert f"include {ORIGIN_CHECK_PATH};" in files[NGINX_CONF_PATH]["content"]
    assert files[WRITER_PATH]["permissions"] == "0755"
    assert files["/etc/keycloak/import/ohif.json"]["content"].startswith("{")
    assert "postgresql" not in doc["packages"] and "awscli" in doc["packages"]
    commands = [c[-1] if c[0] == "sh" else " ".join(c) for c in doc["runcmd"]]
    ca, fetch = commands.index(next(c for c in commands if RDS_CA_BUNDLE_URL in c)), commands.index("fetch-the-secrets")
    assert ca < fetch < commands.index("systemctl enable --now keycloak.service")
    unit = files["/etc/systemd/system/keycloak.service"]["content"]
    assert ("--db-url=jdbc:postgresql://kc.c0ffee.eu-west-1.rds.amazonaws.com:5432/keycloak?sslmode=verify-full&"
            f"sslrootcert={CONTAINER_DATABASE_CA}") in unit


def test_the_secret_writer_writes_each_file_for_root_alone(tmp_path):
    files = {str(tmp_path / "etc" / "keycloak.env"): "KC_DB_PASSWORD=pw\n", str(tmp_path / "origin.conf"): "x"}
    (tmp_path / "writer").write_text(WRITER)
    subprocess.run([sys.executable, str(tmp_path / "writer")], input=secret_document(files), text=True, check=True)
    for path, content in files.items():
        assert Path(path).read_text() == content and Path(path).stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.rglob("*.partial"))


def test_keycloak_host_config_runs_for_real(tmp_path):
    """The VM's Keycloak flags, nginx config and secret files, run here: Keycloak in production mode on a real
    PostgreSQL that accepts TLS only, through the VM's JDBC URL (verify-full), behind the rendered nginx, takes its
    public URL from the CDN's Host header; nginx refuses requests without the origin secret, which the secret writer
    put in place."""
    require_servers()
    require_tool("mvn", "maven")
    # PostgreSQL runs as its own user when we are root, so its directory must be one that user can enter.
    postgres_dir = Path(tempfile.mkdtemp(prefix="ohif-test-postgres-"))
    postgres_dir.chmod(0o755)
    postgres = SandboxPostgres(postgres_dir, free_port(), SESSION_TLS)
    check_file = tmp_path / "origin-check.conf"
    doc = render(DatabaseEndpoint(host="127.0.0.1", port=postgres.port, username=postgres.database.username),
                 origin_check=SecretFileCheck(str(check_file)))
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    # The secret files, as the secret store hands them to the VM, written by the VM's own writer.
    env_file = tmp_path / "keycloak.env"
    (tmp_path / "writer").write_text(files[WRITER_PATH])
    subprocess.run([sys.executable, str(tmp_path / "writer")], text=True, check=True, input=secret_document({
        str(env_file): render_keycloak_env(admin_password="adminPW1", db_password=postgres.database.password),
        str(check_file): SharedSecretCheck("originPW3").directives()}))
    exec_start = next(line for line in files["/etc/systemd/system/keycloak.service"].replace("\\\n", " ").splitlines()
                      if line.startswith("ExecStart="))
    words = shlex.split(exec_start)
    flags = words[words.index(KEYCLOAK_IMAGE) + 1:]
    assert flags[:2] == ["start", "--import-realm"], flags
    # Here: the distribution instead of the container (the CA where the container mounts it), free ports.
    kc_port, web_port = free_ports(2)
    flags = [f.replace(CONTAINER_DATABASE_CA, str(SESSION_TLS.ca_file)) for f in flags] + [f"--http-port={kc_port}"]
    flags.remove("--http-port=8080")
    assert any(f.startswith("--db-url=jdbc:postgresql://127.0.0.1:") and "sslmode=verify-full" in f for f in flags)

    home = tmp_path / "keycloak"
    shutil.copytree(fetch_keycloak(), home, symlinks=True)
    (home / "data" / "import").mkdir(parents=True)
    (home / "data" / "import" / "ohif.json").write_text(files["/etc/keycloak/import/ohif.json"])
    env = {**os.environ, "JAVA_HOME": java_home(),
           **dict(line.split("=", 1) for line in env_file.read_text().splitlines())}
    keycloak = Service("keycloak", [str(home / "bin" / "kc.sh"), *flags], log=tmp_path / "keycloak.log",
                       ready_url=f"http://127.0.0.1:{kc_port}/realms/ohif", ports=[kc_port], env=env)
    (tmp_path / "keycloak.conf").write_text(
        files[NGINX_CONF_PATH].replace("listen 80;", f"listen 127.0.0.1:{web_port};")
        .replace("127.0.0.1:8080", f"127.0.0.1:{kc_port}"))
    nginx = nginx_service(tmp_path, [tmp_path / "keycloak.conf"], ports=[web_port],
                          ready_url=f"http://127.0.0.1:{web_port}/")
    database = postgres.service()
    database.start()
    try:
        postgres.create_database()
        keycloak.start(timeout=240)
        nginx.start()
        url = f"http://127.0.0.1:{web_port}"
        cdn = {"Host": "d111111abcdef8.cloudfront.net", "X-Origin-Verify": "originPW3"}
        discovery = requests.get(f"{url}/realms/ohif/.well-known/openid-configuration", headers=cdn)
        assert discovery.status_code == 200, discovery.text[:300]
        assert discovery.json()["issuer"] == "https://d111111abcdef8.cloudfront.net/realms/ohif"
        assert requests.get(f"{url}/realms/ohif/.well-known/openid-configuration",
                            headers={"Host": cdn["Host"]}).status_code == 403
        assert requests.get(f"{url}/admin/master/console/", headers=cdn).status_code == 404
        # The database takes TLS only, as the clouds' do (rds.force_ssl, require_secure_transport).
        plain = subprocess.run([str(BIN / "psql"), f"host=127.0.0.1 port={postgres.port} dbname=keycloak "
                                f"user=keycloak sslmode=disable", "-c", "select 1"], capture_output=True, text=True,
                               env={**os.environ, "PGPASSWORD": postgres.database.password})
        assert plain.returncode != 0 and "no encryption" in plain.stderr, plain.stderr
    finally:
        nginx.stop()
        keycloak.stop()
        database.stop()
        shutil.rmtree(postgres_dir)
