"""The Keycloak VM's rendered nginx config and cloud-init, checked by real nginx."""

from __future__ import annotations

import subprocess

import yaml

from components.keycloak_host_init import NGINX_CONF_PATH, render_keycloak_cloud_init, render_keycloak_nginx_conf
from components.keycloak_realm_model import RealmModel, render_realm_import
from sandbox.processes import free_port
from sandbox.viewer_nginx import render_main_conf
from tests.conftest import require_servers


def test_keycloak_nginx_conf_passes_nginx_t(tmp_path):
    require_servers()
    (tmp_path / "tmp").mkdir()
    conf = render_keycloak_nginx_conf("abcDEF123").replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    (tmp_path / "keycloak.conf").write_text(conf)
    main = tmp_path / "nginx.conf"
    main.write_text(render_main_conf(run_dir=tmp_path, includes=[tmp_path / "keycloak.conf"]))
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_cloud_init_writes_realm_secrets_and_nginx():
    realm = render_realm_import(RealmModel(name="ohif", viewer_origin="https://viewer.example.org"))
    doc = yaml.safe_load(render_keycloak_cloud_init(realm_import=realm, admin_password="adminPW1",
                                                    db_password="dbPW2", origin_secret="originPW3"))
    files = {f["path"]: f for f in doc["write_files"]}
    assert files["/etc/keycloak/keycloak.env"]["permissions"] == "0600"
    assert "KC_BOOTSTRAP_ADMIN_PASSWORD=adminPW1" in files["/etc/keycloak/keycloak.env"]["content"]
    assert files["/etc/keycloak/import/ohif.json"]["content"].startswith("{")
    assert 'if ($http_x_origin_verify != "originPW3")' in files[NGINX_CONF_PATH]["content"]
