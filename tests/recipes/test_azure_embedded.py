"""The embedded recipe on Azure under Pulumi mocks: the viewer framed by a host application (iframe) and OHIF
v2's packaged script on a Front Door endpoint of its own (script), both from private storage; the script's
CORS evaluated as Front Door and blob storage would apply it (tests/frontdoor_rules.py)."""

from __future__ import annotations

import json
import re

import pytest

from components.render.cloud_init import nginx_conf_of
from components.render.embed import SCRIPT, SCRIPT_CONFIG
from components.render.headers import FILE_CORS_HEADERS, FILE_HEADERS, viewer_headers
from components.render.viewer_build import NO_CACHE, SHORT, content_type
from tests.frontdoor_rules import evaluate
from tests.pulumi_mocks import Program, run_program, synced_objects
from tests.recipes.test_azure_standalone import (
    BLOB,
    NIC,
    ROUTE,
    RULE,
    custom_data,
    no_public_address,
    private_link_only,
)

HOST = "https://portal.example-hospital.org"
ELSEWHERE = "https://evil.example.org"
VIEWER = "https://viewer-endpoint-abc123.z01.azurefd.net"
SCRIPT_ORIGIN = "https://script-endpoint-abc123.z01.azurefd.net"
PROXY = "https://proxy-endpoint-abc123.z01.azurefd.net/dicom-web"
ACAO = "Access-Control-Allow-Origin"
ACCOUNT = "azure-native:storage:StorageAccount"
ORIGIN_GROUP = "azure-native:cdn:AFDOriginGroup"
CORS = "azure-native:storage:BlobServiceProperties"


def embedded_config(modes: list[str]) -> dict[str, str]:
    embed = {"host_origins": [HOST], "modes": modes}
    if "script" in modes:
        embed["host_page_path"] = "/viewer/"
    return {
        "ohif:recipe": "embedded", "ohif:cloud": "azure",
        "ohif:azure": json.dumps({"location": "westeurope"}),
        "ohif:access": json.dumps({"allowed_networks": ["203.0.113.0/24"]}),
        "ohif:embed": json.dumps(embed),
        "ohif:archive": json.dumps({"upstream_url": "http://10.0.1.20:8042/dicom-web/", "topology": "cross-origin"}),
    }


@pytest.fixture(scope="module")
def both() -> Program:
    return run_program(embedded_config(["iframe", "script"]), stack="azure-embedded")


@pytest.fixture(scope="module")
def iframe_only() -> Program:
    return run_program(embedded_config(["iframe"]), stack="azure-embedded-iframe")


def rules_of(program: Program, rule_set: str) -> list[dict]:
    return [r.inputs for r in program.of_type(RULE) if r.inputs["ruleSetName"] == rule_set]


def test_viewer_and_script_storage_stay_private(both):
    accounts = {a.name: a.inputs for a in both.of_type(ACCOUNT)}
    assert set(accounts) == {"viewerstore", "scriptstore"}
    both.one("ohif:azure:StaticFiles", "script")
    for name, account in accounts.items():
        assert account["allowBlobPublicAccess"] is False, name
        assert account["enableHttpsTrafficOnly"] is True and account["minimumTlsVersion"] == "TLS1_2", name
    assert [c.inputs["publicAccess"] for c in both.of_type("azure-native:storage:BlobContainer")] == ["None", "None"]
    assert not both.of_type("azure-native:storage:StorageAccountStaticWebsite")
    for site in ("viewer", "script"):
        group = both.one(ORIGIN_GROUP, f"{site}-origins").inputs
        assert group["authentication"] == {"type": "SystemAssignedIdentity",
                                           "scope": "https://storage.azure.com/.default"}, site
        origin = both.one("azure-native:cdn:AFDOrigin", f"{site}-origin").inputs
        assert origin["hostName"] == f"{site}store1a2b3c4d.blob.core.windows.net", site
    readers = {r.name: r.inputs for r in both.of_type("azure-native:authorization:RoleAssignment")
               if r.name.endswith("-blob-reader")}  # the Private Link approver's role is private_link_only's
    assert {name: r["scope"] for name, r in readers.items()} == \
        {"viewer-blob-reader": "viewerstore-id", "script-blob-reader": "scriptstore-id"}, "each role on its own account"


def test_viewer_may_be_framed_by_the_host_only(both):
    result = evaluate(rules_of(both, "viewerRules"), "/viewer", "/site")
    assert result.path == "/site/index.html"
    assert viewer_headers((HOST,)).items() <= result.headers.items()
    assert result.headers["Content-Security-Policy"] == f"frame-ancestors 'self' {HOST}"
    assert result.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    headers = {a["parameters"]["headerName"] for r in rules_of(both, "viewerRules") for a in r["actions"]
               if a["name"] == "ModifyResponseHeader"}
    assert "X-Frame-Options" not in headers, "frame-ancestors lists the hosts; X-Frame-Options cannot"


def test_script_file_and_its_config_are_blobs_of_the_script_account(both):
    script = synced_objects(both, "script")[SCRIPT]
    assert (script["account_url"], script["container"]) == \
        ("https://scriptstore1a2b3c4d.blob.core.windows.net/", "site")
    assert script["contentType"] == content_type(SCRIPT) == "text/javascript; charset=utf-8"
    config = both.one(BLOB, f"script-{SCRIPT_CONFIG}").inputs
    assert (config["accountName"], config["blobName"]) == ("scriptstore1a2b3c4d", SCRIPT_CONFIG)
    text = config["source"].text
    window_config = json.loads(re.search(r"window\.config = (\{.*\});", text, re.S)[1])
    assert "dataSources" not in window_config, "the v2 viewer reads servers.dicomWeb"
    [server] = window_config["servers"]["dicomWeb"]
    assert server["qidoRoot"] == server["wadoRoot"] == server["wadoUriRoot"] == PROXY
    assert window_config["routerBasename"] == "/viewer"


def test_script_storage_answers_preflights_of_the_host_only(both):
    [rule] = both.one(CORS, "script-cors").inputs["cors"]["corsRules"]
    assert rule["allowedOrigins"] == [HOST]
    assert set(rule["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
    assert rule["allowedHeaders"] == list(FILE_CORS_HEADERS) == ["Accept"]
    assert rule["maxAgeInSeconds"] > 0
    assert both.one(CORS).inputs["accountName"] == "scriptstore1a2b3c4d", "no CORS on the viewer's storage"


def test_script_responses_name_the_host_and_no_other_origin(both):
    rules = rules_of(both, "scriptRules")
    assert all(a["parameters"].get("value") != "*" for r in rules for a in r["actions"]
               if a["name"] == "ModifyResponseHeader"), "never a wildcard"
    for key in (SCRIPT, SCRIPT_CONFIG):
        allowed = evaluate(rules, f"/{key}", "/site", headers={"Origin": HOST})
        assert allowed.path == f"/site/{key}"
        assert allowed.headers[ACAO] == HOST and "Origin" in allowed.headers["Vary"].split(", ")
        assert FILE_HEADERS.items() <= allowed.headers.items()
        for other in ({"Origin": ELSEWHERE}, {"Origin": VIEWER}, {}):
            denied = evaluate(rules, f"/{key}", "/site", headers=other)
            assert ACAO not in denied.headers and ACAO in denied.deleted, f"{key} {other}: a cached ACAO is removed"
            assert FILE_HEADERS.items() <= denied.headers.items()
    assert evaluate(rules, f"/{SCRIPT}", headers={"Origin": HOST}).headers["Cache-Control"] == SHORT
    config = evaluate(rules, f"/{SCRIPT_CONFIG}", headers={"Origin": HOST})
    assert config.headers["Cache-Control"] == NO_CACHE and config.edge_cache is None


def test_script_route_passes_preflights_to_storage(both):
    route = both.one(ROUTE, "script-route").inputs
    assert route["endpointName"] == "script-endpoint1a2b3c4d" and route["patternsToMatch"] == ["/*"]
    assert "Https" in route["supportedProtocols"] and route["httpsRedirect"] == "Enabled"
    assert route["forwardingProtocol"] == "HttpsOnly" and route["originPath"] == "/site"
    assert route["ruleSets"] == [{"id": "script-rules-id"}]
    # Front Door routes have no method list, and only GET is ever cached (front-door-caching.md): an OPTIONS
    # request reaches storage unless a rule answers or redirects it, which none does. (A preflight that accepts an
    # encoding reaches it at the variant's path, which the account's CORS rules answer the same.)
    for rule in rules_of(both, "scriptRules"):
        assert all(c["name"] != "RequestMethod" for c in rule.get("conditions") or []), rule["ruleName"]
        for action in rule["actions"]:
            assert action["name"] in ("ModifyResponseHeader", "RouteConfigurationOverride") or (
                action["name"] == "UrlRewrite" and action["parameters"]["preserveUnmatchedPath"]), rule["ruleName"]


def test_proxy_cors_allows_the_viewer_and_the_host(both, iframe_only):
    for program, expected in ((both, [VIEWER, HOST]), (iframe_only, [VIEWER])):
        conf = nginx_conf_of(custom_data(program, "proxy"))
        assert sorted(re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)) == sorted(expected)


def test_the_proxy_is_private_behind_private_link(both, iframe_only):
    for program in (both, iframe_only):
        no_public_address(program)
        private_link_only(program)
        assert program.one(NIC).inputs["ipConfigurations"][0]["subnet"]["id"] == "network-subnet-id"
        # Premium is the default where a stack has a VM (settings.py).
        assert program.one("azure-native:cdn:Profile").inputs["sku"] == {"name": "Premium_AzureFrontDoor"}


def test_stack_outputs(both):
    out = both.outputs
    assert out["viewer_url"] == f"{VIEWER}/" and out["dicomweb_url"] == PROXY
    assert f'src="{VIEWER}/"' in out["iframe_snippet"]
    assert "Cross-Origin-Embedder-Policy: require-corp" in out["host_page_headers"]
    assert out["script_url"] == f"{SCRIPT_ORIGIN}/"
    assert f'src="{SCRIPT_ORIGIN}/{SCRIPT_CONFIG}" crossorigin' in out["script_snippet"]
    assert f'src="{SCRIPT_ORIGIN}/{SCRIPT}" crossorigin' in out["script_snippet"]
    assert out["script_endpoint"] == "script-endpoint-abc123.z01.azurefd.net"
    assert out["script_storage_account"] == "scriptstore1a2b3c4d"


def test_iframe_only_creates_no_script_storage(iframe_only):
    assert [a.name for a in iframe_only.of_type(ACCOUNT)] == ["viewerstore"]
    assert not iframe_only.of_type("ohif:azure:StaticFiles")
    assert not iframe_only.of_type(CORS) and not [r for r in iframe_only.of_type(RULE)
                                                   if r.inputs["ruleSetName"] == "scriptRules"]
    assert not [b for b in iframe_only.of_type(BLOB) if b.name.startswith("script-")]
    out = iframe_only.outputs
    assert {"viewer_url", "iframe_snippet", "host_page_headers", "dicomweb_url"} <= set(out)
    assert not {k for k in out if k.startswith("script_")}
    assert evaluate(rules_of(iframe_only, "viewerRules"), "/")\
        .headers["Content-Security-Policy"] == f"frame-ancestors 'self' {HOST}"
