"""Each kind of origin check, rendered alone."""

from __future__ import annotations

import pytest

from components.render.dicomweb_proxy.origin import (
    ORIGIN_CHECK_CLOSED,
    ORIGIN_CHECK_PATH,
    FrontDoorCheck,
    NoOriginCheck,
    SecretFileCheck,
    SharedSecretCheck,
)

FRONT_DOOR_ID = "00000000-0000-4000-8000-00000000fd01"
REFUSED = """{ return 403 '{"error": "forbidden"}'; }"""


def test_a_shared_secret_is_what_cloudfront_sends():
    assert f'if ($http_x_origin_verify != "abcDEF123") {REFUSED}' in SharedSecretCheck("abcDEF123").directives()


def test_front_door_is_told_apart_by_its_profile_id():
    assert f'if ($http_x_azure_fdid != "{FRONT_DOOR_ID}") {REFUSED}' in FrontDoorCheck(FRONT_DOOR_ID).directives()


def test_a_secret_kept_in_a_file_is_included_and_the_door_closed_until_it_arrives():
    check = SecretFileCheck()
    assert check.directives() == f"    include {ORIGIN_CHECK_PATH};\n"
    assert check.boot_files() == [{"path": ORIGIN_CHECK_PATH, "permissions": "0600", "content": ORIGIN_CHECK_CLOSED}]
    assert SecretFileCheck("/etc/other.conf").directives() == "    include /etc/other.conf;\n"


def test_only_a_secret_file_is_written_at_boot():
    assert SharedSecretCheck("s").boot_files() == FrontDoorCheck(FRONT_DOOR_ID).boot_files() == []
    assert NoOriginCheck().boot_files() == []


def test_the_sandbox_checks_nothing():
    assert NoOriginCheck().directives() == ""


@pytest.mark.parametrize("value", ['a"b', "a b", "a;b", "${x}", "a\\b", "a{b"])
def test_a_value_nginx_would_misread_is_refused(value):
    for kind in (SharedSecretCheck, FrontDoorCheck):
        with pytest.raises(ValueError, match="cannot be placed in nginx.conf"):
            kind(value)
