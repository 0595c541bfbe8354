"""Login on: the token check's server and how it fetches the realm's keys."""

from __future__ import annotations

import pytest

from components.render.dicomweb_proxy.origin import FrontDoorCheck, NoOriginCheck
from components.render.dicomweb_proxy.token_check import Login, TokenCheck, TokenCheckFiles

REALM = TokenCheck(issuer="https://d111.cloudfront.net/realms/ohif",
                   jwks_url="https://d111.cloudfront.net/realms/ohif/protocol/openid-connect/certs",
                   client_id="ohif-viewer", required_role="dicom-reader", upload_role="dicom-uploader")
FILES = TokenCheckFiles(cache_dir="/var/cache/nginx/ohif-jwks",
                        verdict_cache_dir="/var/cache/nginx/ohif-token-verdicts", check_listen="127.0.0.1:8081",
                        audit_log="/var/log/audit.log", key_set_ca_file="/run/ca.pem")


def test_a_key_set_by_name_is_resolved_while_running_and_its_certificate_checked():
    server = Login(REALM, FILES).check_server(NoOriginCheck(), resolver="169.254.169.253")
    assert server.count("resolver 169.254.169.253 valid=60s;") == 2  # the cached fetch and the fresh one
    assert server.count("proxy_pass $ohif_jwks_url;") == 2
    assert server.count("proxy_ssl_trusted_certificate /run/ca.pem;") == 2
    assert "proxy_set_header Host d111.cloudfront.net;" in server


@pytest.mark.parametrize("jwks_url,resolver", [
    ("https://d111.cloudfront.net/realms/ohif/protocol/openid-connect/certs", None),
    ("http://10.0.1.30:8080/realms/ohif/protocol/openid-connect/certs", "169.254.169.253"),
])
def test_a_key_set_by_address_or_without_a_resolver_is_fetched_as_named(jwks_url, resolver):
    realm = TokenCheck(REALM.issuer, jwks_url, REALM.client_id, REALM.required_role, REALM.upload_role)
    server = Login(realm, FILES).check_server(NoOriginCheck(), resolver=resolver)
    assert "resolver" not in server and server.count(f"proxy_pass {jwks_url};") == 2
    assert ("proxy_ssl_verify on;" in server) == jwks_url.startswith("https://")


def test_the_check_makes_the_proxys_origin_check_too():
    check = FrontDoorCheck("00000000-0000-4000-8000-00000000fd01")
    server = Login(REALM, FILES).check_server(check, resolver=None)
    assert check.directives() in server and "listen 127.0.0.1:8081;" in server


def test_the_realm_and_roles_are_set_for_the_check():
    login = Login(REALM, FILES)
    server = login.check_server(NoOriginCheck(), resolver=None)
    assert 'set $ohif_jwt_issuer "https://d111.cloudfront.net/realms/ohif";' in server
    assert 'set $ohif_jwt_client "ohif-viewer";' in server and 'set $ohif_jwt_skew "30";' in server
    assert '"~:POST$" "dicom-uploader";\n    default "dicom-reader";' in login.http_block()
    assert "access_log /var/log/audit.log ohif_audit;" in login.server_directives()


@pytest.mark.parametrize("field", ["issuer", "client_id", "required_role", "upload_role"])
def test_a_realm_value_nginx_would_misread_is_refused(field):
    login = Login(TokenCheck(**{**REALM.__dict__, field: 'x" ; return 200 "'}), FILES)
    with pytest.raises(ValueError, match="cannot be placed in nginx.conf"):
        login.http_block() + login.check_server(NoOriginCheck(), resolver=None)
