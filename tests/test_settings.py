"""Bad stack config stops the program before the first resource, with one line per bad value."""

from __future__ import annotations

import json

import pulumi
import pytest

from settings import ConfigError, load, read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program


def prod(**changes: object) -> dict[str, str]:
    """The prod example with top-level keys replaced (None removes one); objects given as dicts."""
    config = read_stack_file(STACKS / "Pulumi.prod.yaml")
    for key, value in changes.items():
        key = f"ohif:{key}"
        if value is None:
            config.pop(key)
        else:
            config[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return config


def uac(**auth: object) -> dict[str, str]:
    """The prod-uac example with ohif:auth replaced."""
    config = read_stack_file(STACKS / "Pulumi.prod-uac.yaml")
    config["ohif:auth"] = json.dumps(auth)
    return config


def archive(**changes: object) -> dict:
    return {**json.loads(prod()["ohif:archive"]), **changes}


CASES = {
    "unknown recipe": (prod(recipe="viewer-only"),
                       'ohif:recipe = "viewer-only": allowed: standalone, user-account-control'),
    "missing recipe": (prod(recipe=None), "ohif:recipe = (missing): allowed: standalone, user-account-control"),
    "unknown cloud": (prod(cloud="gcp"), 'ohif:cloud = "gcp": allowed: aws, local'),
    "unknown key": (prod(region="eu"), 'ohif:region = "eu": unknown key; allowed: ohif:recipe, ohif:cloud, '
                                       "ohif:production, ohif:viewer, ohif:archive, ohif:auth"),
    "unknown nested key": (prod(viewer={"base_path": "/", "cdn": "fast"}),
                           'ohif:viewer.cdn = "fast": unknown key; allowed: base_path, certificate_arn, domain, '
                           "include_source_maps, price_class"),
    "missing archive": (prod(archive=None), "ohif:archive = (missing): required: an object with dicomweb_url "
                                            "(existing DICOMweb) or upstream_url (proxied)"),
    "malformed upstream URL": (prod(archive=archive(upstream_url="10.0.1.20:8042/dicom-web")),
                               'ohif:archive.upstream_url = "10.0.1.20:8042/dicom-web": '
                               "allowed: an absolute http:// or https:// URL"),
    "http DICOMweb URL in production": (prod(archive={"dicomweb_url": "http://pacs.example.org/dicom-web"}),
                                        'ohif:archive.dicomweb_url = "http://pacs.example.org/dicom-web": '
                                        "allowed: https:// only in a production stack"),
    "malformed origin": (prod(archive=archive(topology="cross-origin",
                                              allowed_origins=["https://portal.example.org/"])),
                         'ohif:archive.allowed_origins[0] = "https://portal.example.org/": allowed: an origin such '
                         "as https://viewer.example.org (scheme and host, no path or slash)"),
    "http origin in production": (prod(archive=archive(topology="cross-origin",
                                                       allowed_origins=["http://portal.example.org"])),
                                  'ohif:archive.allowed_origins[0] = "http://portal.example.org": '
                                  "allowed: https:// origins only in a production stack"),
    "wildcard CORS in production": (prod(archive=archive(topology="cross-origin", allowed_origins=["*"])),
                                    'ohif:archive.allowed_origins[0] = "*": allowed: explicit origins; '
                                    "a wildcard is refused in a production stack"),
    "unknown topology": (prod(archive=archive(topology="sideways")),
                         'ohif:archive.topology = "sideways": allowed: same-origin, cross-origin'),
    "domain without certificate": (prod(viewer={"domain": "viewer.example.org"}),
                                   "ohif:viewer.certificate_arn = (missing): required: domain and certificate_arn "
                                   "go together"),
    "base path without slash": (prod(viewer={"base_path": "ohif"}),
                                'ohif:viewer.base_path = "ohif": allowed: a path that starts and ends with /, '
                                "such as / or /ohif/"),
    "production not a boolean": (prod(production="yes"), 'ohif:production = "yes": allowed: true or false'),
    "missing realm": (uac(client_id="ohif-viewer"), "ohif:auth.realm = (missing): required for recipe "
                                                     "user-account-control: the Keycloak realm users log in to"),
    "bad Keycloak URL": (uac(realm="ohif", keycloak_url="sso.example-hospital.org"),
                         'ohif:auth.keycloak_url = "sso.example-hospital.org": allowed: an absolute http:// or '
                         "https:// URL"),
    "http Keycloak in production": (uac(realm="ohif", keycloak_url="http://sso.example-hospital.org"),
                                    'ohif:auth.keycloak_url = "http://sso.example-hospital.org": allowed: https:// '
                                    "only in a production stack"),
    "client without PKCE in production": (uac(realm="ohif", require_pkce=False),
                                          "ohif:auth.require_pkce = false: allowed: true only in a production stack "
                                          "(a public client without PKCE leaks codes to any app on the device)"),
    "existing Keycloak without admin login": (uac(realm="ohif", keycloak_url="https://sso.example-hospital.org"),
                                              "keycloak:username = (missing): required with ohif:auth.keycloak_url"),
    "auth on the standalone recipe": (prod(auth={"realm": "ohif"}),
                                      'ohif:auth = {"realm": "ohif"}: allowed only with recipe user-account-control'),
    "local stack under pulumi up": (read_stack_file(STACKS / "Pulumi.local.yaml"),
                                    'ohif:cloud = "local": this stack runs in the sandbox'),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    config, expected = CASES[case]
    program = Program()
    with pytest.raises(ConfigError) as raised:
        run_program(config, program=program)
    assert f"invalid stack config: {expected}" in str(raised.value)
    assert program.resources == [], f"registered before failing: {[r.name for r in program.resources]}"


def test_a_config_error_is_one_line_per_value_and_no_traceback():
    with pytest.raises(ConfigError) as raised:
        load(prod(recipe="nope", archive=archive(topology="sideways")))
    lines = str(raised.value).splitlines()
    assert len(lines) == 2 and all(line.startswith("invalid stack config: ohif:") for line in lines), lines
    # Pulumi prints a RunError's message alone, without the program's traceback.
    assert isinstance(raised.value, pulumi.RunError)


def test_example_stacks_are_valid():
    for path in STACKS.glob("Pulumi.*.yaml"):
        load(read_stack_file(path))


def test_wildcard_is_allowed_outside_production():
    settings = load(prod(production="false", archive=archive(topology="cross-origin", allowed_origins=["*"])))
    assert settings.archive.allowed_origins == ("*",)


def test_every_allowed_recipe_is_implemented():
    import recipes
    import settings

    assert sorted(recipes.RECIPES) == sorted(settings.RECIPES)
