"""settings/rules.py: what each section accepts alone but the stack cannot combine."""

from __future__ import annotations

import json

import pytest

from settings import ConfigError, load
from tests.settings.examples import azure, prod, stack, stops_before_any_resource, uac

CASES = {
    # The proxy's scale (issue 17): a highly available stack runs two proxies or more.
    "one proxy in a highly available stack": (
        prod(highly_available="true"),
        "ohif:archive.scale.min_instances = 1: allowed: 2 or more in a highly available stack (ohif:highly_available)"),
    "existing Keycloak without admin login": (uac(realm="ohif", keycloak_url="https://sso.example-hospital.org"),
                                              "keycloak:username = (missing): required with ohif:auth.keycloak_url"),
    "AWS section on an Azure stack": (azure(aws={"price_class": "PriceClass_All"}),
                                      'ohif:aws = {"price_class": "PriceClass_All"}: allowed only with ohif:cloud aws, '
                                      "not azure"),
    "Azure section on an AWS stack": (prod(azure={"location": "westeurope"}),
                                      'ohif:azure = {"location": "westeurope"}: allowed only with ohif:cloud azure, '
                                      "not aws"),
    "aws:region on an Azure stack": ({**azure(), "aws:region": "eu-west-1"},
                                     'aws:region = "eu-west-1": allowed only with ohif:cloud aws, not azure'),
    "azure-native:location on an AWS stack": ({**prod(), "azure-native:location": "westeurope"},
                                              'azure-native:location = "westeurope": allowed only with ohif:cloud '
                                              "azure, not aws"),
    "script mode behind a same-origin proxy": (
        stack("prod-embedded", archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/"}),
        'ohif:archive.topology = "same-origin": allowed: cross-origin with embed mode script'),
    "an existing database without its password": (
        uac(realm="ohif", keycloak_database_url="postgresql://keycloak@db.example.org/keycloak"),
        "ohif:keycloak_database_password = (missing): required with auth.keycloak_database_url"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    stops_before_any_resource(*CASES[case])


LOCAL_CASES = {
    "a custom domain in the sandbox": (stack("local", viewer={"base_path": "/", "domain": "viewer.example.org"}),
                                       'ohif:viewer.domain = "viewer.example.org": not in a local stack: the sandbox '
                                       "serves on 127.0.0.1"),
    "a remote Keycloak in the sandbox": (stack("local-uac", auth={"realm": "ohif",
                                                                 "keycloak_url": "https://sso.example.org"}),
                                         'ohif:auth.keycloak_url = "https://sso.example.org": required in a local '
                                         "stack: https://127.0.0.1:<port>, where the sandbox starts Keycloak"),
    # The sandbox serves Keycloak over HTTPS, as every host: a stack file from before says http://.
    "a plain-HTTP Keycloak in the sandbox": (stack("local-uac", auth={"realm": "ohif",
                                                                   "keycloak_url": "http://127.0.0.1:8080"}),
                                             'ohif:auth.keycloak_url = "http://127.0.0.1:8080": required in a local '
                                             "stack: https://127.0.0.1:<port>, where the sandbox starts Keycloak"),
    "an existing Keycloak database in the sandbox": (
        stack("local-uac", auth={"realm": "ohif", "keycloak_url": "https://127.0.0.1:8080",
                                 "keycloak_database_url": "postgresql://keycloak@db.example.org/keycloak"}),
        'ohif:auth.keycloak_database_url = "postgresql://keycloak@db.example.org/keycloak": allowed only without '
        "auth.keycloak_url (it is the database of the Keycloak this recipe provisions)"),
    "an AWS section in the sandbox": (stack("local", aws={"price_class": "PriceClass_All"}),
                                      'ohif:aws = {"price_class": "PriceClass_All"}: allowed only with ohif:cloud aws, '
                                      "not local"),
}


@pytest.mark.parametrize("case", LOCAL_CASES)
def test_bad_local_config_is_one_line(case):
    """The sandbox reads its stack with the same load() before it starts anything (tests/sandbox/test_cli.py)."""
    config, expected = LOCAL_CASES[case]
    with pytest.raises(ConfigError) as raised:
        load(config)
    assert str(raised.value).splitlines() == [f"invalid stack config: {expected}"]



def test_an_existing_database_takes_the_place_of_the_managed_one():
    config = uac(realm="ohif", keycloak_database_url="postgresql://keycloak@db.example.org:5433/keycloak")
    config["ohif:keycloak_database_password"] = "from-the-secret"
    settings = load(config)
    assert settings.auth.keycloak_database_url == "postgresql://keycloak@db.example.org:5433/keycloak"
    with pytest.raises(ConfigError, match="ohif:aws.keycloak_database = .*allowed only with a provisioned Keycloak"):
        load({**config, "ohif:aws": json.dumps({"keycloak_database": {"backup_retention_days": 14}})})
