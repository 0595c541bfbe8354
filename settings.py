"""The stack's settings: one typed model, read from Pulumi config and validated whole.

`load()` turns the raw `ohif:*` config (what `pulumi up` hands the program, or what the sandbox
reads from the same stack file) into `StackSettings`, or raises `ConfigError` naming every bad
key, its value and what is allowed, one line each. Recipes call it before registering anything,
so a bad stack leaves nothing half-done.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

import pulumi
import yaml

from components.render.archive_service import (DICOM_SERVICE, HEALTHIMAGING, ArchiveService, dicom_service_url,
                                              healthimaging_url)

NAMESPACE = "ohif"
PROJECT = Path(__file__).resolve().parent
"""Where relative paths in a stack file start: the Pulumi project (pulumi up runs from here)."""
RECIPES = ("standalone", "user-account-control", "embedded", "dicom-json")
AUTH_RECIPES = ("user-account-control",)
ARCHIVE_RECIPES = ("standalone", "user-account-control", "embedded")
EMBED_MODES = ("iframe", "script")
CLOUDS = ("aws", "azure", "local")  # "local" is the sandbox: python -m sandbox up --stack local
# Each cloud's own section, and the Pulumi provider namespaces that only make sense on that cloud.
CLOUD_SECTIONS = {"aws": "aws", "azure": "azure"}
PROVIDER_NAMESPACES = {"aws": "aws", "azure-native": "azure"}
TOPOLOGIES = ("same-origin", "cross-origin")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
FRONT_DOOR_TIERS = ("Standard", "Premium")
# Keys that moved to a cloud's section when the recipes learned a second cloud.
MOVED = {"viewer.certificate_arn": "aws.certificate_arn", "viewer.price_class": "aws.price_class",
         "archive.instance_type": "aws.proxy_instance_type", "auth.instance_type": "aws.keycloak_instance_type"}


class ConfigError(pulumi.RunError):
    """A stack config that cannot be deployed. RunError makes Pulumi print the message alone, no traceback."""


@dataclass(frozen=True)
class ViewerSettings:
    base_path: str = "/"
    """The path the viewer is served under, such as `/` or `/ohif/`."""
    domain: str | None = None
    """A custom domain for the viewer; None uses the CDN's own HTTPS name."""
    include_source_maps: bool = False
    """Upload the build's `.map` files (38 MB; they expose the source)."""


@dataclass(frozen=True)
class ScaleSettings:
    """How many DICOMweb proxies run: the cloud's own autoscaling between the two counts, on average CPU."""

    min_instances: int = 1
    """The fewest proxies; 2 or more where the stack is highly available. One proxy is the cheapest stack."""
    max_instances: int = 1
    """The most proxies the cloud scales out to."""
    cpu_target_percent: int = 60
    """The average CPU the cloud keeps the proxies at, adding or removing one."""

    @property
    def grouped(self) -> bool:
        """More than one proxy may run: a group behind a balancer; else one VM, the cheapest."""
        return self.max_instances > 1


SCALE_LIMITS = {"min_instances": (1, 20), "max_instances": (1, 20), "cpu_target_percent": (10, 90)}


@dataclass(frozen=True)
class HealthImagingSettings:
    """An existing AWS HealthImaging datastore as the archive (components/render/archive_service.py)."""

    datastore_id: str | None = None
    """The datastore's ID (32 characters)."""
    region: str | None = None
    """The datastore's region, such as us-east-1."""


@dataclass(frozen=True)
class DicomServiceSettings:
    """Azure's DICOM service as the archive: an existing one by its resource ID, or one the recipe creates."""

    id: str | None = None
    """An existing service: /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.HealthcareApis/workspaces/
    <workspace>/dicomservices/<service>."""
    workspace: str | None = None
    """The Health Data Services workspace the recipe creates (3 to 24 lower-case letters and digits, unique in
    Azure: it names the service's host)."""
    name: str | None = None
    """The DICOM service the recipe creates in it (3 to 24 lower-case letters and digits)."""


@dataclass(frozen=True)
class ArchiveSettings:
    dicomweb_url: str | None = None
    """An existing DICOMweb root that browsers call directly (it must send CORS itself)."""
    upstream_url: str | None = None
    """The archive's DICOMweb root as our proxy reaches it; set this to deploy the DICOMweb proxy."""
    topology: str = "same-origin"
    """same-origin: the proxy behind the viewer's CDN at /dicom-web/; cross-origin: at its own URL, with CORS."""
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed by CORS besides the viewer's own (cross-origin only)."""
    enable_stow: bool = False
    """Let the proxy pass STOW-RS uploads (POST /studies) to the archive."""
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    """How many proxies run (upstream_url only)."""
    healthimaging: HealthImagingSettings | None = None
    """AWS HealthImaging as the archive, which the proxy reads with its instance role (SigV4)."""
    dicom_service: DicomServiceSettings | None = None
    """Azure's DICOM service as the archive, which the proxy reads with its VM's managed identity."""

    @property
    def service(self) -> ArchiveService | None:
        """The cloud DICOM service the stack reads from, if any."""
        if self.healthimaging is not None:
            h = self.healthimaging
            return ArchiveService(HEALTHIMAGING, healthimaging_url(h.region, h.datastore_id), region=h.region,
                                  datastore_id=h.datastore_id)
        if self.dicom_service is not None:
            d = self.dicom_service
            workspace, name = (d.id.split("/")[-3], d.id.split("/")[-1]) if d.id else (d.workspace, d.name)
            return ArchiveService(DICOM_SERVICE, dicom_service_url(workspace, name), workspace=workspace, name=name,
                                  resource_id=d.id)
        return None

    @property
    def proxied_url(self) -> str | None:
        """The DICOMweb root the proxy forwards to: the archive's upstream_url, or the cloud service's."""
        service = self.service
        return service.dicomweb_url if service else self.upstream_url

    @property
    def kind(self) -> str:
        """What answers the proxy: DATA_SOURCES' key for the viewer's settings."""
        service = self.service
        return service.kind if service else "dicomweb"

    @property
    def uses_proxy(self) -> bool:
        return self.proxied_url is not None


@dataclass(frozen=True)
class AuthSettings:
    realm: str | None = None
    """The Keycloak realm the viewer's users log in to."""
    keycloak_url: str | None = None
    """An existing Keycloak (managed with pulumi-keycloak); None provisions one. The sandbox starts one here."""
    client_id: str = "ohif-viewer"
    """The viewer's OpenID Connect client."""
    required_role: str = "dicom-reader"
    """The realm role the DICOMweb proxy requires."""
    require_pkce: bool = True
    """PKCE S256 on the viewer client; production stacks cannot turn it off."""
    access_token_minutes: int = 5
    """How long a stolen access token stays usable."""
    keycloak_database_url: str | None = None
    """An existing PostgreSQL for the provisioned Keycloak, postgresql://<user>@<host>[:port]/<database> (its password
    in the secret ohif:keycloak_database_password); None creates the cloud's managed PostgreSQL."""


@dataclass(frozen=True)
class EmbedSettings:
    host_origins: tuple[str, ...] = ()
    """The web applications that embed the viewer (required)."""
    modes: tuple[str, ...] = ("iframe",)
    """iframe: the v3 viewer framed by the hosts; script: OHIF v2's packaged script in the hosts' pages."""
    host_page_path: str = "/"
    """script: the path of the host page; the v2 viewer's routes live under it."""


@dataclass(frozen=True)
class StudiesSettings:
    folder: str | None = None
    """The DICOM files to publish, relative to the project; a local stack may leave it out for sample studies."""
    topology: str = "same-origin"
    """same-origin: under the viewer's CDN at /studies/; cross-origin: on a CDN origin of their own, with CORS."""
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed by CORS besides the viewer's own (cross-origin only)."""


@dataclass(frozen=True)
class AccessSettings:
    """Who may read: a production stack states it (login, networks, or public), or it is refused."""

    allowed_networks: tuple[str, ...] = ()
    """CIDRs (IPv4 and IPv6) the edge firewall admits; anyone else gets 403 before storage, the proxy or Keycloak."""
    public: bool = False
    """The stack's statement that it serves de-identified data to anyone."""
    rate_limit: int = 10000
    """DICOMweb requests one client address may send in five minutes; more get 429 at the edge. The default is
    five times what one radiologist scrolling a 2,000-slice CT sends (measured: README, "Who may read")."""

    @property
    def ipv4_networks(self) -> tuple[str, ...]:
        return tuple(n for n in self.allowed_networks if ":" not in n)

    @property
    def ipv6_networks(self) -> tuple[str, ...]:
        return tuple(n for n in self.allowed_networks if ":" in n)


RATE_LIMIT_RANGE = (100, 2_000_000_000)
"""The rate limits every edge takes (AWS WAF's rate-based rules take 10 to 2e9): below 100 per five minutes,
opening one study would trip it."""


@dataclass(frozen=True)
class AwsDatabaseSettings:
    """The provisioned Keycloak's database: RDS for PostgreSQL (components/aws/database.py)."""

    instance_class: str = "db.t4g.micro"
    """The RDS instance class."""
    backup_retention_days: int = 7
    """Days of automated backups (point-in-time restore); 7 or more in a production stack, at most 35."""
    multi_az: bool = False
    """A standby in a second availability zone, which RDS fails over to (about twice the instance's price)."""


@dataclass(frozen=True)
class AzureDatabaseSettings:
    """The provisioned Keycloak's database: Azure Database for PostgreSQL Flexible Server
    (components/azure/database.py)."""

    sku: str = "Standard_B1ms"
    """The compute size; its letter gives the tier (B Burstable, D General Purpose, E Memory Optimized)."""
    backup_retention_days: int = 7
    """Days of automated backups (point-in-time restore): 7 to 35, as Azure allows."""
    multi_az: bool = False
    """Zone-redundant high availability: a standby in another zone (not on the Burstable tier)."""
    geo_redundant_backup: bool = False
    """Copy the backups to the paired region (fixed at creation: Azure cannot switch it later)."""


@dataclass(frozen=True)
class AwsSettings:
    certificate_arn: str | None = None
    """The ACM certificate (in us-east-1, as CloudFront requires) for viewer.domain."""
    price_class: str = "PriceClass_100"
    """Which CloudFront edge locations serve the viewer."""
    proxy_instance_type: str = "t3.small"
    """The DICOMweb proxy VM's size."""
    keycloak_instance_type: str = "t3.medium"
    """The provisioned Keycloak VM's size (Keycloak wants about 1 GiB)."""
    vpc_id: str | None = None
    """The VPC the VMs go in (the one that reaches the archive); None creates one (components/aws/network.py)."""
    subnet_ids: tuple[str, ...] = ()
    """Private subnets of `vpc_id`, with a way out for package updates: the proxy takes the first, Keycloak the last."""
    database_subnet_ids: tuple[str, ...] = ()
    """Private subnets of `vpc_id` in two or more availability zones, for Keycloak's database (RDS requires two)."""
    keycloak_database: AwsDatabaseSettings = field(default_factory=AwsDatabaseSettings)
    """The provisioned Keycloak's database."""


@dataclass(frozen=True)
class AzureSettings:
    location: str | None = None
    """The Azure region of the storage and VMs (where patient data may live); required."""
    resource_group: str | None = None
    """The resource group to create; None names it ohif-<stack>."""
    front_door_tier: str = "Standard"
    """Front Door Standard or Premium. Premium (Private Link to the VMs) is the default, and required, where the
    stack has a VM: a DICOMweb proxy or a provisioned Keycloak."""
    proxy_vm_size: str = "Standard_B2s"
    """The DICOMweb proxy VM's size."""
    keycloak_vm_size: str = "Standard_B2ms"
    """The provisioned Keycloak VM's size (Keycloak wants about 1 GiB)."""
    subnet_id: str | None = None
    """The subnet (an ARM id, naming its virtual network) the VMs go in; None creates a network
    (components/azure/network.py)."""
    database_subnet_id: str | None = None
    """With `subnet_id`: a subnet of the same network delegated to Microsoft.DBforPostgreSQL/flexibleServers, for
    Keycloak's database."""
    keycloak_database: AzureDatabaseSettings = field(default_factory=AzureDatabaseSettings)
    """The provisioned Keycloak's database."""


@dataclass(frozen=True)
class StackSettings:
    recipe: str
    cloud: str
    production: bool
    highly_available: bool = False
    """The stack's statement that losing one VM must lose no reader: two proxies or more."""
    viewer: ViewerSettings = field(default_factory=ViewerSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    auth: AuthSettings | None = None
    """Login settings; present exactly for the recipes that log users in."""
    embed: EmbedSettings | None = None
    """Present exactly for the embedded recipe."""
    studies: StudiesSettings | None = None
    """Present exactly for the dicom-json recipe."""
    aws: AwsSettings | None = None
    """Present exactly when cloud is aws."""
    azure: AzureSettings | None = None
    """Present exactly when cloud is azure."""


class _Errors:
    """Collects one line per bad value, so a user fixes the whole stack file in one go."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, value: Any, allowed: str) -> None:
        shown = "(missing)" if value is None else json.dumps(value)
        self.lines.append(f"{NAMESPACE}:{key} = {shown}: {allowed}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("\n".join(f"invalid stack config: {line}" for line in self.lines))


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_BASE_PATH = re.compile(r"^/([A-Za-z0-9._-]+/)*$")
_CERT_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_VM_SIZE = re.compile(r"^(Standard|Basic)_[A-Za-z0-9_]+$")
_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,30}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{0,89}[-\w_()]$")
_VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
_SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
_AZURE_SUBNET_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
                              r"Microsoft\.Network/virtualNetworks/[-\w.]{2,64}/subnets/[-\w.]{1,80}$", re.I)
_DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
_DB_URL_PATH = re.compile(r"^/[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
# Azure Flexible Server's compute tiers, by the letter its sizes start with (Standard_B1ms, Standard_D2ds_v5, ...).
AZURE_DB_TIERS = {"B": "Burstable", "D": "GeneralPurpose", "E": "MemoryOptimized"}
MAX_BACKUP_DAYS = 35  # both clouds' longest automated backup retention
PRODUCTION_BACKUP_DAYS = 7
DATABASE_PASSWORD_KEY = "keycloak_database_password"
MANAGED_DB = "a provisioned Keycloak with its managed database (user-account-control without auth.keycloak_url " \
             "or auth.keycloak_database_url)"
# What needs a VM (and so a network): the DICOMweb proxy, or a Keycloak the recipe provisions.
VM_NEEDED = "a DICOMweb proxy (archive.upstream_url) or a provisioned Keycloak (user-account-control without " \
            "auth.keycloak_url)"


def _url_problem(value: str, production: bool) -> str | None:
    """Why `value` is not an absolute http(s) URL without query or fragment, or None if it is."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "allowed: an absolute http:// or https:// URL"
    if parts.query or parts.fragment:
        return "allowed: a URL without ?query or #fragment"
    if production and parts.scheme != "https" and not _is_loopback(parts.hostname):
        return "allowed: https:// only in a production stack"
    return None


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def origin_problem(value: str, production: bool) -> str | None:
    """Why `value` is not a browser origin (scheme://host[:port]) a CORS allow-list may hold."""
    if value == "*":
        return "allowed: explicit origins; a wildcard is refused in a production stack" if production else None
    if "*" in value:
        # CORS and frame-ancestors lists here are exact: a partial wildcard would match nothing, or too much.
        return "allowed: exact origins such as https://portal.example.org (no partial wildcard)"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return "allowed: an origin such as https://viewer.example.org (scheme and host, no path or slash)"
    if production and parts.scheme != "https":
        return "allowed: https:// origins only in a production stack"
    return None


def _read_bool(errors: _Errors, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    errors.add(key, value, "allowed: true or false")
    return False


def _parse_json(raw: Any) -> Any:
    """A structured key's value: Pulumi hands objects to the program as JSON text."""
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return raw


def _read_object(errors: _Errors, key: str, raw: Any, model: type) -> dict[str, Any]:
    """A structured key's JSON object, with unknown sub-keys reported."""
    if raw is None:
        return {}
    value = _parse_json(raw)
    if not isinstance(value, dict):
        errors.add(key, value, "allowed: an object of settings")
        return {}
    known = set(model.__dataclass_fields__)
    for sub in sorted(set(value) - known):
        moved = MOVED.get(f"{key}.{sub}")
        hint = f"moved to {NAMESPACE}:{moved}" if moved else f"unknown key; allowed: {', '.join(sorted(known))}"
        errors.add(f"{key}.{sub}", value[sub], hint)
    return {k: v for k, v in value.items() if k in known}


def _read_viewer(errors: _Errors, raw: Any) -> ViewerSettings:
    v = _read_object(errors, "viewer", raw, ViewerSettings)
    checks: dict[str, Callable[[Any], str | None]] = {
        "base_path": lambda x: None if isinstance(x, str) and _BASE_PATH.match(x) else
        "allowed: a path that starts and ends with /, such as / or /ohif/",
        "domain": lambda x: None if isinstance(x, str) and _HOSTNAME.match(x) else
        "allowed: a lower-case DNS name such as viewer.example.org",
    }
    _check_all(errors, "viewer", v, checks)
    if "include_source_maps" in v:
        v["include_source_maps"] = _read_bool(errors, "viewer.include_source_maps", v["include_source_maps"])
    return ViewerSettings(**v)


def _check_all(errors: _Errors, section: str, values: dict, checks: dict[str, Callable[[Any], str | None]]) -> None:
    for key, check in checks.items():
        if key in values and (problem := check(values[key])):
            errors.add(f"{section}.{key}", values[key], problem)


def _one_of(allowed: Sequence[str]) -> Callable[[Any], str | None]:
    return lambda x: None if x in allowed else f"allowed: {', '.join(allowed)}"


def _matches(pattern: re.Pattern, allowed: str) -> Callable[[Any], str | None]:
    return lambda x: None if isinstance(x, str) and pattern.match(x) else f"allowed: {allowed}"


def _read_database(errors: _Errors, key: str, raw: Any, model: type, managed_db: bool, production: bool,
                   fewest_days: int) -> dict[str, Any]:
    """A cloud's `keycloak_database` object, the settings both clouds share checked; refused where there is no managed
    database to apply them to."""
    if raw is not None and not managed_db:
        errors.add(key, _parse_json(raw), f"allowed only with {MANAGED_DB}")
        return {}
    d = _read_object(errors, key, raw, model)
    if "backup_retention_days" in d:
        days, low = d["backup_retention_days"], max(fewest_days, PRODUCTION_BACKUP_DAYS if production else 1)
        if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= MAX_BACKUP_DAYS:
            where = " in a production stack" if production and fewest_days < PRODUCTION_BACKUP_DAYS else ""
            errors.add(f"{key}.backup_retention_days", days,
                       f"allowed: a whole number of days from {low} to {MAX_BACKUP_DAYS}{where}")
    for flag in ("multi_az", "geo_redundant_backup"):
        if flag in d:
            d[flag] = _read_bool(errors, f"{key}.{flag}", d[flag])
    return d


def _read_aws(errors: _Errors, raw: Any, viewer: ViewerSettings, has_vms: bool, managed_db: bool,
              production: bool) -> AwsSettings:
    a = _read_object(errors, "aws", raw, AwsSettings)
    _check_all(errors, "aws", a, {
        "certificate_arn": _matches(_CERT_ARN, "an ACM certificate ARN in us-east-1 (CloudFront reads certificates "
                                               "only there)"),
        "price_class": _one_of(PRICE_CLASSES),
        "proxy_instance_type": _matches(_INSTANCE_TYPE, "an EC2 instance type such as t3.small"),
        "keycloak_instance_type": _matches(_INSTANCE_TYPE, "an EC2 instance type such as t3.medium"),
        "vpc_id": _matches(_VPC_ID, "a VPC id such as vpc-0123456789abcdef0"),
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
    _check_all(errors, "aws.keycloak_database", database, {
        "instance_class": _matches(_DB_INSTANCE_CLASS, "an RDS instance class such as db.t4g.micro")})
    if "database_subnet_ids" in a:
        if not (managed_db and "vpc_id" in a):
            errors.add("aws.database_subnet_ids", a["database_subnet_ids"], f"allowed only with aws.vpc_id and {MANAGED_DB}")
        a["database_subnet_ids"] = _read_subnet_ids(errors, a["database_subnet_ids"], "aws.database_subnet_ids", 2)
    elif managed_db and "vpc_id" in a:
        errors.add("aws.database_subnet_ids", None, "required with aws.vpc_id for Keycloak's database: private subnets "
                   "of that VPC in two availability zones, such as [subnet-0123456789abcdef0, subnet-0fedcba987654321]")
    return AwsSettings(**a, keycloak_database=AwsDatabaseSettings(**database))


def _read_subnet_ids(errors: _Errors, value: Any, key: str = "aws.subnet_ids", fewest: int = 1) -> tuple[str, ...]:
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


def _read_network_keys(errors: _Errors, section: str, values: dict, keys: Sequence[str], has_vms: bool) -> None:
    """A network for the VMs is refused where the stack has no VM to place (it would be ignored)."""
    for key in keys:
        if key in values and not has_vms:
            errors.add(f"{section}.{key}", values[key], f"allowed only with a VM to place: {VM_NEEDED}")


def _read_azure(errors: _Errors, raw: Any, has_vms: bool, managed_db: bool, production: bool) -> AzureSettings:
    a = _read_object(errors, "azure", raw, AzureSettings)
    if "location" not in a:
        errors.add("azure.location", None, "required: the Azure region for storage and VMs, such as westeurope")
    _check_all(errors, "azure", a, {
        "location": _matches(_LOCATION, "an Azure region name such as westeurope"),
        "resource_group": _matches(_RESOURCE_GROUP, "a resource group name (letters, digits, -._() up to 90)"),
        "front_door_tier": _one_of(FRONT_DOOR_TIERS),
        "proxy_vm_size": _matches(_VM_SIZE, "an Azure VM size such as Standard_B2s"),
        "keycloak_vm_size": _matches(_VM_SIZE, "an Azure VM size such as Standard_B2ms"),
        "subnet_id": _matches(_AZURE_SUBNET_ID, "a subnet's resource id, /subscriptions/<id>/resourceGroups/<group>/"
                                                "providers/Microsoft.Network/virtualNetworks/<network>/subnets/<subnet>"),
    })
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


def database_tier(sku: str) -> str:
    """An Azure Flexible Server size's tier: Burstable, GeneralPurpose or MemoryOptimized."""
    return AZURE_DB_TIERS[sku.split("_")[1][0]]


def _read_access(errors: _Errors, raw: Any, recipe: Any, production: bool) -> AccessSettings:
    """Who may read. Login is the recipe's (user-account-control); networks and public are stated here."""
    a = _read_object(errors, "access", raw, AccessSettings)
    login = recipe in AUTH_RECIPES
    if "public" in a:
        a["public"] = _read_bool(errors, "access.public", a["public"])
        if a["public"] and login:
            errors.add("access.public", True, f"not with recipe {recipe}: its login decides who reads; to admit "
                       "only some networks as well, use allowed_networks")
    if "allowed_networks" in a:
        a["allowed_networks"] = _read_networks(errors, a["allowed_networks"])
        if a.get("public") is True and a["allowed_networks"]:
            errors.add("access.public", True, "not with allowed_networks: choose one (public: anyone reads; "
                       "allowed_networks: those networks only)")
    if "rate_limit" in a:
        low, high = RATE_LIMIT_RANGE
        value = a["rate_limit"]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.add("access.rate_limit", value, f"allowed: a whole number from {low} to {high} (DICOMweb requests "
                       "per client address per five minutes)")
    stated = login or a.get("public") is True or bool(a.get("allowed_networks"))
    if production and not stated and recipe in RECIPES:
        ways = "allowed_networks: [CIDR, ...] (those networks only), or public: true (de-identified data for anyone)"
        if recipe not in ("dicom-json",):
            ways += f", or recipe {', '.join(AUTH_RECIPES)} (login)"
        errors.add("access", _parse_json(raw), f"required in a production stack: say who may read: {ways}")
    return AccessSettings(**a)


def _read_networks(errors: _Errors, value: Any) -> tuple[str, ...]:
    """CIDRs, each normalised (a bare address is its /32 or /128); one that admits everyone is refused."""
    if not isinstance(value, list):
        errors.add("access.allowed_networks", value, "allowed: a list of CIDRs such as [203.0.113.0/24, 2001:db8::/48]")
        return ()
    networks: list[str] = []
    cidr = "allowed: an IPv4 or IPv6 network in CIDR form, such as 203.0.113.0/24 or 2001:db8::/48"
    for i, item in enumerate(value):
        key = f"access.allowed_networks[{i}]"
        try:
            network = ipaddress.ip_network(item, strict=True) if isinstance(item, str) else None
        except ValueError:
            network = None
            try:
                errors.add(key, item, f"{cidr}; its host bits are set: did you mean "
                                      f"{ipaddress.ip_network(item, strict=False)}?")
            except ValueError:
                errors.add(key, item, cidr)
            continue
        if network is None:
            errors.add(key, item, cidr)
        elif network.prefixlen == 0:
            errors.add(key, item, "admits every address: to serve anyone, say so with access.public: true "
                                  "(de-identified data only)")
        elif network.with_prefixlen in networks:
            errors.add(key, item, "allowed: each network once")
        else:
            networks.append(network.with_prefixlen)
    return tuple(networks)


_DATASTORE_ID = re.compile(r"^[0-9a-z]{32}$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_HEALTH_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_DICOM_SERVICE_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
                               r"Microsoft\.HealthcareApis/workspaces/[a-z0-9]{3,24}/dicomservices/[a-z0-9]{3,24}$")
# Which clouds can reach each service (the sandbox stands in for both).
SERVICE_CLOUDS = {"healthimaging": ("aws", "local"), "dicom_service": ("azure", "local")}
ARCHIVE_SOURCES = ("dicomweb_url", "upstream_url", *SERVICE_CLOUDS)


def _read_healthimaging(errors: _Errors, raw: Any) -> HealthImagingSettings:
    h = _read_object(errors, "archive.healthimaging", raw, HealthImagingSettings)
    _check_all(errors, "archive.healthimaging", h, {
        "datastore_id": _matches(_DATASTORE_ID, "a datastore ID: 32 lower-case letters and digits"),
        "region": _matches(_AWS_REGION, "an AWS region such as us-east-1")})
    for key in ("datastore_id", "region"):
        if key not in h:
            errors.add(f"archive.healthimaging.{key}", None, "required")
    return HealthImagingSettings(**h)


def _read_dicom_service(errors: _Errors, raw: Any) -> DicomServiceSettings:
    d = _read_object(errors, "archive.dicom_service", raw, DicomServiceSettings)
    _check_all(errors, "archive.dicom_service", d, {
        "id": _matches(_DICOM_SERVICE_ID, "a DICOM service's resource ID, /subscriptions/<id>/resourceGroups/"
                                          "<group>/providers/Microsoft.HealthcareApis/workspaces/<workspace>/"
                                          "dicomservices/<service>"),
        "workspace": _matches(_HEALTH_NAME, "3 to 24 lower-case letters and digits"),
        "name": _matches(_HEALTH_NAME, "3 to 24 lower-case letters and digits")})
    if ("id" in d) == ("workspace" in d or "name" in d):
        errors.add("archive.dicom_service", d, "required: id (an existing service), or workspace and name (the "
                   "recipe creates them)")
    elif "id" not in d and not ("workspace" in d and "name" in d):
        given, missing = ("workspace", "name") if "workspace" in d else ("name", "workspace")
        errors.add(f"archive.dicom_service.{missing}", None, f"required with archive.dicom_service.{given}")
    return DicomServiceSettings(**d)


def _read_archive(errors: _Errors, raw: Any, recipe: Any, production: bool, cloud: Any) -> ArchiveSettings:
    if recipe in RECIPES and recipe not in ARCHIVE_RECIPES:
        if raw is not None:
            errors.add("archive", _parse_json(raw), f"allowed only with recipe {', '.join(ARCHIVE_RECIPES)}")
        return ArchiveSettings()
    if raw is None:
        errors.add("archive", None, "required: an object with dicomweb_url (existing DICOMweb), upstream_url (proxied), "
                   "healthimaging or dicom_service")
        return ArchiveSettings()
    a = _read_object(errors, "archive", raw, ArchiveSettings)
    if sum(key in a for key in ARCHIVE_SOURCES) != 1:
        errors.add("archive", a, "required: exactly one of dicomweb_url (existing DICOMweb), upstream_url (proxied), "
                   "healthimaging (AWS) or dicom_service (Azure)")
    for key, clouds in SERVICE_CLOUDS.items():
        if key in a and cloud in CLOUDS and cloud not in clouds:
            errors.add(f"archive.{key}", a[key], f"allowed only with ohif:cloud {clouds[0]} (or local), not {cloud}")
    if "healthimaging" in a:
        a["healthimaging"] = _read_healthimaging(errors, a["healthimaging"])
        if a.get("enable_stow"):
            errors.add("archive.enable_stow", a["enable_stow"], "not with archive.healthimaging: SigV4 signs an "
                       "upload's hash, which the proxy cannot know before it streams the upload")
    if "dicom_service" in a:
        a["dicom_service"] = _read_dicom_service(errors, a["dicom_service"])
    if "dicomweb_url" in a:
        # The browser calls this URL itself, so production needs https (mixed content, secure context).
        for key in sorted(set(a) - {"dicomweb_url"}):
            errors.add(f"archive.{key}", a[key], "allowed only with upstream_url (it configures the proxy)")
        if problem := _url_problem(str(a["dicomweb_url"]), production):
            errors.add("archive.dicomweb_url", a["dicomweb_url"], problem)
    if "upstream_url" in a:
        # Only the proxy calls the upstream, often inside the hospital network, so plain http is allowed.
        if problem := _url_problem(str(a["upstream_url"]), production=False):
            errors.add("archive.upstream_url", a["upstream_url"], problem)
    if "topology" in a and a["topology"] not in TOPOLOGIES:
        errors.add("archive.topology", a["topology"], f"allowed: {', '.join(TOPOLOGIES)}")
    if a.get("allowed_origins") and a.get("topology", "same-origin") != "cross-origin":
        errors.add("archive.allowed_origins", a["allowed_origins"], "allowed only with topology cross-origin (a proxy "
                   "behind the viewer's own origin sends no CORS)")
    a["allowed_origins"] = _read_origins(errors, "archive.allowed_origins", a.get("allowed_origins", []), production)
    if "enable_stow" in a:
        a["enable_stow"] = _read_bool(errors, "archive.enable_stow", a["enable_stow"])
    if "scale" in a:
        a["scale"] = _read_scale(errors, a["scale"])
    return ArchiveSettings(**a)


def _read_scale(errors: _Errors, raw: Any) -> ScaleSettings:
    s = _read_object(errors, "archive.scale", raw, ScaleSettings)
    for key, (low, high) in SCALE_LIMITS.items():
        value = s.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            errors.add(f"archive.scale.{key}", value, f"allowed: a whole number from {low} to {high}")
            s.pop(key)
    scale = ScaleSettings(**s)
    if scale.min_instances > scale.max_instances:
        errors.add("archive.scale.max_instances", scale.max_instances,
                   f"allowed: at least min_instances ({scale.min_instances})")
    return scale


def _read_origins(errors: _Errors, key: str, origins: Any, production: bool) -> tuple[str, ...]:
    if not isinstance(origins, list):
        errors.add(key, origins, "allowed: a list of origins")
        return ()
    for i, origin in enumerate(origins):
        if problem := origin_problem(str(origin), production):
            errors.add(f"{key}[{i}]", origin, problem)
    return tuple(str(o) for o in origins)


def _read_section(errors: _Errors, key: str, raw: Any, recipe: Any, recipes: Sequence[str], model: type,
                  required: bool = True) -> dict[str, Any] | None:
    """A section that only some recipes read: refused for the others, and required (if `required`) for them."""
    if recipe not in recipes:
        if raw is not None:
            errors.add(key, _parse_json(raw), f"allowed only with recipe {', '.join(recipes)}")
        return None
    if raw is None and required:
        errors.add(key, None, f"required for recipe {recipe}")
    return _read_object(errors, key, raw, model)


def _read_embed(errors: _Errors, raw: Any, recipe: Any, production: bool) -> EmbedSettings | None:
    e = _read_section(errors, "embed", raw, recipe, ("embedded",), EmbedSettings)
    if e is None:
        return None
    if not e.get("host_origins"):
        errors.add("embed.host_origins", e.get("host_origins"), "required: the origins of the web applications that "
                   "embed the viewer, such as https://portal.example.org")
    e["host_origins"] = _read_origins(errors, "embed.host_origins", e.get("host_origins", []), production)
    modes = e.get("modes", list(EmbedSettings.modes))
    if not (isinstance(modes, list) and modes and len(set(map(str, modes))) == len(modes)
            and set(map(str, modes)) <= set(EMBED_MODES)):
        errors.add("embed.modes", modes, f"allowed: a list of {' and '.join(EMBED_MODES)}, each at most once")
        modes = []
    e["modes"] = tuple(modes)
    if "host_page_path" in e:
        if "script" not in e["modes"]:
            errors.add("embed.host_page_path", e["host_page_path"], "allowed only with mode script")
        elif not (isinstance(e["host_page_path"], str) and _BASE_PATH.match(e["host_page_path"])):
            errors.add("embed.host_page_path", e["host_page_path"], "allowed: a path that starts and ends with /")
    return EmbedSettings(**e)


def _read_studies(errors: _Errors, raw: Any, recipe: Any, cloud: Any, production: bool) -> StudiesSettings | None:
    # A local stack may leave the folder out: the sandbox then publishes its sample studies.
    s = _read_section(errors, "studies", raw, recipe, ("dicom-json",), StudiesSettings, required=cloud != "local")
    if s is None:
        return None
    folder = s.get("folder")
    if folder is None and cloud != "local":
        errors.add("studies.folder", None, "required: the folder of DICOM files to publish, relative to the project")
    elif folder is not None and not (isinstance(folder, str) and (PROJECT / folder).is_dir()):
        errors.add("studies.folder", folder, f"allowed: a folder that exists, relative to {PROJECT}")
    if s.get("topology", "same-origin") not in TOPOLOGIES:
        errors.add("studies.topology", s["topology"], f"allowed: {', '.join(TOPOLOGIES)}")
    if s.get("allowed_origins") and s.get("topology", "same-origin") != "cross-origin":
        errors.add("studies.allowed_origins", s["allowed_origins"], "allowed only with topology cross-origin (files "
                   "behind the viewer's own origin need no CORS)")
    s["allowed_origins"] = _read_origins(errors, "studies.allowed_origins", s.get("allowed_origins", []), production)
    return StudiesSettings(**s)


_REALM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _read_auth(errors: _Errors, raw: Any, recipe: Any, production: bool) -> AuthSettings | None:
    if recipe not in AUTH_RECIPES:
        if raw is not None:
            errors.add("auth", _parse_json(raw), f"allowed only with recipe {', '.join(AUTH_RECIPES)}")
        return None
    if raw is None:
        errors.add("auth.realm", None, f"required for recipe {recipe}: the Keycloak realm users log in to")
        return AuthSettings()
    a = _read_object(errors, "auth", raw, AuthSettings)
    if "realm" not in a:
        errors.add("auth.realm", None, f"required for recipe {recipe}: the Keycloak realm users log in to")
    elif not (isinstance(a["realm"], str) and _REALM.match(a["realm"])):
        errors.add("auth.realm", a["realm"], "allowed: letters, digits, - and _ (up to 64)")
    if "keycloak_url" in a and (problem := _url_problem(str(a["keycloak_url"]), production)):
        errors.add("auth.keycloak_url", a["keycloak_url"], problem)
    if "keycloak_database_url" in a:
        if "keycloak_url" in a:
            errors.add("auth.keycloak_database_url", a["keycloak_database_url"], "allowed only without "
                       "auth.keycloak_url (it is the database of the Keycloak this recipe provisions)")
        elif problem := _database_url_problem(a["keycloak_database_url"]):
            errors.add("auth.keycloak_database_url", a["keycloak_database_url"], problem)
    for key in ("client_id", "required_role"):
        if key in a and not (isinstance(a[key], str) and _REALM.match(a[key])):
            errors.add(f"auth.{key}", a[key], "allowed: letters, digits, - and _ (up to 64)")
    if "require_pkce" in a:
        a["require_pkce"] = _read_bool(errors, "auth.require_pkce", a["require_pkce"])
        if production and a["require_pkce"] is False:
            errors.add("auth.require_pkce", False, "allowed: true only in a production stack (a public client "
                                                     "without PKCE leaks codes to any app on the device)")
    minutes = a.get("access_token_minutes", 5)
    # A bool is an int in Python: `true` must not pass as one minute.
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 60:
        errors.add("auth.access_token_minutes", minutes, "allowed: a whole number from 1 to 60")
    return AuthSettings(**a)


def _database_url_problem(value: Any) -> str | None:
    parts = urlsplit(value) if isinstance(value, str) else None
    try:
        parts and parts.port
    except ValueError:
        parts = None
    if not (parts and parts.scheme == "postgresql" and parts.hostname and parts.username and not parts.password
            and _DB_URL_PATH.match(parts.path) and not parts.query and not parts.fragment):
        return ("allowed: postgresql://<user>@<host>[:port]/<database>, without the password (it goes in the secret "
                f"{NAMESPACE}:{DATABASE_PASSWORD_KEY})")
    return None


def _parse_scalar_bool(errors: _Errors, key: str, raw: Any, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, str) and raw in ("true", "false"):
        return raw == "true"
    return _read_bool(errors, key, raw)


def load(config: Mapping[str, Any]) -> StackSettings:
    """The settings from raw `ohif:*` config values (strings; structured keys as JSON), or ConfigError."""
    errors = _Errors()
    ours = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    known = ("recipe", "cloud", "production", "highly_available", "viewer", "access", "archive", "auth", "embed",
             "studies", *CLOUD_SECTIONS, DATABASE_PASSWORD_KEY)
    for key in sorted(set(ours) - set(known)):
        errors.add(key, ours[key], f"unknown key; allowed: {', '.join(f'{NAMESPACE}:{k}' for k in known)}")
    recipe, cloud = ours.get("recipe"), ours.get("cloud")
    if recipe not in RECIPES:
        errors.add("recipe", recipe, f"allowed: {', '.join(RECIPES)}")
    if cloud not in CLOUDS:
        errors.add("cloud", cloud, f"allowed: {', '.join(CLOUDS)}")
    # Production is the default: a stack must say it is not production to relax the rules.
    production = _parse_scalar_bool(errors, "production", ours.get("production"), default=True)
    highly_available = _parse_scalar_bool(errors, "highly_available", ours.get("highly_available"), default=False)
    viewer = _read_viewer(errors, ours.get("viewer"))
    access = _read_access(errors, ours.get("access"), recipe, production)
    archive = _read_archive(errors, ours.get("archive"), recipe, production, cloud)
    auth = _read_auth(errors, ours.get("auth"), recipe, production)
    embed = _read_embed(errors, ours.get("embed"), recipe, production)
    studies = _read_studies(errors, ours.get("studies"), recipe, cloud, production)
    if embed is not None and "script" in embed.modes and archive.uses_proxy and archive.topology == "same-origin":
        errors.add("archive.topology", archive.topology, "allowed: cross-origin with embed mode script (the v2 viewer "
                   "runs in the host's page, so it calls the proxy at its own URL, with CORS)")
    if highly_available and archive.uses_proxy and archive.scale.min_instances < 2:
        errors.add("archive.scale.min_instances", archive.scale.min_instances, "allowed: 2 or more in a highly "
                   "available stack (ohif:highly_available), so that losing one proxy loses no reader")
    scaled = archive.uses_proxy and archive.scale.grouped
    if scaled and cloud == "local" and archive.topology != "same-origin" and archive.scale.min_instances > 1:
        errors.add("archive.scale.min_instances", archive.scale.min_instances, "allowed: 1 in a local stack with "
                   "topology cross-origin (the sandbox balances several proxies behind the viewer's site only)")
    if auth is not None and archive.dicomweb_url is not None:
        errors.add("archive.dicomweb_url", archive.dicomweb_url, f"not with recipe {recipe}: tokens are checked by "
                   "the DICOMweb proxy, so give archive.upstream_url instead")
    service = archive.healthimaging
    if cloud == "aws" and service is not None and service.region and service.region != config.get("aws:region"):
        errors.add("archive.healthimaging.region", service.region, f"allowed: the stack's aws:region "
                   f"({config.get('aws:region', 'not set')}): the proxy reaches the datastore through an interface "
                   "endpoint in its own VPC, which serves its own region")
    # A key for another cloud would be ignored: refuse it.
    for section, section_cloud in CLOUD_SECTIONS.items():
        if section in ours and cloud != section_cloud and cloud in CLOUDS:
            errors.add(section, _parse_json(ours[section]), f"allowed only with ohif:cloud {section_cloud}, not {cloud}")
    for key in sorted(config):
        namespace = key.split(":", 1)[0]
        if namespace in PROVIDER_NAMESPACES and cloud != PROVIDER_NAMESPACES[namespace] and cloud in CLOUDS:
            errors.lines.append(f"{key} = {json.dumps(config[key])}: allowed only with ohif:cloud "
                                f"{PROVIDER_NAMESPACES[namespace]}, not {cloud}")
    has_vms = archive.uses_proxy or (auth is not None and not auth.keycloak_url)
    managed_db = auth is not None and not auth.keycloak_url and not auth.keycloak_database_url
    aws = _read_aws(errors, ours.get("aws"), viewer, has_vms, managed_db, production) if cloud == "aws" else None
    azure = _read_azure(errors, ours.get("azure"), has_vms, managed_db, production) if cloud == "azure" else None
    # The existing database's password: a secret of the stack, exactly when that database is named.
    existing_db = auth is not None and bool(auth.keycloak_database_url)
    if existing_db and cloud in CLOUD_SECTIONS and DATABASE_PASSWORD_KEY not in ours:
        errors.add(DATABASE_PASSWORD_KEY, None, "required with auth.keycloak_database_url (pulumi config set --secret "
                   f"{NAMESPACE}:{DATABASE_PASSWORD_KEY} ...)")
    if DATABASE_PASSWORD_KEY in ours and not existing_db:
        errors.add(DATABASE_PASSWORD_KEY, "[secret]", "allowed only with auth.keycloak_database_url")
    if cloud == "local":
        _check_local(errors, viewer, auth)
    if auth is not None and auth.keycloak_url and cloud in CLOUD_SECTIONS:
        # The provider's admin login for an existing Keycloak, in Pulumi's own keycloak: namespace.
        for key in ("keycloak:username", "keycloak:password"):
            if key not in config:
                errors.lines.append(f"{key} = (missing): required with ohif:auth.keycloak_url (pulumi config set "
                                    f"{'--secret ' if key.endswith('password') else ''}{key} ...)")
    errors.raise_if_any()
    return StackSettings(recipe=recipe, cloud=cloud, production=production, highly_available=highly_available,
                         viewer=viewer, access=access,
                         archive=archive, auth=auth, embed=embed, studies=studies, aws=aws, azure=azure)


def _check_local(errors: _Errors, viewer: ViewerSettings, auth: AuthSettings | None) -> None:
    """What the sandbox cannot do on this machine."""
    if viewer.domain:
        errors.add("viewer.domain", viewer.domain, "not in a local stack: the sandbox serves on 127.0.0.1")
    if auth is not None:
        url = urlsplit(auth.keycloak_url or "")
        if not (url.scheme == "https" and url.hostname and _is_loopback(url.hostname) and url.port):
            errors.add("auth.keycloak_url", auth.keycloak_url, "required in a local stack: https://127.0.0.1:<port>, "
                       "where the sandbox starts Keycloak")


def from_pulumi() -> StackSettings:
    """The settings of the stack `pulumi up` is running (or that a test set with set_all_config)."""
    raw = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    settings = load(raw)
    if settings.cloud == "local":
        raise ConfigError('invalid stack config: ohif:cloud = "local": this stack runs in the sandbox '
                          "(python -m sandbox up --stack <name>), not with pulumi up")
    return settings


def read_stack_file(path: Path) -> dict[str, str]:
    """A `Pulumi.<stack>.yaml`'s config as Pulumi hands it to the program: strings, objects as JSON."""
    doc = yaml.safe_load(path.read_text()) or {}
    raw: dict[str, str] = {}
    for key, value in (doc.get("config") or {}).items():
        if isinstance(value, (dict, list)):
            raw[key] = json.dumps(value)
        elif isinstance(value, bool):
            raw[key] = "true" if value else "false"
        else:
            raw[key] = str(value)
    return raw
