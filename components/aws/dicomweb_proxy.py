"""ArchiveProxy on AWS: the rendered nginx proxy on an OriginVm, reachable only through CloudFront.

Where the CDN sits depends on the topology: `same_origin` puts the proxy behind the viewer's own
distribution (StaticSite adds `cdn_origin()`/`cdn_behavior()`); otherwise the proxy gets a distribution
of its own and its own URL, and CORS allows the viewer's origin. HTTPS ends at CloudFront.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws

from components.render.proxy_nginx import DICOMWEB_PATH, TOKEN_CHECK_MODULE, JwtAuth, render_proxy_conf
from components.aws.origin_vm import ALL_METHODS, ALL_VIEWER_EXCEPT_HOST, AMAZON_DNS, READS, OriginVm, OriginVmArgs
from components.render.cloud_init import render_cloud_init

ORIGIN_ID = "archive-proxy"
# Where the proxy VM keeps the token check and the cached realm keys.
NJS_MODULE_PATH = "/etc/nginx/njs/ohif_token_check.js"
JWKS_CACHE_DIR = "/var/cache/nginx/ohif-jwks"


@dataclass
class ArchiveProxyArgs:
    upstream_url: pulumi.Input[str]
    """The archive's DICOMweb root, as the VM reaches it."""
    same_origin: bool = True
    """Serve through the viewer's distribution (no CORS) rather than a distribution of its own."""
    allowed_origins: pulumi.Input[Sequence[str]] = ()
    """Browser origins CORS allows; only used with a distribution of its own."""
    enable_stow: bool = False
    """Pass STOW-RS uploads to the archive."""
    instance_type: str = "t3.small"
    """The VM's size."""
    price_class: str = "PriceClass_100"
    """Edge locations of the proxy's own distribution."""
    auth: pulumi.Input[JwtAuth] | None = None
    """Require a token of this realm on every DICOMweb request (user-account-control)."""


class ArchiveProxy(pulumi.ComponentResource):
    dicomweb_url: pulumi.Output[str] | None
    """The proxy's own HTTPS DICOMweb root; None when it is served through the viewer's distribution."""

    def __init__(self, name: str, args: ArchiveProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:ArchiveProxy", name, {}, opts)
        self._methods = ALL_METHODS if args.enable_stow else READS
        self.vm = OriginVm(name, OriginVmArgs(purpose="ohif-archive-proxy", instance_type=args.instance_type),
                           opts=pulumi.ResourceOptions(parent=self))
        self.vm.launch(pulumi.Output.all(args.upstream_url, args.allowed_origins, self.vm.origin_secret,
                                         args.auth).apply(
            lambda a: render_cloud_init(render_proxy_conf(
                listen="80", upstream_url=a[0], allowed_origins=() if args.same_origin else a[1],
                enable_stow=args.enable_stow, origin_secret=a[2], resolver=AMAZON_DNS, auth=a[3]),
                extra_files={a[3].module_path: TOKEN_CHECK_MODULE.read_text()} if a[3] else None)))

        self.dicomweb_url = None
        distribution_id = None
        if not args.same_origin:
            distribution = self.vm.own_distribution(ORIGIN_ID, "OHIF archive proxy", args.price_class, self._methods)
            self.dicomweb_url = pulumi.Output.concat("https://", distribution.domain_name, DICOMWEB_PATH)
            distribution_id = distribution.id
        self.register_outputs({"dicomweb_url": self.dicomweb_url, "distribution_id": distribution_id})

    def cdn_origin(self) -> aws.cloudfront.DistributionOriginArgs:
        return self.vm.cdn_origin(ORIGIN_ID)

    def cdn_behavior(self) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
        """The `/dicom-web/*` behaviour for the viewer's own distribution (same-origin topology)."""
        return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=f"{DICOMWEB_PATH}/*",
            **OriginVm.behavior_args(ORIGIN_ID, self._methods, ALL_VIEWER_EXCEPT_HOST))
