"""ArchiveProxy on AWS: a hardened Debian VM running the rendered nginx proxy, reachable only via CloudFront.

The VM accepts port 80 from CloudFront's origin-facing addresses alone, and nginx refuses any request
without the generated X-Origin-Verify secret, so the CDN is the only way in. HTTPS ends at CloudFront.
Where the CDN sits depends on the topology: `same_origin` puts the proxy behind the viewer's own
distribution (StaticSite adds the behaviour with `cdn_origin()`/`cdn_behavior()`); otherwise the proxy
gets a distribution of its own and its own URL, and CORS allows the viewer's origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.archive_proxy_nginx import DICOMWEB_PATH, ORIGIN_VERIFY_HEADER, render_proxy_conf
from components.cloud_init import render_cloud_init

DEBIAN_ACCOUNT = "136693071363"  # Debian's official AMI publisher (wiki.debian.org/Cloud/AmazonEC2Image)
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# AWS managed policies (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-*.html).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# A distribution whose origins carry the origin secret keeps them encrypted in the state.
SECRET_ORIGINS = ["origins"]
AMAZON_DNS = "169.254.169.253"  # the VPC resolver, at this address in every VPC


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


class ArchiveProxy(pulumi.ComponentResource):
    origin_domain: pulumi.Output[str]
    """The VM's public DNS name, which CloudFront uses as the origin."""
    origin_secret: pulumi.Output[str]
    """The X-Origin-Verify value CloudFront sends and nginx requires (a secret)."""
    dicomweb_url: pulumi.Output[str] | None
    """The proxy's own HTTPS DICOMweb root; None when it is served through the viewer's distribution."""

    def __init__(self, name: str, args: ArchiveProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:ArchiveProxy", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.enable_stow = args.enable_stow

        # Secret explicitly: it travels in the CDN's origin config and the VM's user data.
        self.origin_secret = pulumi.Output.secret(random.RandomPassword(
            f"{name}-origin-secret", length=40, special=False, opts=child).result)
        user_data = pulumi.Output.all(args.upstream_url, args.allowed_origins, self.origin_secret).apply(
            lambda a: render_cloud_init(render_proxy_conf(
                listen="80", upstream_url=a[0], allowed_origins=() if args.same_origin else a[1],
                enable_stow=args.enable_stow, origin_secret=a[2], resolver=AMAZON_DNS)))

        vpc = aws.ec2.get_vpc_output(default=True, opts=pulumi.InvokeOutputOptions(parent=self))
        cloudfront = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_ORIGIN_FACING,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
        group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=vpc.id,
            description="OHIF archive proxy: HTTP from CloudFront only; no SSH",
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=80, to_port=80, prefix_list_ids=[cloudfront.id],
                description="CloudFront origin-facing")],
            # Out: package updates and the archive, which may live anywhere the VM can route to.
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0,
                                                    cidr_blocks=["0.0.0.0/0"], ipv6_cidr_blocks=["::/0"])],
            opts=child)
        ami = aws.ec2.get_ami_output(owners=[DEBIAN_ACCOUNT], most_recent=True, filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=["debian-12-amd64-*"]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"])],
            opts=pulumi.InvokeOutputOptions(parent=self))
        vm = aws.ec2.Instance(
            f"{name}-vm", ami=ami.id, instance_type=args.instance_type,
            vpc_security_group_ids=[group.id],
            user_data=user_data, user_data_replace_on_change=True,
            # IMDSv2 only, one hop: a request forged through nginx cannot reach instance credentials.
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(volume_type="gp3", volume_size=10,
                                                                  encrypted=True),
            tags={"Name": f"{name}-ohif-archive-proxy"},
            # Stored encrypted even if a fork replaces the generated secret with a literal.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["user_data"]))
        address = aws.ec2.Eip(f"{name}-ip", domain="vpc", instance=vm.id, opts=child)
        self.origin_domain = address.public_dns

        self.dicomweb_url = None
        distribution_id = None
        if not args.same_origin:
            distribution = aws.cloudfront.Distribution(
                f"{name}-cdn", enabled=True, comment="OHIF archive proxy", price_class=args.price_class,
                http_version="http2and3", is_ipv6_enabled=True,
                origins=[self.cdn_origin("archive-proxy")],
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    **self._behavior_args("archive-proxy"), response_headers_policy_id=SECURITY_HEADERS_POLICY),
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
                viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=SECRET_ORIGINS))
            self.dicomweb_url = pulumi.Output.concat("https://", distribution.domain_name, DICOMWEB_PATH)
            distribution_id = distribution.id

        self.register_outputs({"origin_domain": self.origin_domain, "origin_secret": self.origin_secret,
                               "dicomweb_url": self.dicomweb_url, "distribution_id": distribution_id})

    def cdn_origin(self, origin_id: str) -> aws.cloudfront.DistributionOriginArgs:
        """The VM as a CloudFront origin, with the secret header nginx requires."""
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=origin_id, domain_name=self.origin_domain,
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80, https_port=443, origin_protocol_policy="http-only",
                origin_ssl_protocols=["TLSv1.2"], origin_read_timeout=60),
            custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
                name=ORIGIN_VERIFY_HEADER, value=self.origin_secret)])

    def cdn_behavior(self, origin_id: str) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
        """The `/dicom-web/*` behaviour for the viewer's own distribution (same-origin topology)."""
        return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=f"{DICOMWEB_PATH}/*", **self._behavior_args(origin_id))

    def _behavior_args(self, origin_id: str) -> dict:
        # Not cached: studies are patient data, and the archive is the one source of truth.
        writes = ["POST", "PUT", "PATCH", "DELETE"] if self.enable_stow else []
        return dict(
            target_origin_id=origin_id, viewer_protocol_policy="https-only",
            allowed_methods=["GET", "HEAD", "OPTIONS", *writes], cached_methods=["GET", "HEAD"],
            cache_policy_id=CACHING_DISABLED, origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST, compress=True)
