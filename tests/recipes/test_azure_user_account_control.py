"""The user-account-control recipe on Azure under Pulumi mocks: Keycloak provisioned on a VM behind its own
Front Door endpoint (secrets through a protected VM extension), or a realm managed on an existing Keycloak."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml

from components.azure.share_store import STORAGE_BLOB_DATA_CONTRIBUTOR
from components.azure.vm_secrets import KEY_VAULT_SECRETS_USER
from components.render.cloud_init import VM_ACCESS_MODULE, VM_TOKEN_CHECK_FILES, nginx_conf_of, njs_modules
from components.render.dicomweb_proxy.interface import READ_CLASSES
from components.render.dicomweb_proxy.share_store import BLOB_STORAGE_AUDIENCE
from components.render.dicomweb_proxy.token_check import SHARE_KEYS_CLOSED, share_keys_conf
from components.render.keycloak_host_init import ENV_PATH, NGINX_CONF_PATH, START_COMMANDS
from components.render.secret_files import WRITER_PATH
from settings import ShareSettings
from tests.pulumi_mocks import Program, run_program
from tests.recipes.test_aws_user_account_control import mock_key
from tests.recipes.test_azure_standalone import (
    FRONT_DOOR_ID,
    NIC,
    PLATFORM_AND_WEB,
    ROUTE,
    SECRET,
    VM,
    azure_config,
    custom_data,
    no_public_address,
    outbound,
    private_link_only,
)

VIEWER_ORIGIN = "https://viewer-endpoint-abc123.z01.azurefd.net"
KEYCLOAK = "https://keycloak-endpoint-abc123.z01.azurefd.net"
EXISTING = "https://sso.example-hospital.org"
PROXY = "https://proxy-endpoint-abc123.z01.azurefd.net/dicom-web"
EXTENSION = "azure-native:compute:VirtualMachineExtension"


@pytest.fixture(scope="module", params=["cross-origin", "same-origin"])
def provisioned(request) -> Program:
    return run_program(azure_config("prod-azure-uac", archive={"topology": request.param}),
                       stack=f"prod-azure-uac-{request.param}")


@pytest.fixture(scope="module")
def existing() -> Program:
    config = {**azure_config("prod-azure-uac", auth={"keycloak_url": EXISTING}),
              "keycloak:username": "admin", "keycloak:password": "hunter2-test"}
    return run_program(config, stack="prod-azure-uac-existing", secret_keys=["keycloak:password"])


def test_keycloak_vm_is_hardened_behind_its_own_endpoint(provisioned):
    vm = provisioned.one(VM, "keycloak-vm").inputs
    assert vm["securityProfile"]["securityType"] == "TrustedLaunch" and vm["securityProfile"]["encryptionAtHost"]
    assert vm["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert vm["hardwareProfile"] == {"vmSize": "Standard_B2ms"}
    rules = provisioned.one("azure-native:network:NetworkSecurityGroup", "keycloak-nsg").inputs["securityRules"]
    assert [(r["sourceAddressPrefix"], r["destinationPortRange"]) for r in rules
            if r["access"] == "Allow" and r["direction"] == "Inbound"] == \
        [("10.250.0.112/32", "80"), ("AzureLoadBalancer", "80")], "Private Link's NAT address and the probe only"
    route = provisioned.one(ROUTE, "keycloak-route").inputs
    assert route["endpointName"] == "keycloak-endpoint1a2b3c4d" and route["patternsToMatch"] == ["/*"]
    assert route["supportedProtocols"] == ["Https"] and "cacheConfiguration" not in route
    origin = provisioned.one("azure-native:cdn:AFDOrigin", "keycloak-origin").inputs
    assert origin["hostName"] == "10.250.0.21" and "originHostHeader" not in origin, \
        "Keycloak builds its URLs from the browser's Host"
    assert origin["sharedPrivateLinkResource"]["privateLink"] == {"id": "keycloak-pls-id"}


def test_both_vms_are_private_behind_private_link_in_the_recipes_network(provisioned, existing):
    for program in (provisioned, existing):
        no_public_address(program)
        private_link_only(program)
    assert {n.name: n.inputs["ipConfigurations"][0]["subnet"]["id"] for n in provisioned.of_type(NIC)} == \
        {"keycloak-nic": "network-subnet-id", "proxy-nic": "network-subnet-id"}
    assert len(provisioned.of_type("ohif:azure:Network")) == 1, "one network for both VMs"
    assert provisioned.one("azure-native:cdn:Profile").inputs["sku"] == {"name": "Premium_AzureFrontDoor"}


def test_keycloak_reaches_the_platform_packages_and_its_database_but_not_the_archive(provisioned):
    assert outbound(provisioned, "keycloak-nsg") == PLATFORM_AND_WEB + [("Allow", "Tcp", "10.250.1.0/28", "5432"),
                                                                        ("Deny", "*", "*", "*")]
    assert ("Allow", "Tcp", "10.0.1.20/32", "8042") in outbound(provisioned, "proxy-nsg")


def test_keycloak_custom_data_holds_the_realm_and_no_secret(provisioned):
    data = custom_data(provisioned, "keycloak")
    assert SECRET not in data
    config = yaml.safe_load(data)
    files = {f["path"]: f["content"] for f in config["write_files"]}
    assert ENV_PATH not in files, "the passwords come through the VM extension"
    assert f'if ($http_x_azure_fdid != "{FRONT_DOOR_ID}") {{ return 403' in files[NGINX_CONF_PATH]
    realm = json.loads(files["/etc/keycloak/import/ohif.json"])
    assert realm["clients"][0]["redirectUris"] == [f"{VIEWER_ORIGIN}/callback", f"{VIEWER_ORIGIN}/silent-refresh.html"]
    assert ["systemctl", "enable", "--now", "keycloak.service"] not in config["runcmd"]


def test_keycloak_secrets_arrive_in_protected_extension_settings(provisioned):
    extension = provisioned.one(EXTENSION, "keycloak-start")
    assert "protectedSettings" in extension.secret_inputs, "the script holds the passwords"
    assert "settings" not in extension.inputs
    assert (extension.inputs["publisher"], extension.inputs["type"], extension.inputs["typeHandlerVersion"]) == \
        ("Microsoft.Azure.Extensions", "CustomScript", "2.1")
    assert extension.inputs["vmName"] == "keycloak-vm1a2b3c4d"
    script = base64.b64decode(extension.inputs["protectedSettings"]["script"]).decode()
    lines = script.splitlines()
    assert lines[2].startswith("cloud-init status --wait"), "the packages cloud-init installs come first"
    document = re.search(rf"echo (\S+) \| base64 -d \| {WRITER_PATH}$", script, re.M)[1]
    files = json.loads(base64.b64decode(document))
    assert list(files) == [ENV_PATH] and files[ENV_PATH].count(SECRET) == 2, "admin and database passwords"
    assert lines[-len(START_COMMANDS):][-1] == "systemctl enable --now keycloak.service"


def test_proxy_checks_realm_tokens(provisioned):
    data = custom_data(provisioned, "proxy")
    assert SECRET not in data
    conf = nginx_conf_of(data)
    assert f'set $ohif_jwt_issuer "{KEYCLOAK}/realms/ohif";' in conf
    assert "auth_request /_ohif_auth;" in conf and "resolver 168.63.129.16" in conf
    assert VM_ACCESS_MODULE in [f["path"] for f in yaml.safe_load(data)["write_files"]]


def test_stack_outputs(provisioned):
    out = provisioned.outputs
    assert out["keycloak_url"] == KEYCLOAK and out["realm"] == "ohif"
    assert out["viewer_url"] == f"{VIEWER_ORIGIN}/"
    assert out["resource_group"].startswith("ohif-prod-azure-uac-"), "ohif-<stack> without azure.resource_group"
    assert out["dicomweb_url"] in (f"{VIEWER_ORIGIN}/dicom-web", PROXY)


def test_existing_keycloak_gets_the_realm_as_pulumi_keycloak_resources(existing):
    assert not existing.of_type(EXTENSION) and not existing.of_type("ohif:azure:KeycloakHost")
    realm = existing.one("keycloak:index/realm:Realm").inputs
    assert realm["realm"] == "ohif"
    client = existing.one("keycloak:openid/client:Client", "realm-viewer-client").inputs
    assert client["validRedirectUris"] == [f"{VIEWER_ORIGIN}/callback", f"{VIEWER_ORIGIN}/silent-refresh.html"]
    provider = existing.one("pulumi:providers:keycloak").inputs
    assert provider["url"] == EXISTING and provider["username"] == "admin"
    assert "password" in existing.one("pulumi:providers:keycloak").secret_inputs
    assert existing.outputs["keycloak_url"] == EXISTING
    conf = nginx_conf_of(custom_data(existing, "proxy"))
    assert f'set $ohif_jwt_issuer "{EXISTING}/realms/ohif";' in conf


@pytest.mark.parametrize("unscoped_readers", ["archive", "refused"])
def test_every_proxy_holds_readers_to_their_studies(provisioned, unscoped_readers):
    program = provisioned if unscoped_readers == "archive" else run_program(
        azure_config("prod-azure-uac", auth={"unscoped_readers": "refused"}), stack="prod-azure-uac-refused")
    data = custom_data(program, "proxy")
    files = {f["path"]: f["content"] for f in yaml.safe_load(data)["write_files"]}
    conf = nginx_conf_of(data)
    assert files[VM_ACCESS_MODULE] == njs_modules(archive=False, share_store=True)["access.js"]
    assert f"js_import ohif_access from {VM_ACCESS_MODULE};" in conf
    assert f'map $host $ohif_unscoped_readers {{ default "{unscoped_readers}"; }}' in conf
    assert conf.count("if ($ohif_scope_refused)") == conf.count("if ($ohif_query_refused)") == len(READ_CLASSES)


# Share links (issue 29): their signing keys reach the proxy from Key Vault, never its custom data.

def test_share_keys_come_from_key_vault_which_the_proxy_alone_reads(provisioned):
    key = mock_key("proxy-share-key-k1")
    data = custom_data(provisioned, "proxy")
    assert key not in data
    vault = provisioned.one("azure-native:keyvault:Vault", "proxy-kv").inputs["properties"]
    assert (vault["enableRbacAuthorization"], vault["enableSoftDelete"], vault["enablePurgeProtection"]) == \
        (True, True, True)
    assert "accessPolicies" not in vault, "Azure RBAC alone says who reads"
    secret = provisioned.one("azure-native:keyvault:Secret", "proxy-files")
    assert "properties" in secret.secret_inputs
    files = json.loads(secret.inputs["properties"]["value"])
    assert files == {VM_TOKEN_CHECK_FILES.share_keys_path: share_keys_conf({"k1": key}, signing="k1")}
    proxy = provisioned.one(VM, "proxy-vm")
    assert proxy.inputs["identity"]["type"] == "SystemAssigned"
    scopes = (secret.outputs["id"], provisioned.one("azure-native:keyvault:Vault").outputs["id"])
    grants = [a.inputs for a in provisioned.of_type("azure-native:authorization:RoleAssignment")
              if a.inputs["scope"] in scopes]
    assert [(g["principalId"], g["roleDefinitionId"].rsplit("/", 1)[1]) for g in grants] == \
        [(proxy.outputs["identity"]["principalId"], KEY_VAULT_SECRETS_USER)], "the proxy reads the one secret"
    config = yaml.safe_load(data)
    fetch = next(i for i, c in enumerate(config["runcmd"]) if "vault.azure.net/secrets/" in c[-1])
    start = next(i for i, c in enumerate(config["runcmd"]) if "systemctl enable --now nginx" in c[-1])
    assert fetch < start and "https://proxy-kv1a2b3c4d.vault.azure.net/secrets/vm-files" in config["runcmd"][fetch][-1]
    closed = next(f for f in config["write_files"] if f["path"] == VM_TOKEN_CHECK_FILES.share_keys_path)
    assert (closed["content"], closed["permissions"]) == (SHARE_KEYS_CLOSED, "0600"), "no link works until they arrive"


def test_share_settings_reach_the_proxy(provisioned):
    conf = nginx_conf_of(custom_data(provisioned, "proxy"))
    share = ShareSettings()
    assert f"include {VM_TOKEN_CHECK_FILES.share_keys_path};" in conf
    assert f'"~^shares:" "{share.sharer_role}";' in conf
    assert f"set $ohif_share_max_minutes {share.max_minutes};" in conf


def test_share_records_live_in_a_private_container_only_the_proxys_identity_reaches(provisioned):
    """The store of links and revocations: an account of its own that takes Entra ID tokens only (no key, no SAS, no
    public blob), over TLS 1.2, deleting blobs after the longest link; its container granted to the proxy's identity
    alone."""
    account = provisioned.one("azure-native:storage:StorageAccount", "proxyshares")
    assert (account.inputs["allowSharedKeyAccess"], account.inputs["allowBlobPublicAccess"],
            account.inputs["enableHttpsTrafficOnly"], account.inputs["minimumTlsVersion"]) == (False, False, True,
                                                                                              "TLS1_2")
    container = provisioned.one("azure-native:storage:BlobContainer", "proxy-shares")
    assert (container.inputs["publicAccess"], container.inputs["accountName"]) == ("None", account.outputs["name"])
    [rule] = provisioned.one("azure-native:storage:ManagementPolicy", "proxy-shares-expiry").inputs["policy"]["rules"]
    assert rule["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 31
    # Revocations are users' decisions: protected, locked, versioned, deleted blobs kept a week.
    assert account.protect and container.protect
    lock = provisioned.one("azure-native:authorization:ManagementLockByScope", "proxy-shares-lock").inputs
    assert (lock["scope"], lock["level"]) == (account.outputs["id"], "CanNotDelete")
    recovery = provisioned.one("azure-native:storage:BlobServiceProperties", "proxy-shares-recovery").inputs
    assert recovery["isVersioningEnabled"] is True and recovery["deleteRetentionPolicy"] == {"enabled": True,
                                                                                              "days": 7}
    # Every grant on the account or inside it.
    grants = [a.inputs for a in provisioned.of_type("azure-native:authorization:RoleAssignment")
              if a.inputs["scope"] in (account.outputs["id"], container.outputs["id"])]
    proxy = provisioned.one(VM, "proxy-vm")
    assert [(g["scope"], g["principalId"], g["roleDefinitionId"].rsplit("/", 1)[1]) for g in grants] == [
        (container.outputs["id"], proxy.outputs["identity"]["principalId"], STORAGE_BLOB_DATA_CONTRIBUTOR)]


def test_the_proxy_reaches_its_store_with_its_identity_over_https(provisioned):
    conf = nginx_conf_of(custom_data(provisioned, "proxy"))
    account = provisioned.one("azure-native:storage:StorageAccount", "proxyshares").outputs["name"]
    assert f'map $host $ohif_share_store_host {{ default "{account}.blob.core.windows.net"; }}' in conf
    assert 'map $host $ohif_share_store_root { default "/shares"; }' in conf
    assert 'map $host $ohif_share_store_auth { default "bearer"; }' in conf
    assert f'map $host $ohif_share_store_resource {{ default "{BLOB_STORAGE_AUDIENCE}"; }}' in conf
