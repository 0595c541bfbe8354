"""The Azure rules of the policy pack against forks of the Azure example stacks that break one rule each.

test_policy_pack.py runs every rule over every example stack (the Azure ones included) and expects no
violation; here each Azure rule gets a fork (`AZURE_FORKS`, shaped like its `FORKS`) that makes one
unsafe change and must trip exactly that rule, with that message. The Keycloak rules, which read the
realm import in an Azure VM's custom data too, get forks of their own (`AZURE_KEYCLOAK_FORKS`; their
keys are rules FORKS already covers). Then a few cases the forks do not reach, rule by rule.

Props reach the rules here as the policy SDK hands the engine's over, wrapped in its Mapping and
Sequence proxies (not dicts and lists), so a rule that tests `isinstance(x, dict)` fails here as it
would under `pulumi preview`.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_azure_native.network as network
import pulumi_azure_native.storage as storage
import pytest
import yaml
from ohif_policies import POLICIES
from ohif_policies._common import DOCS
from ohif_policies.azure_vm_front_door_id_check import SERVER, STORE_SERVER
from pulumi_policy.proxy import unknown_checking_proxy

import components.azure.keycloak_host as azure_keycloak_module
import components.azure.target as azure_target_module
import components.proxy_host as proxy_host_module
from components.azure.origin_vm import OriginVm
from components.render.cloud_init import VM_SHARE_STORE_FILES
from components.render.dicomweb_proxy.origin import NoOriginCheck
from components.render.dicomweb_proxy.share_store import ShareStore, ShareStoreAt
from components.render.keycloak_host_init import ENV_PATH, render_keycloak_env
from settings import load
from settings.services import ArchiveAuth
from tests.policy.harness import evaluate
from tests.policy.test_policy_pack import (
    EXAMPLES,
    FORKS,
    Fork,
    cloud_credential_in,
    fired,
    set_attr,
    set_item,
    stack_config,
    transform,
    variants,
)
from tests.pulumi_mocks import Program, Resource, run_program

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
ROUTE = "azure-native:cdn:Route"
RULE = "azure-native:cdn:Rule"
NSG = "azure-native:network:NetworkSecurityGroup"
VM = "azure-native:compute:VirtualMachine"
WAF_POLICY = "azure-native:frontdoor:Policy"
AZURE_EXAMPLES = [name for name, config in EXAMPLES.items() if config.get("ohif:cloud") == "azure"]


def _drop_coep(props):
    props["actions"] = [a for a in props["actions"] if a.parameters.header_name != "Cross-Origin-Embedder-Policy"]


def _header_set(name: str, value: str):
    """A transformation of a Rule: the `name` response header its actions set gets `value`."""
    def change(props):
        for action in props["actions"]:
            if action.name == "ModifyResponseHeader" and action.parameters.header_name == name:
                action.parameters.value = value
    return change


def _cors_for_anyone(props):
    """The CORS rule most guides give: any origin, no condition."""
    _header_set("Access-Control-Allow-Origin", "*")(props)
    props["conditions"] = []


def _blob_cors_wildcard(props):
    props["cors"] = storage.CorsRulesArgs(cors_rules=[storage.CorsRuleArgs(
        allowed_origins=["*"], allowed_methods=["GET", "HEAD", "OPTIONS"], allowed_headers=["*"], exposed_headers=[],
        max_age_in_seconds=600)])


def _open_ssh(props):
    # The rules name the Private Link service's address, so they are an Output.
    props["security_rules"] = pulumi.Output.from_input(props["security_rules"]).apply(
        lambda rules: list(rules) + [network.SecurityRuleArgs(
            name="Ssh", priority=110, direction="Inbound", access="Allow", protocol="Tcp",
            source_address_prefix="Internet", source_port_range="*", destination_address_prefix="*",
            destination_port_range="22")])


def _origin_on_public_http(props):
    """The proxy's origin as it used to be: the VM's public address, without Private Link."""
    props["shared_private_link_resource"] = None
    props["host_name"] = "203.0.113.18"


def without_custom_rule(rule: str):
    """A fork whose WAF policy forgets one of its custom rules."""
    def change(props):
        rules = [r for r in pulumi.get(props["custom_rules"], "rules") if pulumi.get(r, "name") != rule]
        props["custom_rules"] = {"rules": rules}
    return transform(WAF_POLICY, change)


def _password_login(props):
    os_profile = props["os_profile"]
    os_profile.admin_password = "Correct-Horse-Battery-9"
    os_profile.linux_configuration.disable_password_authentication = False


def _proxy_conf_changed(monkeypatch, **changes):
    render = proxy_host_module.render_proxy_cloud_init
    monkeypatch.setattr(proxy_host_module, "render_proxy_cloud_init", lambda **kwargs: render(**{**kwargs, **changes}))


def _proxy_without_fdid_check(monkeypatch):
    _proxy_conf_changed(monkeypatch, origin_check=NoOriginCheck())


def _proxy_allows_any_origin(monkeypatch):
    _proxy_conf_changed(monkeypatch, allowed_origins=["*"])


def _keycloak_env_in_custom_data(monkeypatch):
    """Keycloak's passwords written by cloud-init, as the first AWS Keycloak had them in its user data."""
    render = azure_keycloak_module.render_keycloak_cloud_init
    env = render_keycloak_env(admin_password="Correct-Horse-Battery-9", db_password="Tr0ub4dor-and-3")

    def with_env(**kwargs):
        config = yaml.safe_load(render(**kwargs))
        config["write_files"].append({"path": ENV_PATH, "permissions": "0600", "content": env})
        return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=False)
    monkeypatch.setattr(azure_keycloak_module, "render_keycloak_cloud_init", with_env)


def _realm_import_changed(change):
    def patch(monkeypatch):
        render = azure_target_module.render_realm_import

        def changed(model):
            realm = render(model)
            change(realm)
            return realm
        monkeypatch.setattr(azure_target_module, "render_realm_import", changed)
    return patch


def _wildcard_redirect(realm):
    realm["clients"][0]["redirectUris"].append("https://*.example-hospital.org/*")


def _no_pkce(realm):
    realm["clients"][0]["attributes"].pop("pkce.code.challenge.method")


def _no_ssl(realm):
    realm["sslRequired"] = "none"


AZURE = dict(stack="prod-azure")
AZURE_UAC = dict(stack="prod-azure-uac", topology="cross-origin")
EMBEDDED = dict(stack="azure-embedded")

DICOM_SERVICE = dict(stack="prod-azure-dicom-service")


def _cors_for_any_origin(props):
    """The DICOM service's CORS as OHIF's Azure guide sets it."""
    props["cors_configuration"] = {"origins": ["*"], "headers": ["*"], "methods": ["GET", "OPTIONS"]}


AZURE_FORKS = {
    "azure-dicom-service-cors": Fork(
        "DICOM service proxy-dicom allows any origin by CORS (*). Leave CORS empty: the proxy calls the service "
        f"server to server. See {DOCS}",
        [transform("azure-native:healthcareapis:DicomService", _cors_for_any_origin)], **DICOM_SERVICE),
    "azure-dicom-role-scoped": Fork(
        "Role assignment proxy-dicom-reader grants a DICOM data role on /subscriptions/00000000-0000-4000-8000-"
        "0000000000e1/resourceGroups/imaging, wider than one DICOM service. Scope it to the service "
        f"(components/azure/dicom_service.py). See {DOCS}",
        [transform("azure-native:authorization:RoleAssignment", set_item(
            "scope", "/subscriptions/00000000-0000-4000-8000-0000000000e1/resourceGroups/imaging"),
            name="proxy-dicom-reader")], **DICOM_SERVICE),
    "azure-storage-no-public-access": Fork(
        "StorageAccount viewerstore allows public blob access. Set allowBlobPublicAccess false; Front Door reads the "
        f"blobs with its managed identity. See {DOCS}",
        [transform(STORAGE_ACCOUNT, set_item("allow_blob_public_access", True))], **AZURE),
    "azure-storage-minimum-tls": Fork(
        f"StorageAccount viewerstore accepts TLS1_0. Set minimumTlsVersion to TLS1_2. See {DOCS}",
        [transform(STORAGE_ACCOUNT, set_item("minimum_tls_version", "TLS1_0"))], **AZURE),
    "azure-storage-https-only": Fork(
        f"StorageAccount viewerstore accepts plain HTTP. Set enableHttpsTrafficOnly true. See {DOCS}",
        [transform(STORAGE_ACCOUNT, set_item("enable_https_traffic_only", False))], **AZURE),
    "azure-frontdoor-minimum-tls": Fork(
        f"AFDCustomDomain viewer-domain accepts TLS10. Set tlsSettings.minimumTlsVersion to TLS12. See {DOCS}",
        [transform(CUSTOM_DOMAIN, set_attr("tls_settings", "minimum_tls_version", "TLS10"))], **AZURE),
    "azure-frontdoor-https-only": Fork(
        "Route viewer-route serves plain HTTP (supportedProtocols Http, Https; httpsRedirect Disabled). Set "
        f"httpsRedirect Enabled, or supportedProtocols [Https]. See {DOCS}",
        [transform(ROUTE, set_item("https_redirect", "Disabled"), name="viewer-route")], **AZURE),
    "azure-frontdoor-isolation-headers": Fork(
        "Route viewer-route serves the viewer without COOP same-origin and COEP require-corp. Attach a rule set "
        f"whose first rule overwrites both response headers, with no condition. See {DOCS}",
        [transform(RULE, _drop_coep, name="viewer-rule-Headers1")], **AZURE),
    # The fallback most guides give: rewrite everything to index.html.
    "azure-frontdoor-spa-fallback": Fork(
        "Rule viewer-rule-SpaRoutes sends requests for files, such as /ohif/missing.js, to /ohif/index.html, so a "
        "missing file answers 200 with HTML. Add a condition that skips paths with a file extension "
        f"(components/azure/site_rules.py). See {DOCS}",
        [transform(RULE, set_item("conditions", []), name="viewer-rule-SpaRoutes")], **AZURE),
    "azure-network-no-open-inbound": Fork(
        f"proxy-nsg rule Ssh admits [22] (SSH/RDP). Remove the rule; use Azure Bastion or Run Command. See {DOCS}",
        [transform(NSG, _open_ssh)], **AZURE),
    "azure-frontdoor-no-public-http-origin": Fork(
        "Route proxy-route forwards plain HTTP (HttpOnly) to AFDOrigin proxy-origin at 203.0.113.18, a public address. "
        "Reach a VM over Private Link (sharedPrivateLinkResource, Front Door Premium), or forward HttpsOnly. "
        f"See {DOCS}",
        [transform("azure-native:cdn:AFDOrigin", _origin_on_public_http, name="proxy-origin")], **AZURE),
    "azure-vm-encryption-at-host": Fork(
        f"VirtualMachine proxy-vm does not encrypt at host. Set securityProfile.encryptionAtHost true. See {DOCS}",
        [transform(VM, set_attr("security_profile", "encryption_at_host", False))], **AZURE),
    # A VM size without Trusted Launch: the security type and UEFI settings go.
    "azure-vm-trusted-launch": Fork(
        "VirtualMachine proxy-vm is not a Trusted Launch VM (securityType Standard, secure boot off, vTPM off). Set "
        "securityProfile.securityType TrustedLaunch and uefiSettings secureBootEnabled and vTpmEnabled true, on a "
        f"gen2 image. See {DOCS}",
        [transform(VM, set_item("security_profile", compute.SecurityProfileArgs(encryption_at_host=True)))], **AZURE),
    "azure-vm-no-password-login": Fork(
        "VirtualMachine proxy-vm allows password login. Set osProfile.linuxConfiguration.disablePasswordAuthentication "
        f"true and give no adminPassword. See {DOCS}",
        [transform(VM, _password_login)], **AZURE),
    "azure-vm-front-door-id-check": Fork(
        "VirtualMachine proxy-vm runs nginx (/etc/nginx/conf.d/ohif-dicomweb-proxy.conf) without checking "
        "X-Azure-FDID, so any tenant's Front Door reaches it. Pass the profile's front_door_id as origin_check, so "
        f"nginx answers 403 to any other. See {DOCS}", patch=_proxy_without_fdid_check, **AZURE),
    "azure-vm-proxy-cors-no-wildcard": Fork(
        "VirtualMachine proxy-vm runs a DICOMweb proxy whose CORS allows any origin in a production stack. List the "
        f"viewer origins in archive.allowed_origins. See {DOCS}",
        patch=_proxy_allows_any_origin, stack="prod-azure", topology="cross-origin"),
    "azure-frontdoor-frame-ancestors-no-wildcard": Fork(
        "Rule viewer-rule-Headers2 lets pages it does not name frame the viewer in a production stack "
        f"(frame-ancestors https:). List the host applications' exact origins in embed.host_origins. See {DOCS}",
        [transform(RULE, _header_set("Content-Security-Policy", "frame-ancestors 'self' https:"))], **EMBEDDED),
    "azure-frontdoor-cors-no-wildcard": Fork(
        "Rule script-rule-CorsOrigin1 sets Access-Control-Allow-Origin * in a production stack. Set each allowed "
        "origin in a rule of its own, matched on the request's Origin (components/azure/site_rules.py: file_rules). "
        f"See {DOCS}", [transform(RULE, _cors_for_anyone, name="script-rule-CorsOrigin1")], **EMBEDDED),
    "azure-storage-cors-no-wildcard": Fork(
        "BlobServiceProperties script-cors allows origin * in a production stack. List the origins that read the "
        f"files instead (the viewer's, embed.host_origins, studies.allowed_origins). See {DOCS}",
        [transform(BLOB_SERVICE, _blob_cors_wildcard)], **EMBEDDED),
    "azure-vm-custom-data-secret": Fork(
        "VirtualMachine keycloak-vm writes a secret (/etc/keycloak/keycloak.env) from its custom data, which anyone "
        "who can read the VM can read. Deliver it through a CustomScript extension's protected settings "
        f"(components/azure/keycloak_host.py). See {DOCS}", patch=_keycloak_env_in_custom_data, **AZURE_UAC),
    "azure-vm-proxy-highly-available": Fork(
        "VirtualMachineScaleSet proxy-vmss starts with 1 VM(s) in a highly available stack. Set "
        f"ohif:archive.scale.min_instances to 2 or more. See {DOCS}",
        [transform("azure-native:compute:VirtualMachineScaleSet", set_attr("sku", "capacity", 1))], stack="azure-ha"),
    "azure-postgres-protected": Fork(
        "PostgreSQL server keycloak-db-postgres holds users' accounts but it keeps 3 days of backups in a production "
        f"stack (at least 7). Keep components/azure/database.py's settings. See {DOCS}",
        [transform("azure-native:dbforpostgresql:Server", set_item("backup", {"backup_retention_days": 3}))],
        **AZURE_UAC),
    "azure-frontdoor-waf-allow-list": Fork(
        "Front Door endpoint viewer-endpoint serves anyone: no WAF policy associated with it blocks socket addresses "
        "outside a list. Say who may read: ohif:access.allowed_networks, login (recipe user-account-control), or "
        f"public: true for de-identified data (and the policy config public). See {DOCS}",
        [without_custom_rule("AllowedNetworks")], **AZURE),
    "azure-frontdoor-waf-rate-limit": Fork(
        "Front Door endpoint viewer-endpoint has no WAF rate-limit rule that blocks: one client may pull images as "
        f"fast as the proxy sends them. Associate the stack's WAF policy (components/azure/edge_firewall.py). See "
        f"{DOCS}", [without_custom_rule("DicomwebRateLimit")], **AZURE),
}

# The Keycloak rules on the realm import in the Keycloak VM's custom data (prod-azure-uac provisions Keycloak).
AZURE_KEYCLOAK_FORKS = {
    # The same client and VM names as the AWS fork, so the same message.
    "keycloak-client-exact-redirects": Fork(
        FORKS["keycloak-client-exact-redirects"].message, patch=_realm_import_changed(_wildcard_redirect), **AZURE_UAC),
    "keycloak-client-pkce-code-flow": Fork(
        "Keycloak client ohif-viewer (keycloak-vm): PKCE is not S256. Use the code flow with PKCE S256 only. "
        f"See {DOCS}", patch=_realm_import_changed(_no_pkce), **AZURE_UAC),
    "keycloak-realm-ssl-required": Fork(
        f"Keycloak realm ohif (keycloak-vm) has sslRequired none. Use external or all. See {DOCS}",
        patch=_realm_import_changed(_no_ssl), **AZURE_UAC),
}


def as_engine_hands_over(program: Program) -> Program:
    """The program with every resource's props wrapped as the policy SDK wraps the engine's: in Mapping and
    Sequence proxies (pulumi_policy.proxy), which are not dicts and lists."""
    return Program(resources=[replace(r, inputs=unknown_checking_proxy(r.inputs),
                                      outputs=unknown_checking_proxy(r.outputs)) for r in program.resources])


def violations(program: Program, production: bool = True, public: bool = False,
               highly_available: bool = False) -> list[tuple[str, str]]:
    return [(v.policy, v.message) for v in evaluate(as_engine_hands_over(program), production=production,
                                                    public=public, highly_available=highly_available)]


def run_fork(fork: Fork, monkeypatch) -> list[tuple[str, str]]:
    if fork.patch:
        fork.patch(monkeypatch)
    config = {**stack_config(fork.stack, topology=fork.topology), **fork.config}
    return violations(run_program(config, transformations=fork.transformations, secret_keys=["keycloak:password"]),
                      highly_available=load(config).highly_available)


@pytest.mark.parametrize("example,variant", [(e, v) for e in AZURE_EXAMPLES for v in variants(e)])
def test_azure_stacks_pass_every_rule_as_the_engine_hands_them_over(example, variant):
    """test_policy_pack.py's test_example_stacks_pass_every_rule, with the engine's proxies."""
    config = stack_config(example, variants(example)[variant])
    settings = load(config)
    assert violations(run_program(config), production=settings.production, public=settings.access.public,
                      highly_available=settings.highly_available) == []


def test_a_client_secret_in_custom_data_is_refused(monkeypatch):
    fork = Fork(patch=cloud_credential_in(proxy_host_module, {
        "/etc/ohif/service-principal.json": '{"client_id": "00000000-0000-4000-8000-000000000001", '
                                            '"client_secret": "Q~example-not-a-real-secret"}'}), **DICOM_SERVICE)
    assert [rule for rule, _ in run_fork(fork, monkeypatch)] == ["azure-vm-custom-data-secret"]


def test_every_azure_rule_has_a_failing_fork():
    assert sorted(AZURE_FORKS) == sorted(p.name for p in POLICIES if p.name.startswith("azure-"))


@pytest.mark.parametrize("rule", AZURE_FORKS)
def test_azure_fork_breaks_exactly_its_rule(rule, monkeypatch):
    assert run_fork(AZURE_FORKS[rule], monkeypatch) == [(rule, AZURE_FORKS[rule].message)]


@pytest.mark.parametrize("rule", AZURE_KEYCLOAK_FORKS)
def test_keycloak_rules_read_the_azure_vm_custom_data(rule, monkeypatch):
    assert run_fork(AZURE_KEYCLOAK_FORKS[rule], monkeypatch) == [(rule, AZURE_KEYCLOAK_FORKS[rule].message)]


def test_proxy_cors_rule_allows_a_wildcard_outside_production(monkeypatch):
    _proxy_allows_any_origin(monkeypatch)
    program = run_program(stack_config("prod-azure", topology="cross-origin"))
    assert violations(program, production=False) == []


@pytest.mark.parametrize("rule", ["azure-frontdoor-frame-ancestors-no-wildcard", "azure-frontdoor-cors-no-wildcard",
                                  "azure-storage-cors-no-wildcard"])
def test_frame_and_cors_rules_allow_a_wildcard_outside_production(rule, monkeypatch):
    fork = AZURE_FORKS[rule]
    program = run_program(stack_config(fork.stack), transformations=fork.transformations)
    assert violations(program, production=False) == []


# The file hosts of the newer recipes (components/azure/static_files.py: OHIF v2's packaged script, studies on their
# own origin) are guarded by the rules that guard the viewer's storage and Front Door: a fork of each on such a
# host trips the rule on that host's resource, and nothing else.
DICOM_JSON_CROSS = dict(stack="azure-dicom-json", topology="cross-origin")
FILE_HOST_FORKS = {
    "script-account-public": ("azure-storage-no-public-access", "scriptstore", Fork(
        transformations=[transform(STORAGE_ACCOUNT, set_item("allow_blob_public_access", True), name="scriptstore")],
        **EMBEDDED)),
    "script-container-public": ("azure-storage-no-public-access", "script-container", Fork(
        transformations=[transform(BLOB_CONTAINER, set_item("public_access", "Blob"), name="script-container")],
        **EMBEDDED)),
    "studies-account-public": ("azure-storage-no-public-access", "studiesstore", Fork(
        transformations=[transform(STORAGE_ACCOUNT, set_item("allow_blob_public_access", True), name="studiesstore")],
        **DICOM_JSON_CROSS)),
    "studies-account-http": ("azure-storage-https-only", "studiesstore", Fork(
        transformations=[transform(STORAGE_ACCOUNT, set_item("enable_https_traffic_only", False),
                                   name="studiesstore")], **DICOM_JSON_CROSS)),
    "script-route-http": ("azure-frontdoor-https-only", "script-route", Fork(
        transformations=[transform(ROUTE, set_item("https_redirect", "Disabled"), name="script-route")], **EMBEDDED)),
    "studies-cors-wildcard": ("azure-storage-cors-no-wildcard", "studies-cors", Fork(
        transformations=[transform(BLOB_SERVICE, _blob_cors_wildcard)], **DICOM_JSON_CROSS)),
}


@pytest.mark.parametrize("case", FILE_HOST_FORKS)
def test_file_hosts_are_guarded_like_the_viewer(case, monkeypatch):
    rule, resource, fork = FILE_HOST_FORKS[case]
    program = run_program(stack_config(fork.stack, topology=fork.topology), transformations=fork.transformations)
    assert fired(evaluate(as_engine_hands_over(program), production=True)) == [(rule, resource)]


def _without_page_rewrite(props):
    props["actions"] = [a for a in props["actions"] if a.name != "UrlRewrite"]


@pytest.mark.parametrize("example", ["prod-azure", "azure-embedded"])
def test_the_viewer_is_known_by_its_page_without_its_rewrite(example):
    """azure-frontdoor-isolation-headers finds the viewer by its rewrite to index.html or by the index.html in its
    storage: a fork that drops the rewrite and COEP still trips it, and on the viewer's route only."""
    program = run_program(stack_config(example), transformations=[
        transform(RULE, _drop_coep, name="viewer-rule-Headers1"),
        transform(RULE, _without_page_rewrite, name="viewer-rule-SpaRoutes")])
    assert fired(evaluate(as_engine_hands_over(program), production=True)) == [
        ("azure-frontdoor-isolation-headers", "viewer-route")]


def test_a_security_rule_resource_is_checked_like_an_inline_one(monkeypatch):
    original = OriginVm.__init__

    def init(self, name, args, opts=None):
        original(self, name, args, opts)
        network.SecurityRule(f"{name}-rdp", resource_group_name=args.resource_group_name,
                             network_security_group_name=f"{name}-nsg", priority=120, direction="Inbound",
                             access="Allow", protocol="*", source_address_prefix="*", source_port_range="*",
                             destination_address_prefix="*", destination_port_ranges=["3000-3999"],
                             opts=pulumi.ResourceOptions(parent=self))
    monkeypatch.setattr(OriginVm, "__init__", init)
    assert violations(run_program(stack_config("prod-azure"))) == [(
        "azure-network-no-open-inbound",
        f"proxy-rdp admits [3389] (SSH/RDP). Remove the rule; use Azure Bastion or Run Command. See {DOCS}")]


# Rule by rule, on one resource as the engine hands it over (camelCase inputs).

def _violations(token: str, props: dict, name: str = "r") -> list[tuple[str, str]]:
    return violations(Program(resources=[Resource(token, name, props, set(), outputs={**props, "id": f"{name}-id"})]))


def _rule(conditions: list, destination: str = "/index.html", preserve: bool = False) -> dict:
    return {"ruleSetName": "s", "order": 1, "conditions": conditions, "actions": [{"name": "UrlRewrite", "parameters": {
        "typeName": "DeliveryRuleUrlRewriteActionParameters", "sourcePattern": "/", "destination": destination,
        "preserveUnmatchedPath": preserve}}]}


def _condition(name: str, operator: str, values: list[str], negate: bool = False, transforms=()) -> dict:
    return {"name": name, "parameters": {"operator": operator, "matchValues": values, "negateCondition": negate,
                                         "transforms": list(transforms)}}


@pytest.mark.parametrize("conditions", [
    [_condition("UrlFileExtension", "LessThan", ["1"])],  # the documented fallback: no extension
    [_condition("UrlFileExtension", "Equal", [""])],
    [_condition("UrlPath", "RegEx", [r"\.[a-z0-9]+$"], negate=True, transforms=["Lowercase"])],
    [_condition("RequestHeader", "Any", []), _condition("UrlFileName", "Contains", ["."], negate=True)],
])
def test_a_fallback_that_skips_files_passes(conditions):
    assert _violations(RULE, _rule(conditions)) == []


def test_a_rewrite_that_keeps_the_path_is_no_fallback():
    assert _violations(RULE, _rule([], destination="/site/index.html", preserve=True)) == []


@pytest.mark.parametrize("conditions,example", [
    ([], "/missing.js"),
    ([_condition("UrlFileExtension", "LessThan", ["3"])], "/missing.js"),  # `js` is shorter than 3
    ([_condition("UrlPath", "RegEx", [r"\.(js|css)$"], negate=True)], "/assets/missing.png"),
    ([_condition("RequestHeader", "Any", [])], "/missing.js"),  # cannot exclude files
])
def test_a_fallback_that_catches_files_fails(conditions, example):
    assert _violations(RULE, _rule(conditions), "spa") == [(
        "azure-frontdoor-spa-fallback",
        f"Rule spa sends requests for files, such as {example}, to /index.html, so a missing file answers 200 with "
        f"HTML. Add a condition that skips paths with a file extension (components/azure/site_rules.py). See {DOCS}")]


def test_a_redirect_to_index_html_fails():
    rule = {**_rule([]), "actions": [{"name": "UrlRedirect", "parameters": {"redirectType": "Found",
                                                                             "customPath": "/index.html"}}]}
    assert [p for p, _ in _violations(RULE, rule)] == ["azure-frontdoor-spa-fallback"]


def test_a_static_website_is_public_and_its_index_error_document_masks_404s():
    found = _violations("azure-native:storage:StorageAccountStaticWebsite",
                        {"accountName": "a", "indexDocument": "index.html", "error404Document": "index.html"}, "web")
    assert [p for p, _ in found] == ["azure-frontdoor-spa-fallback", "azure-storage-no-public-access"]


@pytest.mark.parametrize("access", ["Blob", "Container"])
def test_a_public_container_fails(access):
    assert _violations("azure-native:storage:BlobContainer", {"publicAccess": access}, "c") == [(
        "azure-storage-no-public-access", f"BlobContainer c is readable by anyone ({access}). Set publicAccess None; "
        f"Front Door reads the blobs with its managed identity. See {DOCS}")]


@pytest.mark.parametrize("protocols,redirect,ok", [
    (["Https"], "Disabled", True), (["Http", "Https"], "Enabled", True), (None, None, False), (["Http"], None, False)])
def test_route_protocols(protocols, redirect, ok):
    props = {k: v for k, v in (("supportedProtocols", protocols), ("httpsRedirect", redirect)) if v is not None}
    assert (_violations(ROUTE, props) == []) == ok


@pytest.mark.parametrize("rule,ok", [
    ({"sourceAddressPrefix": "AzureFrontDoor.Backend", "destinationPortRange": "80"}, True),
    ({"sourceAddressPrefix": "Internet", "destinationPortRange": "80"}, False),
    ({"sourceAddressPrefixes": ["AzureFrontDoor.Backend", "0.0.0.0/0"], "destinationPortRange": "443"}, False),
    ({"sourceAddressPrefix": "AzureFrontDoor.Backend", "destinationPortRange": "*"}, False),  # 22 among all
    ({"sourceAddressPrefix": "10.0.0.0/8", "destinationPortRanges": ["20-25"]}, False),
    ({"sourceAddressPrefix": "*", "destinationPortRange": "*", "access": "Deny"}, True),
    ({"sourceAddressPrefix": "*", "destinationPortRange": "*", "direction": "Outbound"}, True),
])
def test_nsg_rules(rule, ok):
    rule = {"name": "x", "direction": "Inbound", "access": "Allow", "protocol": "Tcp", **rule}
    assert (_violations(NSG, {"securityRules": [rule]}) == []) == ok


def _vm(cloud_init: str) -> dict:
    return {"osProfile": {"customData": base64.b64encode(cloud_init.encode()).decode(),
                          "linuxConfiguration": {"disablePasswordAuthentication": True}},
            "securityProfile": {"securityType": "TrustedLaunch", "encryptionAtHost": True,
                                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True}}}


def _nginx(conf: str) -> str:
    return "#cloud-config\nwrite_files:\n- path: /etc/nginx/conf.d/x.conf\n  content: |\n" + \
        "".join(f"    {line}\n" for line in conf.splitlines())


CHECK = 'if ($http_x_azure_fdid != "00000000-0000-4000-8000-00000000fd01") { return 403; }'


@pytest.mark.parametrize("conf,ok", [
    (f"server {{\n    listen 80;\n    {CHECK}\n}}", True),
    (f"server {{\n    listen 80;\n    {CHECK[:-3]} '{{\"error\": \"forbidden\"}}'; }}\n}}", True),  # a 403 with a body
    ("server {\n    listen 80;\n}", False),
    (f"server {{\n    listen 80;\n    {CHECK}\n}}\nserver {{\n    listen 81;\n}}", False),  # one of two servers
    ('server {\n    if ($http_x_azure_fdid != "") { return 403; }\n}', False),  # an empty id lets anything in
])
def test_every_nginx_server_checks_the_front_door_id(conf, ok):
    assert (_violations(VM, _vm(_nginx(conf))) == []) == ok


def test_custom_data_that_is_not_cloud_config_or_not_base64_is_not_misread():
    assert _violations(VM, _vm("#!/bin/sh\necho hello\n")) == []
    not_base64 = {"customData": "not base64!", "linuxConfiguration": {"disablePasswordAuthentication": True}}
    assert _violations(VM, {**_vm(""), "osProfile": not_base64}) == []


@pytest.mark.parametrize("content,ok", [
    ("KC_DB_PASSWORD=hunter2\n", False), ("export API_SECRET=abc\n", False), ("KC_DB_PASSWORD=\n", True),
    ("# the password is set later\nKC_DB_USERNAME=keycloak\n", True)])
def test_custom_data_secrets(content, ok):
    cloud_init = "#cloud-config\nwrite_files:\n- path: /etc/app.env\n  content: |\n    " + content
    assert (_violations(VM, _vm(cloud_init)) == []) == ok


def _header_rule(name: str, value: str | None, action: str = "Overwrite") -> dict:
    return {"ruleSetName": "s", "order": 1, "conditions": [], "actions": [{
        "name": "ModifyResponseHeader", "parameters": {
            "typeName": "DeliveryRuleHeaderActionParameters", "headerAction": action, "headerName": name,
            "value": value}}]}


@pytest.mark.parametrize("csp,bad", [
    ("frame-ancestors 'self' https://portal.example-hospital.org", None),
    ("frame-ancestors 'none'", None),
    ("default-src 'self'; frame-ancestors 'self' https://portal.example-hospital.org:8443", None),
    ("default-src *; frame-ancestors 'self'", None),  # the wildcard is not about framing
    ("frame-ancestors *", "*"),
    ("Frame-Ancestors 'self' https:", "https:"),
    ("frame-ancestors 'self' data:", "data:"),
    ("frame-ancestors 'self' *.example-hospital.org", "*.example-hospital.org"),
    ("frame-ancestors https://*.example-hospital.org", "https://*.example-hospital.org"),
    ("frame-ancestors https://portal.example-hospital.org:*", "https://portal.example-hospital.org:*"),
    ("frame-ancestors 'self', frame-ancestors *", "*"),  # a second policy in the same header
])
def test_frame_ancestors_sources(csp, bad):
    found = _violations(RULE, _header_rule("content-security-policy", csp), "csp")
    assert found == ([] if bad is None else [(
        "azure-frontdoor-frame-ancestors-no-wildcard",
        f"Rule csp lets pages it does not name frame the viewer in a production stack (frame-ancestors {bad}). List "
        f"the host applications' exact origins in embed.host_origins. See {DOCS}")])


@pytest.mark.parametrize("value,action,ok", [
    ("*", "Overwrite", False), ("*", "Append", False), (None, "Delete", True),
    ("https://portal.example-hospital.org", "Overwrite", True)])
def test_allow_origin_header_rules(value, action, ok):
    found = _violations(RULE, _header_rule("Access-Control-Allow-Origin", value, action))
    assert (found == []) == ok
    assert [p for p, _ in found] == ([] if ok else ["azure-frontdoor-cors-no-wildcard"])


@pytest.mark.parametrize("origins,ok", [(["https://portal.example-hospital.org"], True),
                                        (["https://portal.example-hospital.org", "*"], False)])
def test_blob_service_cors(origins, ok):
    props = {"cors": {"corsRules": [{"allowedOrigins": origins, "allowedMethods": ["GET"]}]}}
    assert [p for p, _ in _violations(BLOB_SERVICE, props)] == ([] if ok else ["azure-storage-cors-no-wildcard"])


# azure-frontdoor-no-public-http-origin on one route, its origin group and one origin.

def _route_to(origin: dict, **route: object) -> Program:
    resources = [("azure-native:cdn:Route", "route", {"originGroup": {"id": "group-id"}, **route}),
                 ("azure-native:cdn:AFDOriginGroup", "group", {"name": "group"}),
                 ("azure-native:cdn:AFDOrigin", "origin",
                  {"originGroupName": "group", "hostName": "10.0.0.4", **origin})]
    return Program(resources=[Resource(t, n, p, set(), outputs={**p, "id": f"{n}-id"}) for t, n, p in resources])


LINK = {"sharedPrivateLinkResource": {"privateLink": {"id": "pls-id"}, "privateLinkLocation": "westeurope"}}


@pytest.mark.parametrize("origin,route,fires", [
    ({}, {"forwardingProtocol": "HttpOnly"}, True),
    ({}, {}, True),  # MatchRequest and both protocols: HTTP reaches the origin when the browser's was HTTP
    ({}, {"supportedProtocols": ["Http", "Https"], "httpsRedirect": "Enabled"}, False),  # HTTP is only redirected
    ({}, {"forwardingProtocol": "MatchRequest", "supportedProtocols": ["Https"]}, False),
    ({}, {"forwardingProtocol": "HttpsOnly"}, False),
    (LINK, {"forwardingProtocol": "HttpOnly"}, False),  # over Private Link
])
def test_public_http_origins(origin, route, fires):
    found = fired(evaluate(as_engine_hands_over(_route_to(origin, **route)), production=True))
    # Routes that accept HTTP from browsers also trip azure-frontdoor-https-only, which is not this test's.
    assert [f for f in found if f[0] != "azure-frontdoor-https-only"] == \
        ([("azure-frontdoor-no-public-http-origin", "origin")] if fires else [])


@pytest.mark.parametrize("source,ok", [("10.250.0.109/32", True), ("AzureLoadBalancer", True),
                                       ("AzureFrontDoor.Backend", True), ("192.168.4.0/24", True),
                                       ("VirtualNetwork", False), ("203.0.113.7/32", False), ("100.64.0.1/32", False),
                                       ("0.0.0.0/0", False), ("*", False)])
def test_inbound_sources(source, ok):
    rule = {"name": "x", "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": source,
            "destinationPortRange": "80"}
    assert (_violations(NSG, {"securityRules": [rule]}) == []) == ok


def test_the_front_door_check_exempts_the_share_stores_loopback_server_alone():
    """The share store's server (only the proxy's njs calls it) carries no X-Azure-FDID check; the exemption fits it
    as rendered, and no longer once it listens anywhere but on loopback."""
    store = ShareStore(ShareStoreAt("https://a.blob.core.windows.net/shares", ArchiveAuth("bearer")),
                       VM_SHARE_STORE_FILES)
    [server] = SERVER.split(store.server(resolver="168.63.129.16"))[1:]
    assert STORE_SERVER.search(server)
    assert not STORE_SERVER.search(server.replace("listen 127.0.0.1:8082;", "listen 8082;"))
    assert not STORE_SERVER.search(server.replace("listen 127.0.0.1:8082;", "listen 127.0.0.1:8082;\n    listen 80;"))
