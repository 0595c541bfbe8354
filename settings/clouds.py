"""The cloud sections, ohif:aws and ohif:azure: where each cloud's resources go, and their sizes. Each value is
checked against the strictest resource that takes it, so that a stack the settings accept is one the cloud accepts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from settings.checks import check_all, matches, one_of, parse_json, read_bool, read_object, whole_number
from settings.errors import Errors
from settings.model import (
    AZURE_DB_TIERS,
    FRONT_DOOR_TIERS,
    MAX_BACKUP_DAYS,
    PRICE_CLASSES,
    PRODUCTION_BACKUP_DAYS,
    ArchiveSettings,
    AuthSettings,
    AwsDatabaseSettings,
    AwsSettings,
    AzureDatabaseSettings,
    AzureSettings,
    ViewerSettings,
    database_tier,
    default_resource_group,
)

_CERT_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_VM_SIZE = re.compile(r"^(Standard|Basic)_[A-Za-z0-9_]+$")
_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,30}$")
# Azure allows 90 characters in a resource group's name, Unicode letters included, but the Front Door WAF policy
# created in it (components/azure/edge_firewall.py) takes 1 to 80 ASCII ones, not ending in a period: Azure's REST spec,
# frontdoor's webapplicationfirewall.json, ResourceGroupNameParameter.
_RESOURCE_GROUP = re.compile(r"^[a-zA-Z0-9_\-.()]{0,79}[a-zA-Z0-9_\-()]\Z")
RESOURCE_GROUP_ALLOWED = ("a resource group name: 1 to 80 ASCII letters, digits and -._(), not ending in . (the most "
                          "the Front Door WAF policy in it takes)")
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZURE_SUBNET_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
                              r"Microsoft\.Network/virtualNetworks/[-\w.]{2,64}/subnets/[-\w.]{1,80}$", re.I)
_DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
MANAGED_DB = "a provisioned Keycloak with its managed database (user-account-control without auth.keycloak_url " \
             "or auth.keycloak_database_url)"
# What needs a VM (and so a network): the DICOMweb proxy, or a Keycloak the recipe provisions.
VM_NEEDED = "a DICOMweb proxy (archive.upstream_url) or a provisioned Keycloak (user-account-control without " \
            "auth.keycloak_url)"


def read_aws(errors: Errors, raw: Any, viewer: ViewerSettings, archive: ArchiveSettings, auth: AuthSettings | None,
             production: bool) -> AwsSettings:
    has_vms, managed_db = _has_vms(archive, auth), _managed_db(auth)
    a = read_object(errors, "aws", raw, AwsSettings)
    check_all(errors, "aws", a, {
        "certificate_arn": matches(_CERT_ARN, "an ACM certificate ARN in us-east-1 (CloudFront reads certificates "
                                              "only there)"),
        "price_class": one_of(PRICE_CLASSES),
        "proxy_instance_type": matches(_INSTANCE_TYPE, "an EC2 instance type such as t3.small"),
        "keycloak_instance_type": matches(_INSTANCE_TYPE, "an EC2 instance type such as t3.medium"),
        "vpc_id": matches(_VPC_ID, "a VPC id such as vpc-0123456789abcdef0"),
    })
    if viewer.domain and "certificate_arn" not in a:
        errors.add("aws.certificate_arn", None, "required with viewer.domain: its ACM certificate in us-east-1")
    if "certificate_arn" in a and not viewer.domain:
        errors.add("aws.certificate_arn", a["certificate_arn"], "allowed only with viewer.domain")
    _read_network_keys(errors, "aws", a, ("vpc_id", "subnet_ids"), has_vms)
    if "subnet_ids" in a:
        a["subnet_ids"] = _read_subnet_ids(errors, a["subnet_ids"])
    if "vpc_id" in a and "subnet_ids" not in a:
        errors.add("aws.subnet_ids", None, "required with aws.vpc_id: private subnets of that VPC for the VMs, "
                   "such as [subnet-0123456789abcdef0]")
    if "subnet_ids" in a and "vpc_id" not in a:
        errors.add("aws.vpc_id", None, "required with aws.subnet_ids: the VPC those subnets belong to")
    database = _read_database(errors, "aws.keycloak_database", a.pop("keycloak_database", None), AwsDatabaseSettings,
                              managed_db, production, fewest_days=1)
    check_all(errors, "aws.keycloak_database", database, {
        "instance_class": matches(_DB_INSTANCE_CLASS, "an RDS instance class such as db.t4g.micro")})
    if "database_subnet_ids" in a:
        if not (managed_db and "vpc_id" in a):
            errors.add("aws.database_subnet_ids", a["database_subnet_ids"],
                       f"allowed only with aws.vpc_id and {MANAGED_DB}")
        a["database_subnet_ids"] = _read_subnet_ids(errors, a["database_subnet_ids"], "aws.database_subnet_ids", 2)
    elif managed_db and "vpc_id" in a:
        errors.add("aws.database_subnet_ids", None, "required with aws.vpc_id for Keycloak's database: private subnets "
                   "of that VPC in two availability zones, such as [subnet-0123456789abcdef0, subnet-0fedcba987654321]")
    return AwsSettings(**a, keycloak_database=AwsDatabaseSettings(**database))


def _read_subnet_ids(errors: Errors, value: Any, key: str = "aws.subnet_ids", fewest: int = 1) -> tuple[str, ...]:
    if not (isinstance(value, list) and len(value) >= fewest):
        many = "one or more" if fewest == 1 else f"{fewest} or more (in as many availability zones)"
        errors.add(key, value, f"allowed: a list of {many} private subnet ids of aws.vpc_id")
        return ()
    for i, subnet in enumerate(value):
        if not (isinstance(subnet, str) and _SUBNET_ID.match(subnet)):
            errors.add(f"{key}[{i}]", subnet, "allowed: a subnet id such as subnet-0123456789abcdef0")
        elif value.index(subnet) != i:
            errors.add(f"{key}[{i}]", subnet, "allowed: each subnet once")
    return tuple(str(s) for s in value)


def _read_network_keys(errors: Errors, section: str, values: dict, keys: Sequence[str], has_vms: bool) -> None:
    """A network for the VMs is refused where the stack has no VM to place (it would be ignored)."""
    for key in keys:
        if key in values and not has_vms:
            errors.add(f"{section}.{key}", values[key], f"allowed only with a VM to place: {VM_NEEDED}")


def read_azure(errors: Errors, raw: Any, archive: ArchiveSettings, auth: AuthSettings | None, production: bool,
               stack: str | None) -> AzureSettings:
    """`stack`: the Pulumi stack's name, which names the resource group when the section does not."""
    has_vms, managed_db = _has_vms(archive, auth), _managed_db(auth)
    a = read_object(errors, "azure", raw, AzureSettings)
    if "location" not in a:
        errors.add("azure.location", None, "required: the Azure region for storage and VMs, such as westeurope")
    check_all(errors, "azure", a, {
        "location": matches(_LOCATION, "an Azure region name such as westeurope"),
        "resource_group": matches(_RESOURCE_GROUP, RESOURCE_GROUP_ALLOWED),
        "front_door_tier": one_of(FRONT_DOOR_TIERS),
        "proxy_vm_size": matches(_VM_SIZE, "an Azure VM size such as Standard_B2s"),
        "keycloak_vm_size": matches(_VM_SIZE, "an Azure VM size such as Standard_B2ms"),
        "subnet_id": matches(_AZURE_SUBNET_ID, "a subnet's resource id, /subscriptions/<id>/resourceGroups/"
                                               "<group>/providers/Microsoft.Network/virtualNetworks/<network>/subnets/"
                                               "<subnet>"),
    })
    if "resource_group" not in a and stack is not None:
        default = default_resource_group(stack)
        if not _RESOURCE_GROUP.match(default):
            errors.add("azure.resource_group", default, f"allowed: {RESOURCE_GROUP_ALLOWED}; this is the default "
                       "name, ohif-<stack>: set azure.resource_group")
    _read_network_keys(errors, "azure", a, ("subnet_id",), has_vms)
    database = _read_database(errors, "azure.keycloak_database", a.pop("keycloak_database", None),
                              AzureDatabaseSettings, managed_db, production, fewest_days=PRODUCTION_BACKUP_DAYS)
    sku = database.get("sku", AzureDatabaseSettings.sku)
    if not (isinstance(sku, str) and _VM_SIZE.match(sku) and sku.split("_")[1][:1] in AZURE_DB_TIERS):
        errors.add("azure.keycloak_database.sku", sku, "allowed: a Flexible Server size such as Standard_B1ms "
                   "(Burstable), Standard_D2ds_v5 (General Purpose) or Standard_E2ds_v5 (Memory Optimized)")
    elif database.get("multi_az") and database_tier(sku) == "Burstable":
        errors.add("azure.keycloak_database.multi_az", True, f"not on the Burstable tier (sku {sku}): Azure offers "
                   "zone-redundant high availability on General Purpose and Memory Optimized only, such as "
                   "Standard_D2ds_v5")
    if "database_subnet_id" in a:
        if not (managed_db and "subnet_id" in a):
            errors.add("azure.database_subnet_id", a["database_subnet_id"],
                       f"allowed only with azure.subnet_id and {MANAGED_DB}")
        elif not _AZURE_SUBNET_ID.match(str(a["database_subnet_id"])):
            errors.add("azure.database_subnet_id", a["database_subnet_id"], "allowed: a subnet's resource id, "
                       "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/"
                       "<network>/subnets/<subnet>")
    elif managed_db and "subnet_id" in a:
        errors.add("azure.database_subnet_id", None, "required with azure.subnet_id for Keycloak's database: a subnet "
                   "of the same network delegated to Microsoft.DBforPostgreSQL/flexibleServers")
    # Front Door reaches the VMs over Private Link (components/azure/origin_vm.py), which only Premium offers: the
    # default follows, and a Standard stack with a VM is refused rather than left with a plain-HTTP hop.
    if has_vms and a.get("front_door_tier") == "Standard":
        errors.add("azure.front_door_tier", "Standard", f"allowed: Premium with {VM_NEEDED}: Front Door reaches "
                   "the VMs over Private Link, which only Premium offers (about $295 a month more than Standard)")
    a.setdefault("front_door_tier", "Premium" if has_vms else "Standard")
    return AzureSettings(**a, keycloak_database=AzureDatabaseSettings(**database))


def _read_database(errors: Errors, key: str, raw: Any, model: type, managed_db: bool, production: bool,
                   fewest_days: int) -> dict[str, Any]:
    """A cloud's `keycloak_database` object, the settings both clouds share checked; refused where there is no managed
    database to apply them to."""
    if raw is not None and not managed_db:
        errors.add(key, parse_json(raw), f"allowed only with {MANAGED_DB}")
        return {}
    d = read_object(errors, key, raw, model)
    if "backup_retention_days" in d:
        low = max(fewest_days, PRODUCTION_BACKUP_DAYS if production else 1)
        where = "in a production stack" if production and fewest_days < PRODUCTION_BACKUP_DAYS else ""
        whole_number(errors, f"{key}.backup_retention_days", d["backup_retention_days"], low, MAX_BACKUP_DAYS,
                     unit="days", note=where)
    for flag in ("multi_az", "geo_redundant_backup"):
        if flag in d:
            d[flag] = read_bool(errors, f"{key}.{flag}", d[flag])
    return d


def _has_vms(archive: ArchiveSettings, auth: AuthSettings | None) -> bool:
    """Whether the stack runs a VM (see VM_NEEDED)."""
    return archive.uses_proxy or (auth is not None and not auth.keycloak_url)


def _managed_db(auth: AuthSettings | None) -> bool:
    """Whether the stack creates a managed database (see MANAGED_DB)."""
    return auth is not None and not auth.keycloak_url and not auth.keycloak_database_url
