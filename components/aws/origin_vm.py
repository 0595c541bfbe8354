"""OriginVm: a hardened Debian 12 VM that only CloudFront can reach, the base of the proxy and Keycloak hosts.

    CloudFront --HTTP + X-Origin-Verify secret--> Elastic IP --> VM (nginx on :80)

The security group admits CloudFront's origin-facing addresses on port 80 alone, and the VM's nginx
refuses requests without the generated secret. No SSH: no key pair, no port 22. IMDSv2 only, the
root volume encrypted, and the user data (which holds the secret) kept secret in the state.

A CDN reaches the VM through an `OriginRoute`: plain data (the address, the secret, the path), so a
distribution can name the VM without taking the component.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.render.proxy_nginx import ORIGIN_VERIFY_HEADER

DEBIAN_ACCOUNT = "136693071363"  # Debian's official AMI publisher (wiki.debian.org/Cloud/AmazonEC2Image)
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# AWS managed policies (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-*.html).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# A distribution whose origins carry the origin secret keeps them encrypted in the state.
SECRET_ORIGINS = ["origins"]
AMAZON_DNS = "169.254.169.253"  # the VPC resolver, at this address in every VPC
READS = ["GET", "HEAD", "OPTIONS"]
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


def origin_secret(name: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """A generated X-Origin-Verify value, secret explicitly: it travels in the CDN's config and the user data."""
    return pulumi.Output.secret(random.RandomPassword(name, length=40, special=False, opts=opts).result)


@dataclass(frozen=True)
class OriginRoute:
    """How a CloudFront distribution reaches an OriginVm."""

    origin_id: str
    domain_name: pulumi.Input[str]
    """The VM's public DNS name (its Elastic IP)."""
    secret: pulumi.Input[str]
    """The X-Origin-Verify value the VM's nginx requires."""
    methods: list[str] = field(default_factory=lambda: list(READS))
    origin_request_policy: str = ALL_VIEWER_EXCEPT_HOST
    path_pattern: str = "*"

    def origin(self) -> aws.cloudfront.DistributionOriginArgs:
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=self.origin_id, domain_name=self.domain_name,
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80, https_port=443, origin_protocol_policy="http-only",
                origin_ssl_protocols=["TLSv1.2"], origin_read_timeout=60),
            custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
                name=ORIGIN_VERIFY_HEADER, value=self.secret)])

    def behavior_args(self) -> dict:
        # Not cached: patient data and logins are per user, and the VM is the one source of truth. With caching
        # disabled, the AllViewer* origin request policies also forward the Authorization header (AWS re:Post
        # knowledge-center/cloudfront-authorization-header), which the token check needs.
        return dict(target_origin_id=self.origin_id, viewer_protocol_policy="https-only",
                    allowed_methods=self.methods, cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=self.origin_request_policy, compress=True)

    def ordered_behavior(self) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
        return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(path_pattern=self.path_pattern,
                                                                   **self.behavior_args())


def own_distribution(name: str, route: OriginRoute, comment: str, price_class: str,
                     opts: pulumi.ResourceOptions) -> aws.cloudfront.Distribution:
    """A distribution of the route's own: the VM's HTTPS name on cloudfront.net."""
    return aws.cloudfront.Distribution(
        name, enabled=True, comment=comment, price_class=price_class,
        http_version="http2and3", is_ipv6_enabled=True, origins=[route.origin()],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            **route.behavior_args(), response_headers_policy_id=SECURITY_HEADERS_POLICY),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
        viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_ORIGINS)))


@dataclass
class OriginVmArgs:
    purpose: str
    """What the VM is for, in its security group description and Name tag."""
    user_data: pulumi.Input[str]
    """Its cloud-init (it holds the origin secret, so it is kept secret in the state)."""
    instance_type: str = "t3.small"
    """The VM's size."""
    volume_size: int = 10
    """The root volume, in GiB."""


class OriginVm(pulumi.ComponentResource):
    origin_domain: pulumi.Output[str]
    """The Elastic IP's public DNS name, which CloudFront uses as the origin."""

    def __init__(self, name: str, args: OriginVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:OriginVm", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        vpc = aws.ec2.get_vpc_output(default=True, opts=pulumi.InvokeOutputOptions(parent=self))
        cloudfront = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_ORIGIN_FACING,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=vpc.id, description=f"{args.purpose}: HTTP from CloudFront only; no SSH",
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=80, to_port=80, prefix_list_ids=[cloudfront.id],
                description="CloudFront origin-facing")],
            # Out: package updates, and the archive or database, which may live anywhere the VM can route to.
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0,
                                                    cidr_blocks=["0.0.0.0/0"], ipv6_cidr_blocks=["::/0"])],
            opts=child)
        address = aws.ec2.Eip(f"{name}-ip", domain="vpc", tags={"Name": f"{name}-{args.purpose}"}, opts=child)
        ami = aws.ec2.get_ami_output(owners=[DEBIAN_ACCOUNT], most_recent=True, filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=["debian-12-amd64-*"]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"])],
            opts=pulumi.InvokeOutputOptions(parent=self))
        vm = aws.ec2.Instance(
            f"{name}-vm", ami=ami.id, instance_type=args.instance_type,
            vpc_security_group_ids=[security_group.id],
            user_data=args.user_data, user_data_replace_on_change=True,
            # IMDSv2 only, one hop: a request forged through nginx cannot reach instance credentials.
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=args.volume_size, encrypted=True),
            tags={"Name": f"{name}-{args.purpose}"},
            # Stored encrypted even if a fork replaces the generated secret with a literal.
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["user_data"]))
        aws.ec2.EipAssociation(f"{name}-ip-association", allocation_id=address.allocation_id, instance_id=vm.id,
                               opts=child)
        self.origin_domain = address.public_dns
        self.register_outputs({"origin_domain": self.origin_domain})
