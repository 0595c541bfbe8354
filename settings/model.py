"""The stack's settings as typed data: what `settings.load()` returns, and the vocabulary its readers check against.

Data only (dataclasses and constants, no pulumi, nothing of components/), so that anything may import it: the
recipes, the components, the sandbox and the readers beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from settings.services import DICOM_SERVICE, HEALTHIMAGING, ArchiveService, dicom_service_url, healthimaging_url

NAMESPACE = "ohif"
PROJECT = Path(__file__).resolve().parent.parent
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
# Which clouds can reach each archive service (the sandbox stands in for both).
SERVICE_CLOUDS = {"healthimaging": ("aws", "local"), "dicom_service": ("azure", "local")}
ARCHIVE_SOURCES = ("dicomweb_url", "upstream_url", *SERVICE_CLOUDS)


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


UNSCOPED_READERS = ("archive", "refused")
"""What a reader whose token lists no studies may read: the whole archive, or nothing."""


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
    unscoped_readers: str = "archive"
    """What a reader whose account lists no studies reads: the whole archive, or nothing ("refused"). A production
    stack states it."""
    keycloak_database_url: str | None = None
    """An existing PostgreSQL for the provisioned Keycloak, postgresql://<user>@<host>[:port]/<database> (its password
    in the secret ohif:keycloak_database_password); None creates the cloud's managed PostgreSQL."""


SHARE_MINUTES = (5, 43200)
"""How long a share link may last: five minutes to thirty days."""
SHARE_KEY_ID = r"^[A-Za-z0-9_-]{1,32}$"


@dataclass(frozen=True)
class ShareSettings:
    """Share links: one study, for a while, to someone without an account (the proxy signs and checks them)."""

    sharer_role: str = "dicom-sharer"
    """The realm role a user needs to create a link; they may share only studies they read themselves."""
    admin_role: str = "dicom-share-admin"
    """The realm role of a sharer who may revoke anyone's link (a creator revokes their own)."""
    default_minutes: int = 4320
    """A link's lifetime where its creator names none: three days."""
    max_minutes: int = 10080
    """The longest lifetime a link may be given: seven days."""
    signing_keys: tuple[str, ...] = ("k1",)
    """The IDs (`kid`) of the stack's signing keys, each generated as a secret: the last signs new links, every one
    listed verifies them. Add an ID to rotate; remove the old one when its links should stop working."""


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
    share: ShareSettings | None = None
    """Share links; only with login."""
    embed: EmbedSettings | None = None
    """Present exactly for the embedded recipe."""
    studies: StudiesSettings | None = None
    """Present exactly for the dicom-json recipe."""
    aws: AwsSettings | None = None
    """Present exactly when cloud is aws."""
    azure: AzureSettings | None = None
    """Present exactly when cloud is azure."""


# Azure Flexible Server's compute tiers, by the letter its sizes start with (Standard_B1ms, Standard_D2ds_v5, ...).
AZURE_DB_TIERS = {"B": "Burstable", "D": "GeneralPurpose", "E": "MemoryOptimized"}
MAX_BACKUP_DAYS = 35  # both clouds' longest automated backup retention
PRODUCTION_BACKUP_DAYS = 7
DATABASE_PASSWORD_KEY = "keycloak_database_password"
"""The stack's secret with the password of an existing Keycloak database (auth.keycloak_database_url)."""


def default_resource_group(stack: str) -> str:
    """The resource group an Azure stack creates where azure.resource_group is not set (components/azure/target.py)."""
    return f"ohif-{stack}"


def database_tier(sku: str) -> str:
    """An Azure Flexible Server size's tier: Burstable, GeneralPurpose or MemoryOptimized."""
    return AZURE_DB_TIERS[sku.split("_")[1][0]]
