"""Who may read, at each cloud's edge, under Pulumi mocks: for each of the three choices (networks, login, public),
every CloudFront distribution names the stack's WAF web ACL, and every Front Door endpoint (and custom domain) is
associated with its WAF policy; the allow-list holds exactly the configured CIDRs, judged on the socket address; and
the DICOMweb rate limit is there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from components.render.edge import KEY_SET_PREFIX, KEY_SET_SUFFIX, RATE_RETRY_AFTER_SECONDS
from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
IP_SET = "aws:wafv2/ipSet:IpSet"
WAF_POLICY = "azure-native:frontdoor:Policy"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
ENDPOINT = "azure-native:cdn:AFDEndpoint"
CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
V4, V6 = "198.51.100.0/24", "2001:db8:5678::/48"


def example(name: str, **sections: object) -> dict[str, str]:
    config = read_stack_file(STACKS / f"Pulumi.{name}.yaml")
    config.update({f"ohif:{key}": json.dumps(value) for key, value in sections.items()})
    return config


@pytest.fixture(scope="module")
def dicom_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("studies")
    shutil.copyfile(get_testdata_file("CT_small.dcm"), folder / "CT_small.dcm")
    return folder


def public_dicom_json(cloud: str, folder: Path) -> dict[str, str]:
    studies = {"folder": str(folder), "topology": "cross-origin"}
    if cloud == "aws":
        return example("prod-dicom-json", studies=studies)
    return {"ohif:recipe": "dicom-json", "ohif:cloud": "azure", "ohif:azure": json.dumps({"location": "westeurope"}),
            "ohif:access": json.dumps({"public": True}), "ohif:studies": json.dumps(studies)}


# (stack, the networks the IP set must hold; () where the stack admits every address)
AWS_CASES = {
    "networks, same-origin": (lambda _: example("prod"), ("203.0.113.0/24", "2001:db8:1234::/48")),
    "networks, cross-origin": (lambda _: example("prod", archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/",
                                                                  "topology": "cross-origin"}),
                               ("203.0.113.0/24", "2001:db8:1234::/48")),
    "networks, embedded": (lambda _: example("prod-embedded"), ("203.0.113.0/24", "2001:db8:1234::/48")),
    "login": (lambda _: example("prod-uac"), ()),
    "login and networks, IPv4 only": (lambda _: example("prod-uac", access={"allowed_networks": [V4]}), (V4,)),
    "public": (lambda folder: public_dicom_json("aws", folder), ()),
}
AZURE_CASES = {
    "networks": (lambda _: example("prod-azure"), ("203.0.113.0/24", "2001:db8:1234::/48")),
    "login": (lambda _: example("prod-azure-uac"), ()),
    "login and networks": (lambda _: example("prod-azure-uac", access={"allowed_networks": [V4, V6]}), (V4, V6)),
    "public": (lambda folder: public_dicom_json("azure", folder), ()),
}


@pytest.fixture(scope="module", params=AWS_CASES)
def aws_case(request, dicom_folder) -> tuple[Program, tuple[str, ...]]:
    config, networks = AWS_CASES[request.param]
    return run_program(config(dicom_folder)), networks


@pytest.fixture(scope="module", params=AZURE_CASES)
def azure_case(request, dicom_folder) -> tuple[Program, tuple[str, ...]]:
    config, networks = AZURE_CASES[request.param]
    return run_program(config(dicom_folder)), networks


def rule(acl: dict, name: str) -> dict | None:
    return next((r for r in acl["rules"] if r["name"] == name), None)


def test_aws_every_distribution_names_the_one_web_acl(aws_case):
    program, _ = aws_case
    acl = program.one(WEB_ACL)
    distributions = program.of_type(DISTRIBUTION)
    assert distributions
    for d in distributions:
        assert d.inputs.get("webAclId") == acl.outputs["arn"], f"{d.name}: not behind the stack's WAF"


def test_aws_the_waf_is_cloudfront_scoped_in_us_east_1(aws_case):
    program, _ = aws_case
    provider = program.one("pulumi:providers:aws", "us-east-1")
    assert provider.inputs["region"] == "us-east-1"
    for r in [program.one(WEB_ACL), *program.of_type(IP_SET)]:
        assert r.inputs["scope"] == "CLOUDFRONT", r.name
        assert "pulumi:providers:aws::us-east-1::" in r.provider, r.name


def test_aws_the_ip_sets_hold_exactly_the_configured_networks(aws_case):
    program, networks = aws_case
    acl = program.one(WEB_ACL).inputs
    sets = program.of_type(IP_SET)
    assert sorted(a for s in sets for a in s.inputs["addresses"]) == sorted(networks)
    for s in sets:
        version = {"IPV4": ".", "IPV6": ":"}[s.inputs["ipAddressVersion"]]
        assert all(version in a for a in s.inputs["addresses"]), f"{s.name}: one IP version per set"
    allow_list = rule(acl, "allowed-networks")
    if not networks:
        assert allow_list is None and not sets, "no allow-list where the stack admits every address"
        return
    assert allow_list["action"] == {"block": {}}
    negated = allow_list["statement"]["notStatement"]["statement"]
    inside = negated["orStatement"]["statements"] if "orStatement" in negated else [negated]
    referenced = sorted(s["ipSetReferenceStatement"]["arn"] for s in inside)
    assert referenced == sorted(s.outputs["arn"] for s in sets)
    # The socket peer, never a header the client writes.
    assert all("ipSetForwardedIpConfig" not in s["ipSetReferenceStatement"] for s in inside)


def test_aws_the_realm_keys_pass_before_the_allow_list(aws_case):
    acl = aws_case[0].one(WEB_ACL).inputs
    keys = rule(acl, "realm-keys")
    assert keys["action"] == {"allow": {}} and keys["priority"] < min(r["priority"] for r in acl["rules"]
                                                                       if r["name"] != "realm-keys")
    matches = [(s["byteMatchStatement"]["positionalConstraint"], s["byteMatchStatement"]["searchString"])
               for s in keys["statement"]["andStatement"]["statements"]]
    assert matches == [("STARTS_WITH", KEY_SET_PREFIX), ("ENDS_WITH", KEY_SET_SUFFIX)]


def test_aws_dicomweb_requests_are_rate_limited_per_address(aws_case):
    program, _ = aws_case
    config = json.loads(read_stack_file(STACKS / "Pulumi.prod.yaml")["ohif:access"])
    limited = rule(program.one(WEB_ACL).inputs, "dicomweb-rate-limit")
    statement = limited["statement"]["rateBasedStatement"]
    assert statement["limit"] == config["rate_limit"] and statement["evaluationWindowSec"] == 300
    assert statement["aggregateKeyType"] == "IP"
    scope = statement["scopeDownStatement"]["byteMatchStatement"]
    assert (scope["positionalConstraint"], scope["searchString"]) == ("STARTS_WITH", "/dicom-web/")
    response = limited["action"]["block"]["customResponse"]
    assert response["responseCode"] == 429
    assert response["responseHeaders"] == [{"name": "Retry-After", "value": str(RATE_RETRY_AFTER_SECONDS)}]


def test_azure_every_endpoint_and_domain_is_behind_the_one_waf_policy(azure_case):
    program, _ = azure_case
    policy = program.one(WAF_POLICY)
    assert policy.inputs["sku"]["name"] == program.one("azure-native:cdn:Profile").inputs["sku"]["name"]
    covered = []
    for security in program.of_type(SECURITY_POLICY):
        parameters = security.inputs["parameters"]
        assert parameters["wafPolicy"]["id"] == policy.outputs["id"], security.name
        for association in parameters["associations"]:
            assert association["patternsToMatch"] == ["/*"]
            covered += [d["id"] for d in association["domains"]]
    expected = [r.outputs["id"] for r in program.of_type(ENDPOINT) + program.of_type(CUSTOM_DOMAIN)]
    assert program.of_type(ENDPOINT)
    assert sorted(covered) == sorted(expected), "each endpoint and custom domain exactly once"


def test_azure_the_allow_list_holds_exactly_the_configured_networks_by_socket_address(azure_case):
    program, networks = azure_case
    rules = {r["name"]: r for r in program.one(WAF_POLICY).inputs["customRules"]["rules"]}
    assert program.one(WAF_POLICY).inputs["policySettings"] == {"enabledState": "Enabled", "mode": "Prevention"}
    assert rules["RealmKeys"]["action"] == "Allow"
    assert [(c["operator"], c["matchValue"]) for c in rules["RealmKeys"]["matchConditions"]] == [
        ("Contains", [KEY_SET_PREFIX]), ("EndsWith", [KEY_SET_SUFFIX])]
    if not networks:
        assert "AllowedNetworks" not in rules
        return
    allow_list = rules["AllowedNetworks"]
    assert allow_list["action"] == "Block" and allow_list["ruleType"] == "MatchRule"
    assert allow_list["priority"] > rules["RealmKeys"]["priority"]
    [condition] = allow_list["matchConditions"]
    assert condition == {"matchVariable": "SocketAddr", "operator": "IPMatch", "negateCondition": True,
                         "matchValue": list(networks)}


def test_azure_dicomweb_requests_are_rate_limited_per_socket_address(azure_case):
    rules = {r["name"]: r for r in azure_case[0].one(WAF_POLICY).inputs["customRules"]["rules"]}
    limited = rules["DicomwebRateLimit"]
    assert (limited["ruleType"], limited["action"]) == ("RateLimitRule", "Block")
    assert (limited["rateLimitDurationInMinutes"], limited["rateLimitThreshold"]) == (5, 10000)
    assert limited["groupBy"] == [{"variableName": "SocketAddr"}]
    assert [(c["matchVariable"], c["operator"], c["matchValue"]) for c in limited["matchConditions"]] == [
        ("RequestUri", "Contains", ["/dicom-web/"])]
