"""DicomwebProxy on AWS: the rendered nginx proxy on an OriginVm, reachable only through CloudFront.

With `own_url` the proxy gets a distribution of its own (CORS allows the viewer's origin); otherwise
a site's distribution mounts its `route` at `/dicom-web/*`. HTTPS ends at CloudFront; from there the VM is
reached through a CloudFront VPC origin, inside AWS's network (components/aws/origin_vm.py): one VM, or with
`scale` an Auto Scaling group behind an internal Network Load Balancer that checks each VM's health port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi

from components.aws.origin_vm import (ALL_METHODS, ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST, AMAZON_DNS, READS, OriginRoute, OriginVm, OriginVmArgs, Placement,
                                      origin_secret, own_distribution)
from components.aws.healthimaging import DatastoreAccess, DatastoreAccessArgs
from components.aws.vm_secrets import VmSecrets, VmSecretsArgs
from components.render.cloud_init import VM_HEALTH_PORT, render_proxy_cloud_init
from components.render.proxy_nginx import (DICOMWEB_PATH, HEALTH_PATH, ORIGIN_CHECK_PATH, ORIGIN_VERIFY_HEADER,
                                           TokenCheck, render_origin_check)
from settings import ScaleSettings
from settings.services import HEALTHIMAGING, ArchiveService

@dataclass
class DicomwebProxyArgs:
    upstream_url: pulumi.Input[str]
    """The archive's DICOMweb root, as the VM reaches it."""
    placement: Placement
    """The VPC and private subnet of the VM (the one that reaches the archive)."""
    own_url: bool = False
    """Serve through a distribution of its own (with CORS), rather than through a site's."""
    allowed_origins: pulumi.Input[Sequence[str]] = ()
    """Browser origins the proxy serves at its own URL (CORS allows them; any other is refused). Mounted on a site,
    it serves the site's origin, which reaches it as the Host the CDN forwards."""
    enable_stow: bool = False
    """Pass STOW-RS uploads to the archive."""
    token_check: pulumi.Input[TokenCheck] | None = None
    """Require a token of this realm on every DICOMweb request (user-account-control)."""
    instance_type: str = "t3.small"
    """The VM's size."""
    scale: ScaleSettings = field(default_factory=ScaleSettings)
    """One VM where at most one runs (the cheapest); else an Auto Scaling group behind a balancer."""
    price_class: str = "PriceClass_100"
    """Edge locations of the proxy's own distribution."""
    web_acl_id: pulumi.Input[str] | None = None
    """The WAF web ACL (its ARN) in front of the proxy's own distribution: who may reach it, and how fast."""
    archive_service: ArchiveService | None = None
    """A HealthImaging datastore at `upstream_url`, which the VM's role may read (components/aws/healthimaging.py)."""


class DicomwebProxy(pulumi.ComponentResource):
    route: OriginRoute
    """How a site's distribution mounts the proxy at /dicom-web/*."""
    dicomweb_url: pulumi.Output[str] | None
    """The proxy's own HTTPS DICOMweb root; None without `own_url`."""

    def __init__(self, name: str, args: DicomwebProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:DicomwebProxy", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        secret = origin_secret(f"{name}-origin-secret", child)
        # The origin check's value is a secret: the VM fetches it at boot (components/aws/vm_secrets.py).
        secrets = VmSecrets(name, VmSecretsArgs(purpose="ohif-dicomweb-proxy", files=secret.apply(
            lambda value: {ORIGIN_CHECK_PATH: render_origin_check(ORIGIN_VERIFY_HEADER, value)})), opts=child)
        service = args.archive_service
        if service is not None and service.kind != HEALTHIMAGING:
            raise ValueError(f"{name}: an AWS proxy reads HealthImaging, not {service.kind}")
        user_data = pulumi.Output.all(args.upstream_url, args.allowed_origins, args.token_check, secrets.fetch).apply(
            lambda a: render_proxy_cloud_init(upstream_url=a[0], allowed_origins=a[1], enable_stow=args.enable_stow,
                                              origin_check=ORIGIN_CHECK_PATH, resolver=AMAZON_DNS,
                                              token_check=a[2], serve_own_host=not args.own_url, fetch_secrets=a[3],
                                              archive_auth=service.auth if service else None))
        vm = OriginVm(name, OriginVmArgs(purpose="ohif-dicomweb-proxy", user_data=user_data, placement=args.placement,
                                         archive_url=args.upstream_url, instance_type=args.instance_type,
                                         instance_profile=secrets.instance_profile_name,
                                         scale=args.scale if args.scale.grouped else None,
                                         health_check=(VM_HEALTH_PORT, HEALTH_PATH)),
                      opts=child)
        if service is not None:
            DatastoreAccess(name, DatastoreAccessArgs(
                service=service, role_name=secrets.role_name, vpc_id=args.placement.vpc_id,
                subnet_id=args.placement.subnet_id, proxy_security_group_id=vm.security_group_id), opts=child)
        methods = ALL_METHODS if args.enable_stow else READS
        self.route = OriginRoute(origin_id="dicomweb-proxy", domain_name=vm.origin_domain,
                                 vpc_origin_id=vm.vpc_origin_id, secret=secret,
                                 methods=methods, path_pattern=f"{DICOMWEB_PATH}/*",
                                 # Mounted, the viewer's Host tells the proxy which Origin is its own.
                                 origin_request_policy=ALL_VIEWER_EXCEPT_HOST if args.own_url else ALL_VIEWER)
        self.dicomweb_url = None
        if args.own_url:
            distribution = own_distribution(f"{name}-cdn", self.route, "OHIF DICOMweb proxy", args.price_class,
                                            args.web_acl_id, child)
            self.dicomweb_url = pulumi.Output.concat("https://", distribution.domain_name, DICOMWEB_PATH)
        self.register_outputs({"dicomweb_url": self.dicomweb_url})
