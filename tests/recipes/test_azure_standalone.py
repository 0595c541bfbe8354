"""The standalone recipe on Azure under Pulumi mocks: the prod-azure stack in both topologies (the VM in the subnet
the stack names, reached over Private Link, no public address), a created network without it, and the viewer's
Front Door rule set evaluated (tests/frontdoor_rules.py) for every file and for deep links."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pulumi
import pytest

from components.azure.front_door import NETWORK_CONTRIBUTOR, approval_script
from components.render.cloud_init import nginx_conf_of
from components.render.headers import VIEWER_HEADERS
from components.render.viewer_build import APP_CONFIG, IMMUTABLE, SHORT, cache_control, content_type, fetch_build
from settings import read_stack_file
from tests.conftest import REPO, STACKS
from tests.frontdoor_rules import evaluate
from tests.pulumi_mocks import Program, Resource, run_program
from tests.recipes.precompressed import assert_variants, source_bytes

VIEWER = "https://viewer.example-hospital.org"
FRONT_DOOR_ID = "00000000-0000-4000-8000-00000000fd01"  # the mocks' Profile.frontDoorId
PRINCIPAL_ID = "00000000-0000-4000-8000-0000000000a1"  # the mocks' Profile.identity.principalId
SECRET = "s3cr3tOriginVerifyValue0123456789abcdef"  # the mocks' RandomPassword.result
BLOB = "azure-native:storage:Blob"
ROUTE = "azure-native:cdn:Route"
RULE = "azure-native:cdn:Rule"
VM = "azure-native:compute:VirtualMachine"
NSG = "azure-native:network:NetworkSecurityGroup"
NIC = "azure-native:network:NetworkInterface"
LINK = "azure-native:network:PrivateLinkService"
ORIGIN = "azure-native:cdn:AFDOrigin"
SCRIPT = "azure-native:resources:AzureCliScript"
# Pulumi.prod-azure.yaml's azure.subnet_id.
STACK_SUBNET = ("/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/hospital-network/providers/"
                "Microsoft.Network/virtualNetworks/hospital-vnet/subnets/ohif-vms")
NOT_SERVED = ("_headers", "_redirects", "serve.json")
SPA_FALLBACK = REPO / "components" / "render" / "spa_fallback.js"


def azure_config(stack: str, **sections: dict) -> dict[str, str]:
    """A stack file's config, with keys of its `ohif:<section>` objects changed."""
    config = read_stack_file(STACKS / f"Pulumi.{stack}.yaml")
    for section, changes in sections.items():
        config[f"ohif:{section}"] = json.dumps({**json.loads(config.get(f"ohif:{section}", "{}")), **changes})
    return config


@pytest.fixture(scope="module", params=["same-origin", "cross-origin"])
def prod(request) -> Program:
    # A stack name per variant: each prepares the build in its own directory.
    return run_program(azure_config("prod-azure", archive={"topology": request.param}),
                       stack=f"prod-azure-{request.param}")


def custom_data(program: Program, vm: str) -> str:
    return base64.b64decode(program.one(VM, f"{vm}-vm").inputs["osProfile"]["customData"]).decode()


def rules_of(program: Program) -> list[dict]:
    return [r.inputs for r in program.of_type(RULE)]


def test_storage_account_and_container_are_private(prod):
    account = prod.one("azure-native:storage:StorageAccount").inputs
    assert account["kind"] == "StorageV2" and account["allowBlobPublicAccess"] is False
    assert account["enableHttpsTrafficOnly"] is True and account["minimumTlsVersion"] == "TLS1_2"
    assert prod.one("azure-native:storage:BlobContainer").inputs["publicAccess"] == "None"


def test_every_build_file_is_a_blob_with_its_content_type(prod):
    blobs = {b.inputs["blobName"]: b.inputs for b in prod.of_type(BLOB)}
    dist = fetch_build()
    build = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()}
    served = {k for k in build if not k.endswith(".map") and k not in NOT_SERVED} | {APP_CONFIG}
    assert {k for k in blobs if not k.startswith((".br/", ".gz/"))} == {"ohif/" + k for k in served}
    # Blobs cannot carry a Content-Encoding: the rules set it (tests/test_routing.py).
    assert assert_variants(blobs, "/ohif/") > 100
    for name, blob in blobs.items():
        assert blob["contentType"] == content_type(name) != "application/octet-stream", name
        assert blob["containerName"] == "site" and blob["type"] == "Block", name
    assert blobs["ohif/0ddf166f7a343eda.wasm"]["contentType"] == "application/wasm"
    app_config = blobs[f"ohif/{APP_CONFIG}"]["source"].text
    assert '"routerBasename": "/ohif"' in app_config and f'"qidoRoot": "{prod.outputs["dicomweb_url"]}"' in app_config


def test_front_door_profile_reads_storage_with_its_managed_identity(prod):
    profile = prod.one("azure-native:cdn:Profile").inputs
    # Premium: the proxy's VM is reached over Private Link, which only Premium offers.
    assert profile["sku"] == {"name": "Premium_AzureFrontDoor"} and profile["identity"] == {"type": "SystemAssigned"}
    group = prod.one("azure-native:cdn:AFDOriginGroup", "viewer-origins").inputs
    assert group["authentication"] == {"type": "SystemAssignedIdentity", "scope": "https://storage.azure.com/.default"}
    role = prod.one("azure-native:authorization:RoleAssignment", "viewer-blob-reader").inputs
    assert role["principalId"] == PRINCIPAL_ID and role["principalType"] == "ServicePrincipal"
    assert role["roleDefinitionId"].endswith("/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
    assert role["scope"] == "viewerstore-id", "the role is on this account only"
    origin = prod.one("azure-native:cdn:AFDOrigin", "viewer-origin").inputs
    assert origin["hostName"] == origin["originHostHeader"] == "viewerstore1a2b3c4d.blob.core.windows.net"
    assert "sharedPrivateLinkResource" not in origin


def test_viewer_route_redirects_to_https_and_compresses(prod):
    route = prod.one(ROUTE, "viewer-route").inputs
    assert route["httpsRedirect"] == "Enabled" and set(route["supportedProtocols"]) == {"Http", "Https"}
    assert route["forwardingProtocol"] == "HttpsOnly" and route["linkToDefaultDomain"] == "Enabled"
    assert route["patternsToMatch"] == ["/*"] and route["originPath"] == "/site"
    assert route["ruleSets"] == [{"id": "viewer-rules-id"}]
    cache = route["cacheConfiguration"]
    assert cache["compressionSettings"]["isCompressionEnabled"] is True
    compressed = set(cache["compressionSettings"]["contentTypesToCompress"])
    assert {"application/wasm", "text/javascript", "text/html"} <= compressed
    assert cache["queryStringCachingBehavior"] == "UseQueryString"


def test_custom_domain_has_a_managed_tls12_certificate(prod):
    domain = prod.one("azure-native:cdn:AFDCustomDomain").inputs
    assert domain["hostName"] == "viewer.example-hospital.org"
    assert domain["tlsSettings"] == {"certificateType": "ManagedCertificate", "minimumTlsVersion": "TLS12"}
    assert prod.one(ROUTE, "viewer-route").inputs["customDomains"] == [{"id": "viewer-domain-id"}]
    assert prod.outputs["viewer_domain_validation"] == \
        "_dnsauth.viewer.example-hospital.org TXT mock-validation-token"


def test_rule_set_within_front_door_limits_with_overwritten_headers(prod):
    rules = rules_of(prod)
    assert len(rules) <= 100 and len({r["order"] for r in rules}) == len(rules)
    headers = {}
    for rule in rules:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", rule["ruleName"])
        assert len(rule.get("conditions", [])) <= 10 and len(rule["actions"]) <= 5, rule["ruleName"]
        for action in rule["actions"]:
            if action["name"] == "ModifyResponseHeader":
                assert action["parameters"]["headerAction"] == "Overwrite", rule["ruleName"]
                assert len(action["parameters"]["value"]) <= 640
                headers.setdefault(action["parameters"]["headerName"], action["parameters"]["value"])
    assert VIEWER_HEADERS.items() <= headers.items()
    spa = next(r for r in rules if r["ruleName"] == "SpaRoutes")
    rewrite = next(a["parameters"] for a in spa["actions"] if a["name"] == "UrlRewrite")
    assert (rewrite["sourcePattern"], rewrite["destination"], rewrite["preserveUnmatchedPath"]) == \
        ("/", "/ohif/index.html", False)
    assert spa["matchProcessingBehavior"] == "Stop"


def test_dicomweb_route_is_not_cached_and_same_origin_shares_the_viewer_endpoint(prod):
    route = prod.one(ROUTE, "proxy-route").inputs
    assert "cacheConfiguration" not in route, "a caching route drops Accept"
    assert route["patternsToMatch"] == ["/dicom-web/*"] and route["supportedProtocols"] == ["Https"]
    assert route["forwardingProtocol"] == "HttpOnly", "plain HTTP, over Private Link only"
    origin = prod.one(ORIGIN, "proxy-origin").inputs
    assert origin["hostName"] == "10.250.0.18", "the internal load balancer's private address"
    assert origin["sharedPrivateLinkResource"]["privateLink"] == {"id": "proxy-pls-id"}
    if prod.outputs["dicomweb_url"].startswith(VIEWER):
        assert route["endpointName"] == "viewer-endpoint1a2b3c4d"
        assert route["customDomains"] == [{"id": "viewer-domain-id"}]
    else:
        assert route["endpointName"] == "proxy-endpoint1a2b3c4d" and route["customDomains"] == []


def test_nsg_admits_front_door_only_and_no_ssh_or_rdp(prod):
    rules = prod.one(NSG, "proxy-nsg").inputs["securityRules"]
    inbound = [r for r in rules if r["direction"] == "Inbound"]
    allowed = [r for r in inbound if r["access"] == "Allow"]
    # Front Door's requests arrive from the Private Link service's NAT address; the probe from the load balancer.
    assert [(r["sourceAddressPrefix"], r["destinationPortRange"]) for r in allowed] == \
        [("10.250.0.109/32", "80"), ("AzureLoadBalancer", "8090")]  # the probe asks the health port alone
    deny = [r for r in inbound if r["access"] == "Deny"]
    assert deny and deny[0]["sourceAddressPrefix"] == "*" and deny[0]["destinationPortRange"] == "*"
    assert deny[0]["priority"] > max(r["priority"] for r in allowed)
    assert prod.one(NIC, "proxy-nic").inputs["networkSecurityGroup"] == {"id": "proxy-nsg-id"}


def outbound(program: Program, nsg: str) -> list[tuple]:
    return [(r["access"], r["protocol"], r["destinationAddressPrefix"],
             r.get("destinationPortRange") or tuple(r["destinationPortRanges"]))
            for r in program.one(NSG, nsg).inputs["securityRules"] if r["direction"] == "Outbound"]


PLATFORM_AND_WEB = [("Allow", "*", "168.63.129.16/32", "*"), ("Allow", "Tcp", "Internet", ("80", "443"))]


def test_the_proxy_reaches_the_platform_packages_and_the_archive_only(prod):
    assert outbound(prod, "proxy-nsg") == PLATFORM_AND_WEB + [("Allow", "Tcp", "10.0.1.20/32", "8042"),
                                                              ("Deny", "*", "*", "*")]


def no_public_address(program: Program) -> None:
    """No VM has a public address: no interface carries one, and the only public IPs are NAT gateways'."""
    for nic in program.of_type(NIC):
        for config in nic.inputs["ipConfigurations"]:
            assert "publicIPAddress" not in config, nic.name
    nat_ips = {ip["id"] for n in program.of_type("azure-native:network:NatGateway")
               for ip in n.inputs["publicIpAddresses"]}
    for ip in program.of_type("azure-native:network:PublicIPAddress"):
        assert ip.outputs["id"] in nat_ips, f"{ip.name} is not a NAT gateway's"


def private_link_only(program: Program) -> None:
    """Every VM origin is reached over Private Link: its host is its load balancer's private address, it names the
    VM's Private Link service, and an approval script, allowed to change that service alone, approves its request."""
    links = {link.outputs["id"]: link for link in program.of_type(LINK)}
    assert len(links) == len(program.of_type(VM)) > 0
    vm_origins = [o for o in program.of_type(ORIGIN) if "sharedPrivateLinkResource" in o.inputs]
    assert len(vm_origins) == len(links)
    for origin in program.of_type(ORIGIN):
        if "sharedPrivateLinkResource" not in origin.inputs:
            assert origin.inputs["hostName"].endswith(".blob.core.windows.net"), f"{origin.name}: a public VM origin"
    for origin in vm_origins:
        name = origin.name.removesuffix("-origin")
        shared = origin.inputs["sharedPrivateLinkResource"]
        link_id = shared["privateLink"]["id"]
        assert link_id == f"{name}-pls-id" and shared["privateLinkLocation"] == "westeurope"
        frontend = program.one("azure-native:network:LoadBalancer", f"{name}-lb").outputs["frontendIPConfigurations"]
        assert origin.inputs["hostName"] == frontend[0]["privateIPAddress"]
        script = program.one(SCRIPT, f"{name}-link-approval").inputs
        env = {e["name"]: e.get("value", e.get("secureValue")) for e in script["environmentVariables"]}
        assert env == {"PLS_ID": link_id, "REQUEST_MESSAGE": shared["requestMessage"]}
        assert "REQUEST_MESSAGE" == script["environmentVariables"][1]["name"] and \
            "secureValue" in script["environmentVariables"][1], "the request's nonce stays out of the script's logs"
        assert script["scriptContent"] == approval_script() and script["forceUpdateTag"] == origin.outputs["id"]
        identity = program.one("azure-native:managedidentity:UserAssignedIdentity", f"{name}-link-approver")
        assert script["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [identity.outputs["id"]]}
        role = program.one("azure-native:authorization:RoleAssignment", f"{name}-link-approver").inputs
        assert role["scope"] == link_id and role["roleDefinitionId"].endswith(NETWORK_CONTRIBUTOR)
        assert role["principalId"] == identity.outputs["principalId"]


def test_the_vm_has_no_public_address_and_front_door_reaches_it_over_private_link(prod):
    no_public_address(prod)
    private_link_only(prod)
    assert not prod.of_type("azure-native:network:PublicIPAddress")


def test_the_stacks_subnet_is_used(prod):
    nic = prod.one(NIC, "proxy-nic").inputs["ipConfigurations"][0]
    assert nic["subnet"]["id"] == STACK_SUBNET
    assert prod.one("azure-native:network:LoadBalancer", "proxy-lb").inputs["frontendIPConfigurations"][0][
        "subnet"]["id"] == STACK_SUBNET
    assert prod.one(LINK, "proxy-pls").inputs["ipConfigurations"][0]["subnet"]["id"] == STACK_SUBNET
    assert not prod.of_type("ohif:azure:Network") and not prod.of_type("azure-native:network:VirtualNetwork")
    assert not prod.of_type("azure-native:network:NatGateway"), "the stack's subnet brings its own way out"


def test_the_load_balancer_and_private_link_service_front_the_vm(prod):
    lb = prod.one("azure-native:network:LoadBalancer", "proxy-lb").inputs
    assert lb["sku"] == {"name": "Standard", "tier": "Regional"}
    assert "publicIPAddress" not in lb["frontendIPConfigurations"][0], "internal"
    [rule] = lb["loadBalancingRules"]
    assert (rule["frontendPort"], rule["backendPort"], rule["protocol"]) == (80, 80, "Tcp")
    # HTTP on the health port, which needs no X-Azure-FDID and answers 200 only while the archive does.
    assert lb["probes"] == [{"name": "http", "protocol": "Http", "port": 8090, "requestPath": "/healthz",
                             "intervalInSeconds": 15, "numberOfProbes": 2}]
    lb_id = lb["loadBalancingRules"][0]["frontendIPConfiguration"]["id"]
    assert prod.one(LINK, "proxy-pls").inputs["loadBalancerFrontendIpConfigurations"] == [{"id": lb_id}]
    pool = prod.one(NIC, "proxy-nic").inputs["ipConfigurations"][0]["loadBalancerBackendAddressPools"]
    assert pool == [rule["backendAddressPool"]]


def test_the_approval_script_approves_our_request_only():
    script = approval_script()
    assert "privateLinkServiceConnectionState.description=='${REQUEST_MESSAGE}'" in script
    assert '--connection-status Approved --description "$REQUEST_MESSAGE"' in script, "a rerun finds it approved"
    assert script.splitlines()[1] == "set -euo pipefail" and script.rstrip().endswith("exit 1")


@pytest.fixture(scope="module")
def created() -> Program:
    """prod-azure without azure.subnet_id: the recipe's own network."""
    config = azure_config("prod-azure")
    config["ohif:azure"] = json.dumps({k: v for k, v in json.loads(config["ohif:azure"]).items() if k != "subnet_id"})
    return run_program(config, stack="prod-azure-created", transformations=[record_aliases])


ALIASES: dict[str, list] = {}


def record_aliases(args):
    """The aliases of network resources by name (azure-native adds its own, of its API versions' types: not those)."""
    if args.type_.startswith("azure-native:network:"):
        ALIASES[args.name] = [a for a in args.opts.aliases or [] if isinstance(a, pulumi.Alias) and
                              isinstance(a.name, str)]


def test_without_a_subnet_the_recipe_creates_a_private_network(created):
    created.one("ohif:azure:Network", "network")
    subnet = created.one("azure-native:network:Subnet", "network-subnet").inputs
    assert subnet["addressPrefix"] == "10.250.0.0/24" and subnet["natGateway"] == {"id": "network-nat-id"}
    assert subnet["defaultOutboundAccess"] is False, "explicit outbound only: the NAT gateway"
    assert subnet["privateLinkServiceNetworkPolicies"] == "Disabled", "a Private Link service's NAT address is here"
    nat = created.one("azure-native:network:NatGateway").inputs
    assert nat["sku"] == {"name": "Standard"} and nat["publicIpAddresses"] == [{"id": "network-nat-ip-id"}]
    assert created.one(NIC, "proxy-nic").inputs["ipConfigurations"][0]["subnet"]["id"] == "network-subnet-id"
    no_public_address(created)
    private_link_only(created)
    # The proxy's VM had a network of its own: it is kept, not replaced.
    moved_from = "urn:pulumi:prod-azure-created::ohif::ohif:azure:DicomwebProxy$ohif:azure:OriginVm::proxy"
    assert [(a.name, a.parent) for a in ALIASES["network-vnet"]] == [("proxy-vnet", moved_from)]
    assert [(a.name, a.parent) for a in ALIASES["network-subnet"]] == [("proxy-subnet", moved_from)]


def test_proxy_vm_is_hardened(prod):
    vm = prod.one(VM, "proxy-vm").inputs
    assert vm["securityProfile"] == {"securityType": "TrustedLaunch", "encryptionAtHost": True,
                                     "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}
    assert vm["storageProfile"]["imageReference"] == {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2",
                                                      "version": "latest"}
    linux = vm["osProfile"]["linuxConfiguration"]
    assert linux["disablePasswordAuthentication"] is True and "adminPassword" not in vm["osProfile"]
    assert linux["ssh"]["publicKeys"][0]["keyData"].startswith("ssh-rsa ")
    assert "identity" not in vm, "no managed identity for a forged request to find"
    assert vm["hardwareProfile"] == {"vmSize": "Standard_B2s"}
    assert "publicIPAddress" not in prod.one(NIC, "proxy-nic").inputs["ipConfigurations"][0]


def test_proxy_custom_data_checks_the_front_door_id_and_holds_no_secret(prod):
    data = custom_data(prod, "proxy")
    assert SECRET not in data
    conf = nginx_conf_of(data)
    assert re.search(rf'if \(\$http_x_azure_fdid != "{FRONT_DOOR_ID}"\) {{ return 403[^;]*; }}', conf), \
        "our profile's id, and 403 (with or without a body) to any other"
    assert "server 10.0.1.20:8042;" in conf
    # The proxy serves the viewer's origin alone, and refuses a request naming any other: at its own URL it lists it
    # (CORS); mounted on the viewer's site it takes the Host the CDN forwards as its own origin.
    listed = re.findall(r'^    "(https?://[^"]+)" \$http_origin;$', conf, re.M)
    assert re.findall(r'^    "(https?://[^"]+)" 1;$', conf, re.M) == listed
    if prod.outputs["dicomweb_url"].startswith(VIEWER):
        assert listed == [] and 'map "$http_origin|$http_host" $ohif_origin_is_host' in conf
    else:
        assert listed == [VIEWER] and 'map "$http_origin|$http_host"' not in conf


def test_stack_outputs(prod):
    out = prod.outputs
    assert out["viewer_url"] == f"{VIEWER}/ohif/"
    assert out["resource_group"] == "ohif-prod"
    assert out["front_door_endpoint"] == "viewer-endpoint-abc123.z01.azurefd.net"
    assert out["storage_account"] == "viewerstore1a2b3c4d"
    assert out["dicomweb_url"] in (f"{VIEWER}/dicom-web", "https://proxy-endpoint-abc123.z01.azurefd.net/dicom-web")


@pytest.fixture(scope="module", params=["/", "/ohif/"])
def site(request) -> Program:
    stack = "prod-azure-rules-" + (request.param.strip("/") or "root")
    return run_program(azure_config("prod-azure", viewer={"base_path": request.param}), stack=stack)


def _evaluations(program: Program, path: str):
    """The rule set on `path`, whether or not conditions see a rewritten path (which Front Door leaves open)."""
    rules = rules_of(program)
    first, second = (evaluate(rules, path, "/site", conditions_see_rewrite=see) for see in (False, True))
    assert first == second, path
    return first


def _base(program: Program) -> str:
    return "/" + program.one(BLOB, f"viewer-{APP_CONFIG}").inputs["blobName"][:-len(APP_CONFIG)]


# How long Front Door keeps a file at the edge ([d.]hh:mm:ss): as long as browsers may.
EDGE_DURATION = {IMMUTABLE: "365.00:00:00", SHORT: "01:00:00"}


def test_every_file_is_served_as_itself_with_its_cache_control(site):
    base = _base(site)
    blobs: list[Resource] = site.of_type(BLOB)
    assert len(blobs) > 200
    for blob in blobs:
        name = blob.inputs["blobName"]
        key = name[len(base) - 1:]
        result = _evaluations(site, "/" + name)
        assert result.path == f"/site/{name}", name
        assert result.headers["Cache-Control"] == cache_control(key), name
        assert VIEWER_HEADERS.items() <= result.headers.items(), name
        if cache_control(key) == "no-cache":
            assert result.edge_cache is None, f"{name}: Front Door must not keep it either"
        else:
            assert result.edge_cache["cacheBehavior"] == "OverrideAlways", name
            assert result.edge_cache["cacheDuration"] == EDGE_DURATION[cache_control(key)], name


@pytest.mark.parametrize("route", ["", "viewer", "viewer/dicomweb?StudyInstanceUIDs=1.2.840.113619.2.5",
                                   "viewer/1.2.840.10008.5", "callback", "local", "segmentation/"])
def test_deep_links_get_index_html_uncached(site, route):
    base = _base(site)
    result = _evaluations(site, base + route)
    assert result.path == f"/site{base}index.html"
    assert result.headers["Cache-Control"] == "no-cache" and result.edge_cache is None
    assert VIEWER_HEADERS.items() <= result.headers.items()


def test_missing_files_stay_404_and_paths_outside_the_base_path_are_left_alone(site):
    base = _base(site)
    for missing in (f"{base}missing.bundle.js", f"{base}assets/missing.PNG", f"{base}viewer/report.pdf"):
        result = _evaluations(site, missing)
        assert result.path == f"/site{missing}" and "SpaRoutes" not in result.matched, "a missing file stays a 404"
    if base != "/":
        assert _evaluations(site, base.rstrip("/")).path == f"/site{base}index.html"
        for outside in ("/dicom-web/studies", "/ohifx/viewer", "/"):
            result = _evaluations(site, outside)
            assert result.path == f"/site{outside}" and "SpaRoutes" not in result.matched, outside


def _spa_fallback_js(uri: str, base: str) -> str:
    """The decision components/render/spa_fallback.js makes, with its own regular expression."""
    js = SPA_FALLBACK.read_text()
    pattern = re.search(r"if \(!/(.+)/i\.test\(last\)\)", js)[1]
    if not uri.startswith(base) and uri + "/" != base:
        return uri
    last = uri[uri.rfind("/") + 1:]
    return uri if re.search(pattern, last, re.I) else base + "index.html"


@pytest.mark.parametrize("tail", ["viewer", "a.b-c", "x.JS", "1.2.3", "file.", ".hidden", "dir.v2/route",
                                  "dir.v2/", "assets/x.tar.gz", "sub/1.2.840.10008.5.1.4"])
def test_rules_route_as_spa_fallback_js_does(site, tail):
    base = _base(site)
    for path in (base + tail, "/OHIF/" + tail, "/elsewhere/" + tail):
        assert _evaluations(site, path).path == "/site" + _spa_fallback_js(path, base), path


def test_a_redeploy_registers_the_same_blobs_and_rules():
    """Two runs of the same stack register identical blobs (by content) and rules: nothing to update."""
    def registered(program: Program) -> dict:
        blobs = {b.name: (b.inputs["blobName"], b.inputs["contentType"],
                          hashlib.sha256(source_bytes(b.inputs)).hexdigest()) for b in program.of_type(BLOB)}
        return {**blobs, **{r.name: json.dumps(r.inputs, sort_keys=True) for r in program.of_type(RULE)}}

    first, second = (registered(run_program(azure_config("prod-azure"), stack="prod-azure-redeploy")) for _ in range(2))
    assert first == second and any(name.startswith("viewer-.br/") for name in first)
