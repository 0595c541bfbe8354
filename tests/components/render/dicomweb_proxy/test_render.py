"""The assembled nginx.conf, without servers: its structure for each choice, and `nginx -t` where nginx is installed.
What it does in front of a real archive: tests/components/render/test_proxy_nginx.py."""

from __future__ import annotations

import json

import pytest

from components.render.archive_service import ArchiveCredentialFiles
from components.render.cloud_init import nginx_conf_of, njs_modules, render_cloud_init
from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE, ArchiveAccess
from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.interface import DICOMWEB_STORE_PATH, ERRORS, HEALTH_PATH, READ_CLASSES
from components.render.dicomweb_proxy.origin import FrontDoorCheck, SharedSecretCheck
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.dicomweb_proxy.share_store import (
    BLOB_STORAGE_AUDIENCE,
    ShareStore,
    ShareStoreAt,
    ShareStoreFiles,
)
from components.render.dicomweb_proxy.token_check import SHARE_KEYS_CLOSED, Login, TokenCheck, TokenCheckFiles
from components.render.edge import render_nginx_edge
from sandbox.processes import free_port
from settings.model import ShareSettings
from settings.services import ArchiveAuth, healthimaging_url
from tests.conftest import nginx_syntax_ok, require_tool

REALM = TokenCheck(issuer="https://d111.cloudfront.net/realms/ohif",
                   jwks_url="https://d111.cloudfront.net/realms/ohif/protocol/openid-connect/certs",
                   client_id="ohif-viewer", required_role="dicom-reader", upload_role="dicom-uploader")
VM_LOGIN = Login(REALM, TokenCheckFiles(cache_dir="/var/cache/nginx/ohif-jwks",
                                        verdict_cache_dir="/var/cache/nginx/ohif-token-verdicts",
                                        check_listen="127.0.0.1:8081", audit_log="/var/log/audit.log"))
ARCHIVE_FILES = ArchiveCredentialFiles(module_path=str(ARCHIVE_CREDENTIALS_MODULE),
                                       credentials_file="/var/lib/ohif-archive/credential.json",
                                       metadata_url="http://169.254.169.254")
HEALTHIMAGING = ArchiveAccess(ArchiveAuth("sigv4", region="eu-west-1", service="medical-imaging"), ARCHIVE_FILES)
DICOM_SERVICE = ArchiveAccess(ArchiveAuth("bearer", resource="https://dicom.healthcareapis.azure.com"), ARCHIVE_FILES)
SECRET = SharedSecretCheck("abcDEF123")


def conf(**changes) -> ProxyConf:
    return ProxyConf(**{"listen": "80", "upstream_url": "http://10.0.1.20:8042/dicom-web/",
                        "allowed_origins": ("https://viewer.example.org",), "cache_dir": "/var/cache/nginx/x",
                        **changes})


def servers(rendered: str) -> list[str]:
    """Each server block, in order."""
    return ["server {" + block for block in rendered.split("\nserver {")[1:]]


def require_nginx() -> None:
    require_tool("nginx", "nginx libnginx-mod-http-js")


@pytest.mark.parametrize("stow", [False, True])
def test_each_read_class_has_its_location_and_the_store_its_own_only_with_stow(stow):
    rendered = render_proxy_conf(conf(enable_stow=stow))
    for read_class in READ_CLASSES:
        location = f'(?<dicomweb_path>{read_class.path})$" {{\n        set $ohif_class {read_class.name};'
        assert rendered.count(location) == 1
    assert (f"(?<dicomweb_path>{DICOMWEB_STORE_PATH})$" in rendered) == stow
    assert ('default "GET, HEAD, OPTIONS, POST";' in rendered) == stow


@pytest.mark.parametrize("stow", [False, True])
def test_with_login_every_location_that_reaches_the_archive_asks_the_token_check(stow):
    assert "auth_request" not in render_proxy_conf(conf(enable_stow=stow))
    rendered = render_proxy_conf(conf(enable_stow=stow, login=VM_LOGIN))
    assert rendered.count("auth_request /_ohif_auth;") == len(READ_CLASSES) + stow
    assert len(servers(rendered)) == 2 and "js_content ohif_access.check;" in servers(rendered)[1]


@pytest.mark.parametrize("login", [None, VM_LOGIN], ids=["login off", "login on"])
def test_before_a_cloud_dicom_service_the_credential_check_runs_the_token_check_itself(login):
    rendered = render_proxy_conf(conf(upstream_url=healthimaging_url("eu-west-1", "0" * 32), resolver="127.0.0.1",
                                      archive=HEALTHIMAGING, login=login, health_listen="8090"))
    proxy, *_, health = servers(rendered)
    assert proxy.count("auth_request /_ohif_archive_access;") == len(READ_CLASSES)
    assert "auth_request /_ohif_auth;" not in rendered
    assert f"set $ohif_archive_token_check {'on' if login else 'off'};" in proxy
    assert "set $ohif_archive_token_check off;" in health and "auth_request /_ohif_archive_access;" in health
    assert "proxy_set_header Authorization $ohif_archive_authorization;" in proxy


def test_the_origin_check_guards_every_server_a_client_reaches_but_not_the_health_check():
    rendered = render_proxy_conf(conf(origin_check=SECRET, login=VM_LOGIN, health_listen="8090"))
    proxy, token_check, health = servers(rendered)
    assert SECRET.directives() in proxy and SECRET.directives() in token_check
    assert "x_origin_verify" not in health and "listen 8090;" in health and f"location = {HEALTH_PATH} {{" in health


def test_the_health_check_is_served_only_where_asked():
    rendered = render_proxy_conf(conf())
    assert len(servers(rendered)) == 1 and HEALTH_PATH not in rendered


def test_allowed_origins_are_listed_once_each_in_order():
    rendered = render_proxy_conf(conf(allowed_origins=("https://b.org", "https://a.org", "https://b.org")))
    assert rendered.count('    "https://b.org" $http_origin;\n') == 1
    assert rendered.count('    "https://b.org" 1;\n') == 1
    assert rendered.index('"https://a.org" $http_origin') < rendered.index('"https://b.org" $http_origin')
    assert "    default 0;\n" in rendered.split("$ohif_origin_listed {")[1]


def test_a_wildcard_answers_every_origin():
    rendered = render_proxy_conf(conf(allowed_origins=("*",)))
    assert '    "~." "*";\n' in rendered and "    default 1;\n" in rendered.split("$ohif_origin_listed {")[1]


def test_an_origin_nginx_would_misread_is_refused():
    with pytest.raises(ValueError, match="cannot be placed in nginx.conf"):
        render_proxy_conf(conf(allowed_origins=('https://a.org" 1; "x',)))


def test_the_edge_runs_before_anything_else_of_the_server():
    edge = render_nginx_edge(("127.0.0.0/30",), 100)
    rendered = render_proxy_conf(conf(edge=edge))
    [server] = servers(rendered)
    assert edge.http in rendered.split("server {")[0]
    assert server.index(edge.server_directives()) < server.index("large_client_header_buffers")
    assert edge.rate_limit_directives() in server and "default $ohif_edge_retry_after;" in rendered


def test_every_error_gets_the_proxys_own_json():
    rendered = render_proxy_conf(conf())
    for code, text in ERRORS.items():
        body = json.dumps({"error": text})
        assert f"location = /_ohif_error/{code} {{ internal; return {code} '{body}'; }}" in rendered
    assert "    error_page 502 503 504 =503 /_ohif_error/503;\n" in rendered


@pytest.mark.parametrize("variant", [
    dict(upstream_url="http://10.0.1.20:8042/dicom-web/", allowed_origins=[], origin_check=SECRET),
    dict(upstream_url="http://10.0.1.20:8042/dicom-web/", allowed_origins=["https://viewer.example.org"],
         origin_check=FrontDoorCheck("00000000-0000-4000-8000-00000000fd01"), resolver="127.0.0.1"),
    # The sandbox: a name resolved once at start-up, no resolver.
    dict(upstream_url="http://localhost:8042/dicom-web/", allowed_origins=["http://127.0.0.1:3000"]),
    dict(upstream_url="https://healthcare.example.com/v1/projects/p/dicomWeb", allowed_origins=["https://a.org"],
         enable_stow=True, resolver="127.0.0.1"),
    dict(upstream_url="http://pacs:8080/dcm4chee-arc/aets/DCM4CHEE/rs", allowed_origins=["*"], resolver="127.0.0.1"),
    dict(upstream_url="http://[fd00::20]:8042/dicom-web/", allowed_origins=[]),
    dict(upstream_url="http://localhost:8042/dicom-web/", allowed_origins=["https://viewer.example.org"],
         edge=render_nginx_edge(("127.0.0.0/30",), 100)),
    dict(upstream_url=healthimaging_url("eu-west-1", "0" * 32), allowed_origins=[], resolver="127.0.0.1",
         archive=HEALTHIMAGING, health_listen="127.0.0.1:18090"),
    dict(upstream_url="https://ws-dicom1.dicom.azurehealthcareapis.com/v2/", allowed_origins=[], resolver="127.0.0.1",
         archive=DICOM_SERVICE, enable_stow=True),
])
def test_rendered_configs_pass_nginx_t(variant, tmp_path):
    require_nginx()
    nginx_syntax_ok(render_proxy_conf(ProxyConf(listen=f"127.0.0.1:{free_port()}", cache_dir=str(tmp_path / "cache"),
                                                **variant)), tmp_path)


def test_cloud_init_config_passes_nginx_t(tmp_path):
    require_nginx()
    cloud_init = render_cloud_init(render_proxy_conf(ProxyConf(
        listen="80", upstream_url="http://10.0.1.20:8042/dicom-web/", allowed_origins=["https://viewer.example.org"],
        cache_dir=str(tmp_path / "cache"), origin_check=SECRET)))
    nginx_syntax_ok(nginx_conf_of(cloud_init).replace("listen 80;", f"listen 127.0.0.1:{free_port()};"), tmp_path)


def test_cloud_config_with_token_check_passes_nginx_t(tmp_path):
    """The proxy VM's config for user-account-control: Keycloak by name over HTTPS, the njs check installed."""
    require_nginx()
    login = Login(REALM, TokenCheckFiles(cache_dir=str(tmp_path / "jwks"),
                                         verdict_cache_dir=str(tmp_path / "verdicts"),
                                         check_listen=f"127.0.0.1:{free_port()}",
                                         audit_log=str(tmp_path / "audit.log")))
    rendered = render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{free_port()}", upstream_url="http://10.0.1.20:8042/dicom-web/",
        allowed_origins=["https://viewer.example.org"], cache_dir=str(tmp_path / "cache"), origin_check=SECRET,
        resolver="127.0.0.1", login=login, enable_stow=True))
    assert rendered.count("auth_request /_ohif_auth;") == len(READ_CLASSES) + 1  # every read location, and the store
    nginx_syntax_ok(rendered, tmp_path)


@pytest.mark.parametrize("store", [
    ShareStoreAt("https://ohif-shares-a1b2c3.s3.eu-west-1.amazonaws.com",
                 ArchiveAuth("sigv4", region="eu-west-1", service="s3")),
    ShareStoreAt("https://proxyshares1a2b3c4d.blob.core.windows.net/shares",
                 ArchiveAuth("bearer", resource=BLOB_STORAGE_AUDIENCE)),
], ids=["S3", "Blob"])
def test_share_links_with_their_store_pass_nginx_t(store, tmp_path):
    """With share links: the endpoints, the store's server on loopback, and every njs module as the VMs load them
    (njs_modules: nginx -t compiles them, the share store's import of the credential module included)."""
    require_nginx()
    modules = tmp_path / "njs"
    modules.mkdir()
    for name, text in njs_modules(archive=False, share_store=True).items():
        (modules / name).write_text(text)
    (tmp_path / "share-keys.conf").write_text(SHARE_KEYS_CLOSED)
    login = Login(REALM, TokenCheckFiles(cache_dir=str(tmp_path / "jwks"), verdict_cache_dir=str(tmp_path / "verdicts"),
                                         check_listen=f"127.0.0.1:{free_port()}", audit_log=str(tmp_path / "audit.log"),
                                         share_keys_path=str(tmp_path / "share-keys.conf")),
                  share=ShareSettings(), store=ShareStore(store, ShareStoreFiles(
                      module_dir=str(modules), credentials_file=str(tmp_path / "credential.json"),
                      metadata_url="http://169.254.169.254", listen=f"127.0.0.1:{free_port()}",
                      cache_dir=str(tmp_path / "revocations"))))
    rendered = render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{free_port()}", upstream_url="http://10.0.1.20:8042/dicom-web/",
        allowed_origins=["https://viewer.example.org"], cache_dir=str(tmp_path / "cache"), origin_check=SECRET,
        resolver="127.0.0.1", login=login, access_module_path=str(modules / "access.js")))
    assert 'default "GET, HEAD, OPTIONS, POST, DELETE";' in rendered
    nginx_syntax_ok(rendered, tmp_path)


def test_share_links_need_their_store():
    files = TokenCheckFiles(cache_dir="/c", verdict_cache_dir="/v", check_listen="127.0.0.1:8081", audit_log="/a",
                            share_keys_path="/k")
    with pytest.raises(ValueError, match="share links need their store"):
        Login(REALM, files, share=ShareSettings())
