"""Cloud DICOM services as the archive under Pulumi's mocks: what each cloud creates (or reads) and grants, scoped to
the one datastore or service, the proxy's egress, and the app-config.js the viewer gets."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from ohif_policies._cloud_init import CLOUD_CREDENTIAL

from components.aws.healthimaging import READ_ACTIONS
from components.aws.origin_vm import unpacked_user_data
from components.azure.dicom_service import DICOM_DATA_OWNER, DICOM_DATA_READER, PRIVATE_ZONE
from components.render.archive_service import DATA_SOURCES
from components.render.cloud_init import NGINX_CONF_PATH, VM_ARCHIVE_FILES, nginx_conf_of, njs_modules
from settings import read_stack_file
from settings.services import DICOM_SERVICE_AUDIENCE
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program

DATASTORE = "0123456789abcdef0123456789abcdef"
DICOM_SERVICE_ID = ("/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/imaging/providers/"
                    "Microsoft.HealthcareApis/workspaces/hospitalimages/dicomservices/studies")
VM_IDENTITY = "00000000-0000-4000-8000-0000000000c9"  # tests/pulumi_mocks.py: a system-assigned identity


def stack(name: str, **changes) -> dict[str, str]:
    config = read_stack_file(STACKS / f"Pulumi.{name}.yaml")
    config.update({f"ohif:{k}": json.dumps(v) for k, v in changes.items()})
    return config


@pytest.fixture(scope="module")
def healthimaging() -> Program:
    return run_program(stack("prod-healthimaging"), stack="prod-healthimaging")


def data_source(app_config: str) -> dict:
    config = json.loads(re.search(r"window\.config = (\{.*\});", app_config, re.S).group(1))
    [source] = config["dataSources"]
    return source["configuration"]


def test_healthimaging_the_role_reads_that_datastore_alone(healthimaging):
    policies = {p.name: json.loads(p.inputs["policy"]) for p in healthimaging.of_type("aws:iam/rolePolicy:RolePolicy")}
    [statement] = policies["proxy-read-datastore"]["Statement"]
    assert statement["Resource"] == f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{DATASTORE}"
    assert statement["Action"] == READ_ACTIONS and statement["Effect"] == "Allow"
    assert not any(a.startswith("medical-imaging:Store") or a.endswith("*") for a in statement["Action"])
    role = healthimaging.one("aws:iam/role:Role", "proxy-role")
    assert healthimaging.one("aws:iam/rolePolicy:RolePolicy", "proxy-read-datastore").inputs["role"] == \
        role.outputs["name"]
    # Only the proxy's role: Keycloak's reads its own secret and nothing of the datastore.
    assert not any("medical-imaging" in json.dumps(p) for name, p in policies.items() if name.startswith("keycloak"))


def test_healthimaging_the_proxy_reaches_it_through_an_interface_endpoint(healthimaging):
    endpoint = healthimaging.one("aws:ec2/vpcEndpoint:VpcEndpoint", "proxy-endpoint").inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.dicom-medical-imaging"
    assert endpoint["vpcEndpointType"] == "Interface" and endpoint["privateDnsEnabled"] is True
    proxy_group = healthimaging.one("aws:ec2/securityGroup:SecurityGroup", "proxy-sg")
    group = healthimaging.one("aws:ec2/securityGroup:SecurityGroup", "proxy-endpoint-sg")
    assert endpoint["securityGroupIds"] == [group.outputs["id"]]
    [rule] = group.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["securityGroups"]) == (443, 443, [proxy_group.outputs["id"]])
    # The proxy's own egress gains nothing: HTTPS out it already had (Debian's packages).
    https = [r for r in proxy_group.inputs["egress"] if r["fromPort"] == 443]
    assert len(https) == 1


def test_healthimaging_the_vm_signs_with_its_role_and_fetches_no_secret_key(healthimaging):
    user_data = unpacked_user_data(healthimaging.one("aws:ec2/instance:Instance", "proxy-vm").inputs["userDataBase64"])
    config = yaml.safe_load(user_data)
    files = {f["path"]: f["content"] for f in config["write_files"]}
    assert files[VM_ARCHIVE_FILES.module_path] == njs_modules(archive=True, share_store=False)["archive_credentials.js"]
    conf = files[NGINX_CONF_PATH]
    assert 'map $host $ohif_archive_auth { default "sigv4"; }' in conf
    assert 'map $host $ohif_archive_metadata { default "http://169.254.169.254"; }' in conf
    assert f"proxy_pass https://$ohif_archive/datastore/{DATASTORE}/$dicomweb_path$is_args$args;" in conf
    assert "proxy_set_header Authorization $ohif_archive_authorization;" in conf
    assert ["install", "-d", "-o", "www-data", "-g", "www-data", "-m", "0700", "/var/lib/ohif-archive"] in \
        config["runcmd"]
    assert not CLOUD_CREDENTIAL.search(user_data)


def test_healthimaging_the_viewer_gets_the_services_settings(healthimaging):
    app_config = healthimaging.one("aws:s3/bucketObjectv2:BucketObjectv2", "viewer-app-config.js").inputs["content"]
    source = data_source(app_config)
    assert source["qidoRoot"].endswith("/dicom-web")
    assert {k: source[k] for k in DATA_SOURCES["healthimaging"]} == DATA_SOURCES["healthimaging"]
    assert "amazonaws.com" not in app_config, "the browser calls our proxy, never the service"


@pytest.fixture(scope="module")
def azure_created() -> Program:
    return run_program(stack("prod-azure-dicom-service"), stack="prod-azure-dicom-service")


@pytest.fixture(scope="module")
def azure_existing() -> Program:
    return run_program(stack("prod-azure-dicom-service", archive={"dicom_service": {"id": DICOM_SERVICE_ID}}),
                       stack="prod-azure-dicom-service")


def test_azure_a_created_service_is_protected_private_and_without_cors(azure_created):
    workspace = azure_created.one("azure-native:healthcareapis:Workspace", "proxy-workspace")
    dicom = azure_created.one("azure-native:healthcareapis:DicomService", "proxy-dicom")
    assert (workspace.inputs["workspaceName"], dicom.inputs["dicomServiceName"]) == ("ohifimagesexample", "studies")
    assert workspace.protect and dicom.protect, "images must not go with `pulumi destroy`"
    assert "corsConfiguration" not in dicom.inputs, "only the proxy calls it, server to server"
    lock = azure_created.one("azure-native:authorization:ManagementLockByScope", "proxy-lock").inputs
    assert (lock["scope"], lock["level"]) == (workspace.outputs["id"], "CanNotDelete")
    endpoint = azure_created.one("azure-native:network:PrivateEndpoint", "proxy-endpoint").inputs
    [connection] = endpoint["privateLinkServiceConnections"]
    assert (connection["privateLinkServiceId"], connection["groupIds"]) == (workspace.outputs["id"],
                                                                           ["healthcareworkspace"])
    assert endpoint["subnet"]["id"] == azure_created.one("azure-native:network:Subnet", "network-subnet").outputs["id"]
    zone = azure_created.one("azure-native:privatedns:PrivateZone", "proxy-zone")
    assert zone.inputs["privateZoneName"] == PRIVATE_ZONE
    link = azure_created.one("azure-native:privatedns:VirtualNetworkLink", "proxy-zone-link").inputs
    assert link["virtualNetwork"]["id"] == azure_created.one("azure-native:network:VirtualNetwork").outputs["id"]
    group = azure_created.one("azure-native:network:PrivateDnsZoneGroup", "proxy-zone-group").inputs
    assert group["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.outputs["id"]


@pytest.mark.parametrize("variant", ["created", "existing"])
def test_azure_the_proxys_identity_reads_that_one_service(variant, request):
    program = request.getfixturevalue(f"azure_{variant}")
    vm = program.one("azure-native:compute:VirtualMachine", "proxy-vm")
    assert vm.inputs["identity"] == {"type": "SystemAssigned"}
    assert "identity" not in program.one("azure-native:compute:VirtualMachine", "keycloak-vm").inputs
    [assignment] = [a.inputs for a in program.of_type("azure-native:authorization:RoleAssignment")
                    if a.inputs["principalId"] == VM_IDENTITY]
    scope = DICOM_SERVICE_ID if variant == "existing" else \
        program.one("azure-native:healthcareapis:DicomService").outputs["id"]
    assert assignment["scope"] == scope
    assert assignment["roleDefinitionId"].endswith(f"/roleDefinitions/{DICOM_DATA_READER}")
    assert assignment["principalType"] == "ServicePrincipal"
    if variant == "existing":
        assert not program.of_type("azure-native:healthcareapis:Workspace"), "the user's service is left be"
        assert not program.of_type("azure-native:network:PrivateEndpoint"), "the user's workspace stays reachable"


def test_azure_stow_makes_the_identity_owner_of_the_service_alone(azure_existing):
    program = run_program(stack("prod-azure-dicom-service", archive={"dicom_service": {"id": DICOM_SERVICE_ID},
                                                                     "enable_stow": True}),
                          stack="prod-azure-dicom-service")
    [assignment] = [a.inputs for a in program.of_type("azure-native:authorization:RoleAssignment")
                    if a.inputs["principalId"] == VM_IDENTITY]
    assert assignment["roleDefinitionId"].endswith(f"/roleDefinitions/{DICOM_DATA_OWNER}")
    assert assignment["scope"] == DICOM_SERVICE_ID


def test_azure_the_vm_carries_its_token_and_no_credential(azure_existing):
    vm = azure_existing.one("azure-native:compute:VirtualMachine", "proxy-vm")
    cloud_init = base64.b64decode(vm.inputs["osProfile"]["customData"]).decode()
    conf = nginx_conf_of(cloud_init)
    assert 'map $host $ohif_archive_auth { default "bearer"; }' in conf
    assert f'map $host $ohif_archive_resource {{ default "{DICOM_SERVICE_AUDIENCE}"; }}' in conf
    assert "proxy_pass https://$ohif_archive/v2/$dicomweb_path$is_args$args;" in conf
    assert "hospitalimages-studies.dicom.azurehealthcareapis.com:443" in conf
    assert not CLOUD_CREDENTIAL.search(cloud_init)
    nsg = azure_existing.one("azure-native:network:NetworkSecurityGroup", "proxy-nsg").inputs
    archive = next(r for r in nsg["securityRules"] if r["name"] == "Archive")
    assert archive["destinationPortRange"] == "443"


def test_azure_the_viewer_gets_the_services_settings(azure_existing):
    app_config = azure_existing.one("azure-native:storage:Blob", "viewer-app-config.js").inputs["source"].text
    source = data_source(app_config)
    assert {k: source[k] for k in DATA_SOURCES["dicom-service"]} == DATA_SOURCES["dicom-service"]
    assert "azurehealthcareapis" not in app_config


@pytest.mark.parametrize("example,archive", [
    ("prod", {"healthimaging": {"datastore_id": DATASTORE, "region": "eu-west-1"}}),
    ("prod-embedded",
     {"healthimaging": {"datastore_id": DATASTORE, "region": "eu-west-1"}, "topology": "cross-origin"}),
    ("prod-azure", {"dicom_service": {"id": DICOM_SERVICE_ID}}),
])
def test_every_recipe_that_takes_an_archive_takes_a_service(example, archive):
    """standalone and embedded as user-account-control (above): the proxy reads the service with its VM's identity,
    and the viewer gets the service's settings."""
    program = run_program(stack(example, archive=archive), stack=example)
    kind = "healthimaging" if "healthimaging" in archive else "dicom-service"
    if kind == "healthimaging":
        assert program.one("aws:iam/rolePolicy:RolePolicy", "proxy-read-datastore")
        app_config = program.one("aws:s3/bucketObjectv2:BucketObjectv2", "viewer-app-config.js").inputs["content"]
    else:
        assert [a for a in program.of_type("azure-native:authorization:RoleAssignment")
                if a.inputs["scope"] == DICOM_SERVICE_ID]
        app_config = program.one("azure-native:storage:Blob", "viewer-app-config.js").inputs["source"].text
    source = data_source(app_config)
    assert {k: source[k] for k in DATA_SOURCES[kind]} == DATA_SOURCES[kind]
