"""DicomwebProxy on AWS: the rendered nginx proxy on an OriginVm, reachable only through CloudFront.

With `own_url` the proxy gets a distribution of its own (CORS allows the viewer's origin); otherwise
a site's distribution mounts its `route` at `/dicom-web/*`. HTTPS ends at CloudFront; from there the VM is
reached through a CloudFront VPC origin, inside AWS's network (components/aws/origin_vm.py): one VM, or with
`scale` an Auto Scaling group behind an internal Network Load Balancer that checks each VM's health port.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws.healthimaging import DatastoreAccess, DatastoreAccessArgs
from components.aws.origin_vm import (
    ALL_METHODS,
    ALL_VIEWER,
    AMAZON_DNS,
    READS,
    OriginRoute,
    OriginVm,
    OriginVmArgs,
    Placement,
    origin_secret,
    own_distribution,
)
from components.aws.share_store import ShareStore, ShareStoreArgs
from components.aws.vm_secrets import VmSecrets, VmSecretsArgs
from components.proxy_host import OriginHeader, ProxyHost
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.origin import SharedSecretCheck
from components.share_keys import share_keys
from components.target import ProxySpec
from settings.services import HEALTHIMAGING

PURPOSE = "ohif-dicomweb-proxy"


@dataclass
class DicomwebProxyArgs:
    spec: ProxySpec
    """What the proxy serves and reads (components/target.py); its archive service, if any, is HealthImaging."""
    placement: Placement
    """The VPC and private subnet of the VM (the one that reaches the archive)."""
    own_url: bool = False
    """Serve through a distribution of its own (with CORS), rather than through a site's."""
    instance_type: str = "t3.small"
    """The VM's size."""
    price_class: str = "PriceClass_100"
    """Edge locations of the proxy's own distribution."""
    web_acl_id: pulumi.Input[str] | None = None
    """The WAF web ACL (its ARN) in front of the proxy's own distribution: who may reach it, and how fast."""


class DicomwebProxy(pulumi.ComponentResource):
    route: OriginRoute
    """How a site's distribution mounts the proxy at /dicom-web/*."""
    url: pulumi.Output[str] | None
    """The proxy's own HTTPS DICOMweb root; None without `own_url`."""

    def __init__(self, name: str, args: DicomwebProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:DicomwebProxy", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        secret = origin_secret(f"{name}-origin-secret", child)
        host = ProxyHost(name, args.spec, own_url=args.own_url, resolver=AMAZON_DNS, reads=HEALTHIMAGING,
                         origin_header=OriginHeader(SharedSecretCheck, secret, secret=True))
        # The origin check's value and the share links' keys are secrets: the VM fetches them at boot
        # (components/aws/vm_secrets.py).
        keys = share_keys(name, args.spec.share, child) if args.spec.share else None
        secrets = VmSecrets(name, VmSecretsArgs(purpose=PURPOSE, files=host.secret_files(keys)), opts=child)
        # Share links' records and revocations, in a bucket only the proxy's role reaches.
        store = ShareStore(name, ShareStoreArgs(role_name=secrets.role_name), opts=child).at if args.spec.share \
            else None
        vm = OriginVm(name, OriginVmArgs(purpose=PURPOSE, user_data=host.cloud_init(secrets.fetch, store),
                                         placement=args.placement, egress=host.egress,
                                         instance_type=args.instance_type,
                                         instance_profile=secrets.instance_profile_name, scale=host.scale,
                                         health_check=host.health_check),
                      opts=child)
        service = args.spec.archive_service
        if service is not None:
            DatastoreAccess(name, DatastoreAccessArgs(
                service=service, role_name=secrets.role_name, vpc_id=args.placement.vpc_id,
                subnet_id=args.placement.subnet_id, proxy_security_group_id=vm.security_group_id), opts=child)
        self.route = OriginRoute(origin_id="dicomweb-proxy", domain_name=vm.origin_domain,
                                 vpc_origin_id=vm.vpc_origin_id, secret=secret,
                                 # Uploads and share links are POSTs.
                                 methods=ALL_METHODS if args.spec.enable_stow or args.spec.share else READS,
                                 path_pattern=f"{DICOMWEB_PATH}/*",
                                 # The viewer's Host: the proxy names its public root with it in its answers
                                 # and, mounted, knows which Origin is its own.
                                 origin_request_policy=ALL_VIEWER)
        self.url = None
        if args.own_url:
            distribution = own_distribution(f"{name}-cdn", self.route, "OHIF DICOMweb proxy", args.price_class,
                                            args.web_acl_id, child)
            self.url = pulumi.Output.concat("https://", distribution.domain_name, DICOMWEB_PATH)
        self.register_outputs({"url": self.url})
