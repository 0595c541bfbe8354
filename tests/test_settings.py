"""Bad stack config stops the program before the first resource, with one line per bad value."""

from __future__ import annotations

import json

import pulumi
import pytest

from settings import ConfigError, load, read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program


def stack(name: str, **changes: object) -> dict[str, str]:
    """An example stack with top-level ohif: keys replaced (None removes one); objects given as dicts."""
    config = read_stack_file(STACKS / f"Pulumi.{name}.yaml")
    for key, value in changes.items():
        key = f"ohif:{key}"
        if value is None:
            config.pop(key)
        else:
            config[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return config


def prod(**changes: object) -> dict[str, str]:
    return stack("prod", **changes)


def azure(**changes: object) -> dict[str, str]:
    return stack("prod-azure", **changes)


def azure_section(**changes: object) -> dict:
    return {**json.loads(azure()["ohif:azure"]), **changes}


def uac(**auth: object) -> dict[str, str]:
    """The prod-uac example with ohif:auth replaced."""
    config = read_stack_file(STACKS / "Pulumi.prod-uac.yaml")
    config["ohif:auth"] = json.dumps(auth)
    return config


def aws_section(**changes: object) -> dict:
    """prod's ohif:aws with keys changed (None drops one)."""
    section = {**json.loads(prod()["ohif:aws"]), **changes}
    return {k: v for k, v in section.items() if v is not None}


def archive(**changes: object) -> dict:
    return {**json.loads(prod()["ohif:archive"]), **changes}


def embedded(**embed: object) -> dict[str, str]:
    """The prod-embedded example with ohif:embed changed."""
    return stack("prod-embedded", embed={**json.loads(stack("prod-embedded")["ohif:embed"]), **embed})


def dicom_json(**studies: object) -> dict[str, str]:
    return stack("prod-dicom-json", studies={**json.loads(stack("prod-dicom-json")["ohif:studies"]), **studies})


HEALTHIMAGING = {"datastore_id": "0123456789abcdef0123456789abcdef", "region": "us-east-1"}
DICOM_SERVICE_ID = ("/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/imaging/providers/"
                    "Microsoft.HealthcareApis/workspaces/ohifimages/dicomservices/studies")

CASES = {
    "unknown recipe": (prod(recipe="viewer-only"),
                       'ohif:recipe = "viewer-only": allowed: standalone, user-account-control'),
    "missing recipe": (prod(recipe=None), "ohif:recipe = (missing): allowed: standalone, user-account-control"),
    "unknown cloud": (prod(cloud="gcp"), 'ohif:cloud = "gcp": allowed: aws, azure, local'),
    "unknown key": (prod(region="eu"), 'ohif:region = "eu": unknown key; allowed: ohif:recipe, ohif:cloud, '
                                       "ohif:production, ohif:highly_available, ohif:viewer, ohif:access, "
                                       "ohif:archive, ohif:auth, ohif:embed, ohif:studies, ohif:aws, ohif:azure, "
                                       "ohif:keycloak_database_password"),
    # The proxy's scale (issue 17): a highly available stack runs two proxies or more.
    "one proxy in a highly available stack": (
        prod(highly_available="true"),
        "ohif:archive.scale.min_instances = 1: allowed: 2 or more in a highly available stack (ohif:highly_available)"),
    "more proxies at least than at most": (
        prod(archive=archive(scale={"min_instances": 3, "max_instances": 2})),
        "ohif:archive.scale.max_instances = 2: allowed: at least min_instances (3)"),
    "a CPU target out of range": (
        prod(archive=archive(scale={"cpu_target_percent": 95})),
        "ohif:archive.scale.cpu_target_percent = 95: allowed: a whole number from 10 to 90"),
    "scale without a proxy": (
        prod(archive={"dicomweb_url": "https://pacs.example.org/dicom-web", "scale": {"min_instances": 2}}),
        'ohif:archive.scale = {"min_instances": 2}: allowed only with upstream_url'),
    # Cloud DICOM services as the archive (issue 18).
    "two archives": (prod(archive={**archive(), "healthimaging": HEALTHIMAGING}),
                     "ohif:archive = {"),
    "a datastore ID that is not one": (
        prod(archive={"healthimaging": {**HEALTHIMAGING, "datastore_id": "ds-1"}}),
        'ohif:archive.healthimaging.datastore_id = "ds-1": allowed: a datastore ID: 32 lower-case letters and digits'),
    "a datastore without its region": (
        prod(archive={"healthimaging": {"datastore_id": HEALTHIMAGING["datastore_id"]}}),
        "ohif:archive.healthimaging.region = (missing): required"),
    "STOW to HealthImaging": (
        prod(archive={"healthimaging": HEALTHIMAGING, "enable_stow": True}),
        "ohif:archive.enable_stow = true: not with archive.healthimaging: SigV4 signs an upload's hash"),
    "HealthImaging on Azure": (
        azure(archive={"healthimaging": HEALTHIMAGING}),
        "ohif:archive.healthimaging = {"),
    "Azure's DICOM service on AWS": (
        prod(archive={"dicom_service": {"workspace": "ohifimages", "name": "studies"}}),
        'ohif:archive.dicom_service = {"workspace": "ohifimages", "name": "studies"}: allowed only with ohif:cloud '
        "azure (or local), not aws"),
    "a DICOM service both existing and created": (
        azure(archive={"dicom_service": {"id": DICOM_SERVICE_ID, "workspace": "ohifimages"}}),
        "ohif:archive.dicom_service = {"),
    "a DICOM service without its workspace": (
        azure(archive={"dicom_service": {"name": "studies"}}),
        "ohif:archive.dicom_service.workspace = (missing): required with archive.dicom_service.name"),
    "a DICOM service ID of another resource": (
        azure(archive={"dicom_service": {"id": DICOM_SERVICE_ID.replace("dicomservices", "fhirservices")}}),
        "ohif:archive.dicom_service.id = "),
    "unknown nested key": (prod(viewer={"base_path": "/", "cdn": "fast"}),
                           'ohif:viewer.cdn = "fast": unknown key; allowed: base_path, domain, include_source_maps'),
    "missing archive": (prod(archive=None), "ohif:archive = (missing): required: an object with dicomweb_url "
                                            "(existing DICOMweb), upstream_url (proxied), healthimaging or "
                                            "dicom_service"),
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
    "domain without certificate on AWS": (prod(aws={"price_class": "PriceClass_100"}),
                                          "ohif:aws.certificate_arn = (missing): required with viewer.domain: its ACM "
                                          "certificate in us-east-1"),
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
    # Each cloud's own section, and keys given for the wrong cloud.
    "Azure without a location": (azure(azure={"front_door_tier": "Premium"}),
                                 "ohif:azure.location = (missing): required: the Azure region for storage and VMs, "
                                 "such as westeurope"),
    "Azure location not a region name": (azure(azure=azure_section(location="West Europe")),
                                         'ohif:azure.location = "West Europe": allowed: an Azure region name such as '
                                         "westeurope"),
    "unknown Front Door tier": (azure(azure=azure_section(front_door_tier="Classic")),
                                'ohif:azure.front_door_tier = "Classic": allowed: Standard, Premium'),
    "EC2 type as an Azure VM size": (azure(azure=azure_section(proxy_vm_size="t3.small")),
                                     'ohif:azure.proxy_vm_size = "t3.small": allowed: an Azure VM size such as '
                                     "Standard_B2s"),
    "unknown Azure key": (azure(azure=azure_section(sku="Premium_AzureFrontDoor")),
                          'ohif:azure.sku = "Premium_AzureFrontDoor": unknown key; allowed: database_subnet_id, '
                          "front_door_tier, keycloak_database, keycloak_vm_size, location, proxy_vm_size, "
                          "resource_group, subnet_id"),
    "bad resource group name": (azure(azure=azure_section(resource_group="ohif prod!")),
                                'ohif:azure.resource_group = "ohif prod!": allowed: a resource group name'),
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
    "AWS certificate on Azure, where Front Door manages it": (
        azure(viewer={"base_path": "/", "domain": "viewer.example.org",
                      "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                         "00000000-0000-4000-8000-000000000000"}),
        'ohif:viewer.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/'
        '00000000-0000-4000-8000-000000000000": moved to ohif:aws.certificate_arn'),
    "moved key: price class under viewer": (prod(viewer={"base_path": "/", "price_class": "PriceClass_All"}),
                                            'ohif:viewer.price_class = "PriceClass_All": moved to ohif:aws.price_class'),
    "moved key: proxy instance type under archive": (prod(archive=archive(instance_type="t3.large")),
                                                     'ohif:archive.instance_type = "t3.large": moved to '
                                                     "ohif:aws.proxy_instance_type"),
    "certificate without a domain": (prod(viewer={"base_path": "/"}),
                                     'ohif:aws.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/'
                                     '00000000-0000-4000-8000-000000000000": allowed only with viewer.domain'),
    # What a first read found.
    "token lifetime given as a boolean": (uac(realm="ohif", access_token_minutes=True),
                                          "ohif:auth.access_token_minutes = true: allowed: a whole number from 1 to 60"),
    "allowed origins with the same-origin topology": (
        prod(archive=archive(topology="same-origin", allowed_origins=["https://portal.example.org"])),
        'ohif:archive.allowed_origins = ["https://portal.example.org"]: allowed only with topology cross-origin '
        "(a proxy behind the viewer's own origin sends no CORS)"),
    "allowed origins with the default topology on Azure": (
        azure(archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/",
                       "allowed_origins": ["https://portal.example.org"]}),
        'ohif:archive.allowed_origins = ["https://portal.example.org"]: allowed only with topology cross-origin'),
    # The embedded and dicom-json recipes' sections.
    "embedded without host origins": (embedded(host_origins=None), "ohif:embed.host_origins = (missing): required: "
                                      "the origins of the web applications that embed the viewer"),
    "a partial wildcard host origin": (embedded(host_origins=["https://*.example-hospital.org"]),
                                       'ohif:embed.host_origins[0] = "https://*.example-hospital.org": allowed: '
                                       "exact origins such as https://portal.example.org (no partial wildcard)"),
    "an unknown embed mode": (embedded(modes=["iframe", "popup"]), 'ohif:embed.modes = ["iframe", "popup"]: allowed: '
                              "a list of iframe and script, each at most once"),
    "a host page path without script mode": (embedded(modes=["iframe"]), 'ohif:embed.host_page_path = "/imaging/": '
                                             "allowed only with mode script"),
    "script mode behind a same-origin proxy": (
        stack("prod-embedded", archive={"upstream_url": "http://10.0.1.20:8042/dicom-web/"}),
        'ohif:archive.topology = "same-origin": allowed: cross-origin with embed mode script'),
    "embed on the standalone recipe": (prod(embed={"host_origins": ["https://portal.example.org"]}),
                                       'ohif:embed = {"host_origins": ["https://portal.example.org"]}: allowed only '
                                       "with recipe embedded"),
    "studies without a folder in the cloud": (dicom_json(folder=None), "ohif:studies.folder = (missing): required: "
                                              "the folder of DICOM files to publish, relative to the project"),
    "a studies folder that does not exist": (dicom_json(folder="no-such-folder"), 'ohif:studies.folder = '
                                             '"no-such-folder": allowed: a folder that exists, relative to'),
    "studies origins with the same-origin topology": (
        dicom_json(allowed_origins=["https://research.example.org"]),
        'ohif:studies.allowed_origins = ["https://research.example.org"]: allowed only with topology cross-origin'),
    # The VMs' network (issue 10: no cleartext hop over the internet).
    "a VPC id of the wrong shape": (prod(aws=aws_section(vpc_id="vpc-123")),
                                    'ohif:aws.vpc_id = "vpc-123": allowed: a VPC id such as vpc-0123456789abcdef0'),
    "a subnet id of the wrong shape": (prod(aws=aws_section(subnet_ids=["subnet-0a1b2c3d4e5f67891", "sg-123"])),
                                       'ohif:aws.subnet_ids[1] = "sg-123": allowed: a subnet id such as '
                                       "subnet-0123456789abcdef0"),
    "a subnet named twice": (prod(aws=aws_section(subnet_ids=["subnet-0a1b2c3d", "subnet-0a1b2c3d"])),
                             'ohif:aws.subnet_ids[1] = "subnet-0a1b2c3d": allowed: each subnet once'),
    "subnet ids that are not a list": (prod(aws=aws_section(subnet_ids="subnet-0a1b2c3d")),
                                       'ohif:aws.subnet_ids = "subnet-0a1b2c3d": allowed: a list of one or more '
                                       "private subnet ids of aws.vpc_id"),
    "no subnet ids": (prod(aws=aws_section(subnet_ids=[])), "ohif:aws.subnet_ids = []: allowed: a list of one or "
                      "more private subnet ids of aws.vpc_id"),
    "a VPC without subnets": (prod(aws=aws_section(subnet_ids=None)), "ohif:aws.subnet_ids = (missing): required "
                              "with aws.vpc_id: private subnets of that VPC for the VMs"),
    "subnets without their VPC": (prod(aws=aws_section(vpc_id=None)), "ohif:aws.vpc_id = (missing): required with "
                                  "aws.subnet_ids: the VPC those subnets belong to"),
    "a VPC with no VM to place": (prod(archive={"dicomweb_url": "https://pacs.example.org/dicom-web"}),
                                  'ohif:aws.vpc_id = "vpc-0a1b2c3d4e5f67890": allowed only with a VM to place: a '
                                  "DICOMweb proxy (archive.upstream_url) or a provisioned Keycloak"),
    "an Azure subnet that is not a resource id": (azure(azure=azure_section(subnet_id="ohif-vms")),
                                                  'ohif:azure.subnet_id = "ohif-vms": allowed: a subnet\'s resource id, '
                                                  "/subscriptions/<id>/resourceGroups/<group>/providers/"
                                                  "Microsoft.Network/virtualNetworks/<network>/subnets/<subnet>"),
    "an Azure subnet with no VM to place": (
        azure(archive={"dicomweb_url": "https://pacs.example.org/dicom-web"}),
        'ohif:azure.subnet_id = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/hospital-network/'
        'providers/Microsoft.Network/virtualNetworks/hospital-vnet/subnets/ohif-vms": allowed only with a VM to place'),
    "an archive on the dicom-json recipe": (stack("prod-dicom-json", archive={"dicomweb_url": "https://pacs.example.org"}),
                                            'ohif:archive = {"dicomweb_url": "https://pacs.example.org"}: allowed only '
                                            "with recipe standalone, user-account-control, embedded"),
    # Who may read (issue 15): every production stack says it.
    "a production stack that does not say who may read": (
        prod(access=None), "ohif:access = (missing): required in a production stack: say who may read: "
        "allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone), or "
        "recipe user-account-control (login)"),
    "an Azure production stack that does not say who may read": (
        azure(access=None), "ohif:access = (missing): required in a production stack: say who may read"),
    "public: false is not a choice": (prod(access={"public": False}), 'ohif:access = {"public": false}: required in a '
                                      "production stack: say who may read"),
    "no networks is not a choice": (prod(access={"allowed_networks": []}), 'ohif:access = {"allowed_networks": []}: '
                                    "required in a production stack"),
    "dicom-json has no login to choose": (
        stack("prod-dicom-json", access=None), "ohif:access = (missing): required in a production stack: say who may "
        "read: allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone)"),
    "a malformed CIDR": (prod(access={"allowed_networks": ["203.0.113.0/33"]}),
                         'ohif:access.allowed_networks[0] = "203.0.113.0/33": allowed: an IPv4 or IPv6 network in CIDR '
                         "form, such as 203.0.113.0/24 or 2001:db8::/48"),
    "a CIDR with host bits": (prod(access={"allowed_networks": ["203.0.113.7/24"]}),
                              'ohif:access.allowed_networks[0] = "203.0.113.7/24": allowed: an IPv4 or IPv6 network in '
                              "CIDR form, such as 203.0.113.0/24 or 2001:db8::/48; its host bits are set: did you "
                              "mean 203.0.113.0/24?"),
    "every IPv4 address as a network": (prod(access={"allowed_networks": ["203.0.113.0/24", "0.0.0.0/0"]}),
                                        'ohif:access.allowed_networks[1] = "0.0.0.0/0": admits every address: to serve '
                                        "anyone, say so with access.public: true (de-identified data only)"),
    "every IPv6 address as a network": (azure(access={"allowed_networks": ["::/0"]}),
                                        'ohif:access.allowed_networks[0] = "::/0": admits every address: to serve '
                                        "anyone, say so with access.public: true"),
    "public together with login": (stack("prod-uac", access={"public": True}),
                                   "ohif:access.public = true: not with recipe user-account-control: its login "
                                   "decides who reads"),
    "public together with networks": (prod(access={"public": True, "allowed_networks": ["203.0.113.0/24"]}),
                                      "ohif:access.public = true: not with allowed_networks: choose one"),
    "a rate limit below what one study needs": (prod(access={"allowed_networks": ["203.0.113.0/24"], "rate_limit": 50}),
                                                "ohif:access.rate_limit = 50: allowed: a whole number from 100 to "
                                                "2000000000 (DICOMweb requests per client address per five minutes)"),
    # Keycloak's database (issue 19): backups a production stack can restore from, and what each cloud's tier offers.
    "a week of backups is the least in production": (
        stack("prod-uac", aws={"keycloak_database": {"backup_retention_days": 3}}),
        "ohif:aws.keycloak_database.backup_retention_days = 3: allowed: a whole number of days from 7 to 35 in a "
        "production stack"),
    "multi-AZ on Azure's Burstable tier": (
        stack("prod-azure-uac", azure={"location": "westeurope", "keycloak_database": {"multi_az": True}}),
        "ohif:azure.keycloak_database.multi_az = true: not on the Burstable tier (sku Standard_B1ms): Azure offers "
        "zone-redundant high availability on General Purpose and Memory Optimized only"),
    "database settings without a database": (
        prod(aws={**aws_section(), "keycloak_database": {"multi_az": True}}),
        'ohif:aws.keycloak_database = {"multi_az": true}: allowed only with a provisioned Keycloak with its managed '
        "database"),
    "an existing database's password in its URL": (
        uac(realm="ohif", keycloak_database_url="postgresql://keycloak:pw@db.example.org/keycloak"),
        'ohif:auth.keycloak_database_url = "postgresql://keycloak:pw@db.example.org/keycloak": allowed: '
        "postgresql://<user>@<host>[:port]/<database>, without the password (it goes in the secret "
        "ohif:keycloak_database_password)"),
    "an existing database without its password": (
        uac(realm="ohif", keycloak_database_url="postgresql://keycloak@db.example.org/keycloak"),
        "ohif:keycloak_database_password = (missing): required with auth.keycloak_database_url"),
    "a named VPC without database subnets": (
        stack("prod-uac", aws={"vpc_id": "vpc-0a1b2c3d4e5f67890", "subnet_ids": ["subnet-0a1b2c3d4e5f67891"]}),
        "ohif:aws.database_subnet_ids = (missing): required with aws.vpc_id for Keycloak's database"),
    "one database subnet": (
        stack("prod-uac", aws={"vpc_id": "vpc-0a1b2c3d4e5f67890", "subnet_ids": ["subnet-0a1b2c3d4e5f67891"],
                               "database_subnet_ids": ["subnet-0a1b2c3d4e5f67892"]}),
        'ohif:aws.database_subnet_ids = ["subnet-0a1b2c3d4e5f67892"]: allowed: a list of 2 or more (in as many '
        "availability zones) private subnet ids of aws.vpc_id"),
    "an unknown access key": (prod(access={"allowed_networks": ["203.0.113.0/24"], "allowed_ips": ["203.0.113.7"]}),
                              'ohif:access.allowed_ips = ["203.0.113.7"]: unknown key; allowed: allowed_networks, '
                              "public, rate_limit"),
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


def test_dicom_json_is_not_offered_a_login_it_has_not():
    with pytest.raises(ConfigError) as raised:
        load(stack("prod-dicom-json", access=None))
    assert "login" not in str(raised.value)


@pytest.mark.parametrize("config", [stack("local", access=None), prod(production="false", access=None)],
                         ids=["sandbox", "non-production AWS"])
def test_a_stack_that_is_not_production_may_leave_access_out(config):
    assert load(config).access.allowed_networks == ()


def test_login_and_networks_combine_and_networks_are_normalised():
    settings = load(stack("prod-uac", access={"allowed_networks": ["203.0.113.7", "2001:DB8::/32"]}))
    assert settings.access.ipv4_networks == ("203.0.113.7/32",)
    assert settings.access.ipv6_networks == ("2001:db8::/32",)


def test_example_stacks_are_valid():
    for path in STACKS.glob("Pulumi.*.yaml"):
        load(read_stack_file(path))


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


def test_wildcard_is_allowed_outside_production():
    settings = load(prod(production="false", archive=archive(topology="cross-origin", allowed_origins=["*"])))
    assert settings.archive.allowed_origins == ("*",)


def test_every_allowed_recipe_is_implemented():
    import recipes
    import settings

    assert sorted(recipes.RECIPES) == sorted(settings.RECIPES)


def test_front_door_standard_with_a_vm_is_one_clear_line():
    """Private Link, which keeps the VMs off the internet, is Premium's: a Standard stack with a VM says so."""
    with pytest.raises(ConfigError) as raised:
        load(azure(azure=azure_section(front_door_tier="Standard")))
    assert str(raised.value).splitlines() == [
        'invalid stack config: ohif:azure.front_door_tier = "Standard": allowed: Premium with a DICOMweb proxy '
        "(archive.upstream_url) or a provisioned Keycloak (user-account-control without auth.keycloak_url): Front "
        "Door reaches the VMs over Private Link, which only Premium offers (about $295 a month more than Standard)"]


@pytest.mark.parametrize("archive_section,tier", [
    ({"upstream_url": "http://10.0.1.20:8042/dicom-web/"}, "Premium"),  # a proxy VM
    ({"dicomweb_url": "https://pacs.example.org/dicom-web"}, "Standard"),  # no VM
])
def test_the_default_front_door_tier_follows_the_vms(archive_section, tier):
    section = {k: v for k, v in azure_section().items() if k not in ("front_door_tier", "subnet_id")}
    assert load(azure(azure=section, archive=archive_section)).azure.front_door_tier == tier


def test_premium_without_a_vm_is_allowed():
    section = {k: v for k, v in azure_section().items() if k != "subnet_id"}
    settings = load(azure(azure=section, archive={"dicomweb_url": "https://pacs.example.org/dicom-web"}))
    assert settings.azure.front_door_tier == "Premium" and settings.azure.subnet_id is None


def test_the_vms_network_keys_are_read():
    assert load(prod()).aws.vpc_id == "vpc-0a1b2c3d4e5f67890"
    assert load(prod()).aws.subnet_ids == ("subnet-0a1b2c3d4e5f67891",)
    assert load(stack("prod-uac")).aws.vpc_id is None and load(stack("prod-uac")).aws.subnet_ids == ()
    assert load(azure()).azure.subnet_id.endswith("/virtualNetworks/hospital-vnet/subnets/ohif-vms")


def test_an_existing_database_takes_the_place_of_the_managed_one():
    config = uac(realm="ohif", keycloak_database_url="postgresql://keycloak@db.example.org:5433/keycloak")
    config["ohif:keycloak_database_password"] = "from-the-secret"
    settings = load(config)
    assert settings.auth.keycloak_database_url == "postgresql://keycloak@db.example.org:5433/keycloak"
    with pytest.raises(ConfigError, match="ohif:aws.keycloak_database = .*allowed only with a provisioned Keycloak"):
        load({**config, "ohif:aws": json.dumps({"keycloak_database": {"backup_retention_days": 14}})})
