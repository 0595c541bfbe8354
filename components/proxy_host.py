"""ProxyHost: the DICOMweb proxy's VM described once, for every cloud, from the recipe's ProxySpec.

    ProxySpec ──> ProxyHost ──┬── cloud_init()    the rendered nginx proxy and what it loads (with share links,
                              │                   where their store is: each cloud's ShareStore)
                              ├── secret_files()  what it gets apart from its cloud-init (a secret origin check,
                              │                   share links' keys)
                              └── egress          intents: DNS, HTTP(S), the archive, nothing else

Each cloud's DicomwebProxy fills in what only it knows (its resolver, the header its CDN adds, which archive
service its VMs' identity reads) and translates the rest into its own resources: components/aws/dicomweb_proxy.py
(user data, Secrets Manager, a security group) and components/azure/dicomweb_proxy.py (custom data, an NSG).
A new proxy option is read here once, not in each cloud.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.egress import Egress, Reach, egress_plan, url_destination
from components.render.cloud_init import VM_HEALTH_PORT, VM_TOKEN_CHECK_FILES, render_proxy_cloud_init
from components.render.dicomweb_proxy.interface import HEALTH_PATH
from components.render.dicomweb_proxy.origin import FrontDoorCheck, SecretFileCheck, SharedSecretCheck
from components.render.dicomweb_proxy.share_store import ShareStoreAt
from components.render.secret_files import SecretFetch
from components.target import ProxySpec
from settings import ScaleSettings


@dataclass(frozen=True)
class OriginHeader:
    """The header our CDN adds to every request it forwards, before its value is known: the VM's nginx answers 403
    where it does not carry `value`. Once `value` resolves, `kind` is the check (components/render/dicomweb_proxy/
    origin.py); an OriginCheck itself takes a plain value, which a deployment's Output is not until it resolves."""

    kind: type[SharedSecretCheck] | type[FrontDoorCheck]
    """CloudFront's X-Origin-Verify, or Front Door's X-Azure-FDID."""
    value: pulumi.Input[str]
    secret: bool = False
    """A generated secret (CloudFront's X-Origin-Verify) stays out of the cloud-init: the VM writes it at boot from
    its secret files (a SecretFileCheck). A value that is no secret (Front Door's profile id) is written into nginx's
    config."""


@dataclass(frozen=True)
class ProxyHost:
    """A DICOMweb proxy VM, as every cloud runs it."""

    name: str
    """The proxy's name, in messages."""
    spec: ProxySpec
    own_url: bool
    """Served at a URL of its own (CORS for `spec.allowed_origins`), rather than mounted at /dicom-web/ of a site,
    whose origin reaches it as the Host the CDN forwards."""
    origin_header: OriginHeader
    resolver: str
    """The address of the cloud's resolver inside the network, which nginx asks for the archive's name."""
    reads: str
    """The one kind of cloud DICOM service (settings/services.py) the cloud's VMs read with their
    own identity."""

    def __post_init__(self) -> None:
        service = self.spec.archive_service
        if service is not None and service.kind != self.reads:
            raise ValueError(f"{self.name}: a proxy on this cloud reads the archive service {self.reads!r}, "
                             f"not {service.kind!r}")

    @property
    def health_check(self) -> tuple[int, str]:
        """The port and path the cloud's balancer checks: 200 while the archive answers."""
        return VM_HEALTH_PORT, HEALTH_PATH

    @property
    def scale(self) -> ScaleSettings | None:
        """The scale of a group of VMs behind a balancer; None for one VM, the cheapest."""
        return self.spec.scale if self.spec.scale.grouped else None

    @property
    def egress(self) -> tuple[Egress, ...]:
        """Where the VM may connect to: the cloud's resolver, HTTP(S), the archive's host and port, nothing else."""
        return egress_plan(Egress(Reach.ARCHIVE, url_destination(self.spec.upstream_url)))

    @property
    def needs_secrets(self) -> bool:
        """Whether the VM gets secret files: a secret origin header, or share links' keys."""
        return self.origin_header.secret or self.spec.share is not None

    def secret_files(self, share_keys: pulumi.Input[str] | None = None) -> pulumi.Output[dict[str, str]]:
        """The files (path: content) the VM must get from the cloud's secret store, not its cloud-init: a secret
        origin check, and the share links' keys (components/share_keys.py) where the spec has share links."""
        header = self.origin_header
        if (share_keys is None) != (self.spec.share is None):
            raise ValueError(f"{self.name}: share links' keys go with share links, and only with them")
        if not self.needs_secrets:
            return pulumi.Output.from_input({})
        origin = pulumi.Output.secret(header.value).apply(
            lambda value: {SecretFileCheck().path: header.kind(value).directives()}) if header.secret else {}
        keys = {VM_TOKEN_CHECK_FILES.share_keys_path: share_keys} if share_keys is not None else {}
        return pulumi.Output.secret(pulumi.Output.all(origin, keys)).apply(lambda a: {**a[0], **a[1]})

    def cloud_init(self, fetch_secrets: pulumi.Input[SecretFetch] | None = None,
                   share_store: pulumi.Input[ShareStoreAt] | None = None) -> pulumi.Output[str]:
        """The VM's cloud-init; `fetch_secrets` writes `secret_files()` at boot, before nginx starts. With share
        links, `share_store` keeps their records and revocations."""
        spec, header = self.spec, self.origin_header
        if self.needs_secrets and fetch_secrets is None:
            raise ValueError(f"{self.name}: a secret origin header or share links need the secret files fetched at "
                             "boot")
        if (share_store is None) != (spec.share is None):
            raise ValueError(f"{self.name}: share links need their store, and only they do")
        # A secret value is never an input of the cloud-init, which would then be a secret as a whole; its check
        # is included from the file the VM writes at boot.
        public_value = None if header.secret else header.value
        auth = spec.archive_service.auth if spec.archive_service else None
        return pulumi.Output.all(spec.allowed_origins, spec.token_check, public_value, fetch_secrets,
                                 share_store).apply(
            lambda a: render_proxy_cloud_init(
                upstream_url=spec.upstream_url, allowed_origins=a[0], enable_stow=spec.enable_stow,
                origin_check=SecretFileCheck() if header.secret else header.kind(a[2]), resolver=self.resolver,
                token_check=a[1], serve_own_host=not self.own_url, fetch_secrets=a[3], archive_auth=auth,
                share=spec.share, share_store=a[4]))
