"""The Keycloak VM's rendered nginx config and cloud-init, checked by real nginx."""

from __future__ import annotations

import os
import shlex
import shutil

import requests
import yaml

from components.render.keycloak_host_init import (KEYCLOAK_IMAGE, NGINX_CONF_PATH, render_keycloak_cloud_init,
                                                  render_keycloak_env, render_keycloak_nginx_conf)
from components.render.realm import RealmModel, render_realm_import
from sandbox.keycloak import fetch_keycloak, java_home
from sandbox.processes import Service, free_port, free_ports
from sandbox.nginx import nginx_service
from tests.conftest import nginx_syntax_ok, require_servers, require_tool


def test_keycloak_nginx_conf_passes_nginx_t(tmp_path):
    require_servers()
    conf = render_keycloak_nginx_conf(("X-Origin-Verify", "abcDEF123")).replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    nginx_syntax_ok(conf, tmp_path)


def test_cloud_init_writes_realm_secrets_and_nginx():
    realm = render_realm_import(RealmModel(name="ohif", viewer_origin="https://viewer.example.org"))
    doc = yaml.safe_load(render_keycloak_cloud_init(
        realm_import=realm, origin_check=("X-Origin-Verify", "originPW3"),
        env=render_keycloak_env(admin_password="adminPW1", db_password="dbPW2")))
    files = {f["path"]: f for f in doc["write_files"]}
    assert files["/etc/keycloak/keycloak.env"]["permissions"] == "0600"
    assert "KC_BOOTSTRAP_ADMIN_PASSWORD=adminPW1" in files["/etc/keycloak/keycloak.env"]["content"]
    assert files["/etc/keycloak/import/ohif.json"]["content"].startswith("{")
    assert 'if ($http_x_origin_verify != "originPW3")' in files[NGINX_CONF_PATH]["content"]


def test_keycloak_host_config_runs_for_real(tmp_path):
    """The VM's Keycloak flags and nginx config, run here: Keycloak in production mode behind the rendered nginx
    takes its public URL from the CDN's Host header, and nginx refuses requests without the origin secret."""
    require_servers()
    require_tool("mvn", "maven")
    realm = render_realm_import(RealmModel(name="ohif", viewer_origin="https://viewer.example.org"))
    doc = yaml.safe_load(render_keycloak_cloud_init(
        realm_import=realm, origin_check=("X-Origin-Verify", "originPW3"),
        env=render_keycloak_env(admin_password="adminPW1", db_password="dbPW2")))
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    exec_start = next(line for line in files["/etc/systemd/system/keycloak.service"].replace("\\\n", " ").splitlines()
                      if line.startswith("ExecStart="))
    words = shlex.split(exec_start)
    flags = words[words.index(KEYCLOAK_IMAGE) + 1:]
    # Here: the distribution instead of the container, an in-memory database instead of PostgreSQL, free ports.
    kc_port, web_port = free_ports(2)
    flags = [f for f in flags if not f.startswith("--db")] + ["--db=dev-mem", f"--http-port={kc_port}"]
    flags.remove("--http-port=8080")
    assert flags[:2] == ["start", "--import-realm"], flags

    home = tmp_path / "keycloak"
    shutil.copytree(fetch_keycloak(), home, symlinks=True)
    (home / "data" / "import").mkdir(parents=True)
    (home / "data" / "import" / "ohif.json").write_text(files["/etc/keycloak/import/ohif.json"])
    env = {**os.environ, "JAVA_HOME": java_home(),
           **dict(line.split("=", 1) for line in files["/etc/keycloak/keycloak.env"].splitlines())}
    keycloak = Service("keycloak", [str(home / "bin" / "kc.sh"), *flags], log=tmp_path / "keycloak.log",
                       ready_url=f"http://127.0.0.1:{kc_port}/realms/ohif", ports=[kc_port], env=env)
    (tmp_path / "keycloak.conf").write_text(files[NGINX_CONF_PATH].replace("listen 80;", f"listen 127.0.0.1:{web_port};")
                                            .replace("127.0.0.1:8080", f"127.0.0.1:{kc_port}"))
    nginx = nginx_service(tmp_path, [tmp_path / "keycloak.conf"], ports=[web_port],
                          ready_url=f"http://127.0.0.1:{web_port}/")
    keycloak.start(timeout=240)
    try:
        nginx.start()
        url = f"http://127.0.0.1:{web_port}"
        cdn = {"Host": "d111111abcdef8.cloudfront.net", "X-Origin-Verify": "originPW3"}
        discovery = requests.get(f"{url}/realms/ohif/.well-known/openid-configuration", headers=cdn)
        assert discovery.status_code == 200, discovery.text[:300]
        assert discovery.json()["issuer"] == "https://d111111abcdef8.cloudfront.net/realms/ohif"
        assert requests.get(f"{url}/realms/ohif/.well-known/openid-configuration",
                            headers={"Host": cdn["Host"]}).status_code == 403
        assert requests.get(f"{url}/admin/master/console/", headers=cdn).status_code == 404
    finally:
        nginx.stop()
        keycloak.stop()
