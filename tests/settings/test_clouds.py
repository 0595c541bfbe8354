"""settings/clouds.py: the cloud sections, ohif:aws and ohif:azure."""

from __future__ import annotations

import json

import pytest

from settings import ConfigError, load
from tests.settings.examples import aws_section, azure, azure_section, prod, stack, stops_before_any_resource

CASES = {
    "domain without certificate on AWS": (prod(aws={"price_class": "PriceClass_100"}),
                                          "ohif:aws.certificate_arn = (missing): required with viewer.domain: its ACM "
                                          "certificate in us-east-1"),
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
    "certificate without a domain": (prod(viewer={"base_path": "/"}),
                                     'ohif:aws.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/'
                                     '00000000-0000-4000-8000-000000000000": allowed only with viewer.domain'),
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
    "an Azure subnet that is not a resource id": (
        azure(azure=azure_section(subnet_id="ohif-vms")),
        'ohif:azure.subnet_id = "ohif-vms": allowed: a subnet\'s resource id, /subscriptions/<id>/resourceGroups/'
        "<group>/providers/Microsoft.Network/virtualNetworks/<network>/subnets/<subnet>"),
    "an Azure subnet with no VM to place": (
        azure(archive={"dicomweb_url": "https://pacs.example.org/dicom-web"}),
        'ohif:azure.subnet_id = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/hospital-network/'
        'providers/Microsoft.Network/virtualNetworks/hospital-vnet/subnets/ohif-vms": allowed only with a VM to place'),
    "multi-AZ on Azure's Burstable tier": (
        stack("prod-azure-uac", azure={"location": "westeurope", "keycloak_database": {"multi_az": True}}),
        "ohif:azure.keycloak_database.multi_az = true: not on the Burstable tier (sku Standard_B1ms): Azure offers "
        "zone-redundant high availability on General Purpose and Memory Optimized only"),
    "database settings without a database": (
        prod(aws={**aws_section(), "keycloak_database": {"multi_az": True}}),
        'ohif:aws.keycloak_database = {"multi_az": true}: allowed only with a provisioned Keycloak with its managed '
        "database"),
    "a named VPC without database subnets": (
        stack("prod-uac", aws={"vpc_id": "vpc-0a1b2c3d4e5f67890", "subnet_ids": ["subnet-0a1b2c3d4e5f67891"]}),
        "ohif:aws.database_subnet_ids = (missing): required with aws.vpc_id for Keycloak's database"),
    "one database subnet": (
        stack("prod-uac", aws={"vpc_id": "vpc-0a1b2c3d4e5f67890", "subnet_ids": ["subnet-0a1b2c3d4e5f67891"],
                               "database_subnet_ids": ["subnet-0a1b2c3d4e5f67892"]}),
        'ohif:aws.database_subnet_ids = ["subnet-0a1b2c3d4e5f67892"]: allowed: a list of 2 or more (in as many '
        "availability zones) private subnet ids of aws.vpc_id"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    stops_before_any_resource(*CASES[case])


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



# The resource group's name is checked against the strictest resource in it: the Front Door WAF policy takes 1 to 80
# ASCII characters, where the group itself would take 90, Unicode letters included (issue 30).
RESOURCE_GROUP_ALLOWED = ("allowed: a resource group name: 1 to 80 ASCII letters, digits and -._(), not ending in . "
                          "(the most the Front Door WAF policy in it takes)")


@pytest.mark.parametrize("name", ["a" * 81, "ohif-prodé", "ohif-prod.", "ohif prod", ""],
                         ids=["81 characters", "not ASCII", "a final period", "a space", "empty"])
def test_a_resource_group_the_waf_policy_refuses_is_one_line(name):
    with pytest.raises(ConfigError) as raised:
        load(azure(azure=azure_section(resource_group=name)))
    assert str(raised.value).splitlines() == [
        f"invalid stack config: ohif:azure.resource_group = {json.dumps(name)}: {RESOURCE_GROUP_ALLOWED}"]


def test_a_resource_group_of_80_characters_is_allowed():
    name = "ohif-(prod)_v2." + "a" * 65
    assert len(name) == 80 and load(azure(azure=azure_section(resource_group=name))).azure.resource_group == name


def without_resource_group() -> dict[str, str]:
    return azure(azure={k: v for k, v in azure_section().items() if k != "resource_group"})


@pytest.mark.parametrize("stack_name", ["p" * 76, "prod."], ids=["81 characters", "a final period"])
def test_the_default_resource_group_is_checked_with_the_stack_name(stack_name):
    with pytest.raises(ConfigError) as raised:
        load(without_resource_group(), stack=stack_name)
    assert str(raised.value).splitlines() == [
        f'invalid stack config: ohif:azure.resource_group = "ohif-{stack_name}": {RESOURCE_GROUP_ALLOWED}; this is '
        "the default name, ohif-<stack>: set azure.resource_group"]


def test_the_default_resource_group_of_a_short_stack_name_is_allowed():
    assert load(without_resource_group(), stack="p" * 75).azure.resource_group is None


def test_pulumi_up_checks_the_default_resource_group_of_its_own_stack():
    stops_before_any_resource(without_resource_group(), f'ohif:azure.resource_group = "ohif-{"p" * 76}": '
                              f"{RESOURCE_GROUP_ALLOWED}; this is the default name", stack="p" * 76)
