"""OriginVm: a hardened Debian 12 VM in a private subnet that only CloudFront reaches, the base of the proxy and
Keycloak hosts.

    CloudFront --VPC origin (inside AWS's network) + X-Origin-Verify secret--> VM (no public address; nginx on :80)

The VM has no public address: CloudFront reaches it through a CloudFront VPC origin, an interface CloudFront
places in the VM's VPC, so nothing crosses the internet in cleartext between the edge and the VM, and nothing
on the internet can reach the VM at all (AWS CloudFront Developer Guide, "Restrict access with VPC origins").
The hop is plain HTTP inside AWS's network: HTTPS to an EC2 VPC origin would need a certificate CloudFront
trusts for the instance's name, which a private DNS name cannot get. The security group admits CloudFront's
origin-facing prefix list on port 80 alone (the prefix list is what VPC origins come from: aws/aws-cdk
aws-cloudfront-origins README, "Restrict traffic coming to the VPC origin"), or, for a VM behind an internal
Network Load Balancer (`balanced`), that balancer alone, whose own group admits the prefix list; the VM's
nginx still refuses requests without the generated secret. Out, it may reach what its egress plan says: the VPC's
resolver, HTTP(S) for Debian's packages and container images, and the archive's or Keycloak's database's host and
port (components/egress.py). No SSH: no key pair, no port 22.
IMDSv2 only, the root volume encrypted, and nothing secret in the user data: the secrets come from Secrets
Manager at boot, through the instance role (components/aws/vm_secrets.py).

A CDN reaches the VM through an `OriginRoute`: plain data (the VPC origin, the secret, the path), so a
distribution can name the VM without taking the component.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws.database import PORT as DATABASE_PORT
from components.aws.network import ANYWHERE, vpc_resolver
from components.egress import Destination, Egress, Reach, egress_plan
from components.render.dicomweb_proxy.interface import ORIGIN_VERIFY_HEADER
from settings import ScaleSettings

DEBIAN_ACCOUNT = "136693071363"  # Debian's official AMI publisher (wiki.debian.org/Cloud/AmazonEC2Image)
DEBIAN_ROOT_DEVICE = "/dev/xvda"  # the root device name of Debian's AMIs
CPU_METRIC = aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs
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
# IMDSv2 only, one hop: a request forged through nginx cannot reach instance credentials.
INSTANCE_METADATA = dict(http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1)
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


def packed_user_data(cloud_init: str) -> str:
    """EC2 takes at most 16 KB of user data (docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html), which a
    proxy's cloud-init with its njs modules outgrows; cloud-init reads gzip, so the VM gets it compressed (base64, as
    EC2 takes bytes). No timestamp: the same cloud-init packs to the same bytes and replaces no VM."""
    return base64.b64encode(gzip.compress(cloud_init.encode(), mtime=0)).decode()


def unpacked_user_data(encoded: str) -> str:
    """The cloud-init `packed_user_data` packed."""
    return gzip.decompress(base64.b64decode(encoded)).decode()


def origin_secret(name: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """A generated X-Origin-Verify value, secret explicitly: it travels in the CDN's config and the user data."""
    return pulumi.Output.secret(random.RandomPassword(name, length=40, special=False, opts=opts).result)


@dataclass(frozen=True)
class OriginRoute:
    """How a CloudFront distribution reaches an OriginVm."""

    origin_id: str
    domain_name: pulumi.Input[str]
    """The VM's private DNS name, which the distribution's origin names (as AWS CDK's VpcOrigin.withEc2Instance
    does)."""
    vpc_origin_id: pulumi.Input[str]
    """The CloudFront VPC origin in front of the VM."""
    secret: pulumi.Input[str]
    """The X-Origin-Verify value the VM's nginx requires."""
    methods: list[str] = field(default_factory=lambda: list(READS))
    origin_request_policy: str = ALL_VIEWER_EXCEPT_HOST
    path_pattern: str = "*"

    def origin(self) -> aws.cloudfront.DistributionOriginArgs:
        # A VPC origin, never a custom origin: no public address, no cleartext on the internet
        # (policy/ohif_policies/aws_cloudfront_no_public_http_origin.py).
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=self.origin_id, domain_name=self.domain_name,
            vpc_origin_config=aws.cloudfront.DistributionOriginVpcOriginConfigArgs(
                vpc_origin_id=self.vpc_origin_id, origin_read_timeout=60, origin_keepalive_timeout=5),
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
                     web_acl_id: pulumi.Input[str] | None, opts: pulumi.ResourceOptions) -> aws.cloudfront.Distribution:
    """A distribution of the route's own: the VM's HTTPS name on cloudfront.net."""
    return aws.cloudfront.Distribution(
        name, enabled=True, comment=comment, price_class=price_class,
        http_version="http2and3", is_ipv6_enabled=True, origins=[route.origin()],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            **route.behavior_args(), response_headers_policy_id=SECURITY_HEADERS_POLICY),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
        viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
        web_acl_id=web_acl_id,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_ORIGINS)))


@dataclass(frozen=True)
class Placement:
    """Where an OriginVm goes: the stack's `aws.vpc_id` and `subnet_ids`, or the recipe's own network
    (components/aws/network.py)."""

    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    """The VPC's primary range, whose base plus two is the resolver DHCP hands the VM."""
    subnet_id: pulumi.Input[str]
    """A private subnet of the VPC, with a way out for package updates (a NAT gateway, or your own route)."""


@dataclass
class OriginVmArgs:
    purpose: str
    """What the VM is for, in its security group description and Name tag."""
    user_data: pulumi.Input[str]
    """Its cloud-init; nothing secret (secrets come through `instance_profile`)."""
    placement: Placement
    """The VPC and private subnet the VM goes in."""
    egress: Sequence[Egress] = egress_plan()
    """Where the VM may connect to (components/egress.py), such as the archive or Keycloak's database."""
    database_security_group_id: pulumi.Input[str] | None = None
    """The managed database's group, which a database intent without a destination reaches."""
    balanced: bool = False
    """Put an internal Network Load Balancer between the VPC origin and the VM. The balancer exists before the VM,
    so the distribution, and its URL, do not wait for the VM: Keycloak needs this, because the proxy's token check
    names Keycloak's URL while Keycloak's realm names the viewer's, whose distribution may carry the proxy."""
    instance_type: str = "t3.small"
    """The VM's size."""
    volume_size: int = 10
    """The root volume, in GiB."""
    instance_profile: pulumi.Input[str] | None = None
    """The instance profile whose role fetches the VM's secrets (components/aws/vm_secrets.py)."""
    scale: ScaleSettings | None = None
    """Run an Auto Scaling group of this size behind the balancer instead of one VM (implies `balanced`)."""
    health_check: tuple[int, str] | None = None
    """With `scale`: the port and path the balancer checks (interface.HEALTH_PATH); an instance that fails it is
    taken out of the balancer and replaced."""


class OriginVm(pulumi.ComponentResource):
    origin_domain: pulumi.Output[str]
    """The VM's (or its balancer's) private DNS name, which the distribution's origin names."""
    vpc_origin_id: pulumi.Output[str]
    """The CloudFront VPC origin through which CloudFront reaches the VM."""
    security_group_id: pulumi.Output[str]
    """The VM's security group, which a database's group may admit."""

    def __init__(self, name: str, args: OriginVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:OriginVm", name, {}, opts)
        balancer_group, security_group = self._security_groups(name, args)
        self.security_group_id = security_group.id
        target_arn, self.origin_domain = self._vms(name, args, security_group, balancer_group)
        self.vpc_origin_id = self._vpc_origin(name, args, target_arn)
        self.register_outputs({"origin_domain": self.origin_domain, "vpc_origin_id": self.vpc_origin_id})

    def _security_groups(self, name: str, args: OriginVmArgs
                         ) -> tuple[aws.ec2.SecurityGroup | None, aws.ec2.SecurityGroup]:
        """The balancer's group (where there is a balancer: HTTP from CloudFront's VPC origins) and the VM's: HTTP from
        the VPC origins or from its balancer alone, and out only where `args.egress` says."""
        child = pulumi.ResourceOptions(parent=self)
        place = args.placement
        cloudfront = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_ORIGIN_FACING,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
        from_cloudfront = aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp", from_port=80, to_port=80, prefix_list_ids=[cloudfront.id],
            description="CloudFront origin-facing (VPC origins)")
        # The balancer reaches the VMs on 80, and on the health check's port where there is one.
        ports = [80] + ([args.health_check[0]] if args.scale and args.health_check else [])
        balancer_group = aws.ec2.SecurityGroup(
            f"{name}-lb-sg", vpc_id=place.vpc_id, description=f"{args.purpose} balancer: HTTP from CloudFront only",
            ingress=[from_cloudfront], egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=port, to_port=port, cidr_blocks=[place.vpc_cidr],
                description="to the VMs" if port == 80 else "health check of the VMs") for port in ports],
            opts=child) if args.balanced or args.scale else None
        from_balancer = [aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp", from_port=port, to_port=port, security_groups=[balancer_group.id],
            description="its balancer (the CloudFront VPC origin)" if port == 80 else "health check from its balancer")
            for port in ports] if balancer_group else None
        egress = pulumi.Output.from_input(place.vpc_cidr).apply(
            lambda cidr: egress_rules(args.egress, [f"{AMAZON_DNS}/32", vpc_resolver(cidr)],
                                      args.database_security_group_id))
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=place.vpc_id,
            description=f"{args.purpose}: HTTP from CloudFront VPC origins only; no SSH",
            ingress=from_balancer or [from_cloudfront], egress=egress, opts=child)
        return balancer_group, security_group

    def _vms(self, name: str, args: OriginVmArgs, group: aws.ec2.SecurityGroup,
             balancer_group: aws.ec2.SecurityGroup | None) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """One VM, alone or behind a balancer, or with `scale` an Auto Scaling group behind one; what the VPC origin
        reaches (its ARN) and the name the distribution's origin gives."""
        place = args.placement
        image_id = aws.ec2.get_ami_output(owners=[DEBIAN_ACCOUNT], most_recent=True, filters=[
            aws.ec2.GetAmiFilterArgs(name="name", values=["debian-12-amd64-*"]),
            aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"])],
            opts=pulumi.InvokeOutputOptions(parent=self)).id
        if args.scale is not None:
            target_arn, domain, targets = self._balance(name, balancer_group, place, args.health_check)
            self._group(name, args, image_id, group, targets)
            return target_arn, domain
        vm = aws.ec2.Instance(
            f"{name}-vm", ami=image_id, instance_type=args.instance_type,
            subnet_id=place.subnet_id, associate_public_ip_address=False,
            vpc_security_group_ids=[group.id], iam_instance_profile=args.instance_profile,
            user_data_base64=pulumi.Output.from_input(args.user_data).apply(packed_user_data),
            user_data_replace_on_change=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(**INSTANCE_METADATA),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                volume_type="gp3", volume_size=args.volume_size, encrypted=True),
            tags={"Name": f"{name}-{args.purpose}"}, opts=pulumi.ResourceOptions(parent=self))
        if balancer_group is None:
            return vm.arn, vm.private_dns
        target_arn, domain, targets = self._balance(name, balancer_group, place, None)
        aws.lb.TargetGroupAttachment(f"{name}-target", target_group_arn=targets.arn, target_id=vm.id, port=80,
                                     opts=pulumi.ResourceOptions(parent=self))
        return target_arn, domain

    def _vpc_origin(self, name: str, args: OriginVmArgs, target_arn: pulumi.Input[str]) -> pulumi.Output[str]:
        """The CloudFront VPC origin in front of `target_arn`: HTTP inside AWS's network (the https_port and TLS
        versions are required fields, unused with http-only)."""
        origin = aws.cloudfront.VpcOrigin(
            f"{name}-origin", vpc_origin_endpoint_config=aws.cloudfront.VpcOriginVpcOriginEndpointConfigArgs(
                name=f"{pulumi.get_stack()}-{name}"[:64], arn=target_arn, http_port=80, https_port=443,
                origin_protocol_policy="http-only",
                origin_ssl_protocols=aws.cloudfront.VpcOriginVpcOriginEndpointConfigOriginSslProtocolsArgs(
                    items=["TLSv1.2"], quantity=1)),
            tags={"Name": f"{name}-{args.purpose}"}, opts=pulumi.ResourceOptions(parent=self))
        return origin.id

    def _balance(self, name: str, group: aws.ec2.SecurityGroup, place: Placement, health_check: tuple[int, str] | None
                 ) -> tuple[pulumi.Output[str], pulumi.Output[str], aws.lb.TargetGroup]:
        """An internal Network Load Balancer in front of the VMs (a VPC origin may be one, with a security group and
        no TLS listener: aws/aws-cdk aws-cloudfront-origins README); its ARN, its DNS name and its targets. It checks
        `health_check` (port, path) over HTTP, else that port 80 accepts a connection."""
        child = pulumi.ResourceOptions(parent=self)
        balancer = aws.lb.LoadBalancer(f"{name}-lb", load_balancer_type="network", internal=True,
                                       subnets=[place.subnet_id], security_groups=[group.id], ip_address_type="ipv4",
                                       opts=child)
        # The VM sees the balancer's address, so its group can admit the balancer's group alone.
        check = aws.lb.TargetGroupHealthCheckArgs(
            protocol="HTTP", port=str(health_check[0]), path=health_check[1], matcher="200", interval=10,
            healthy_threshold=2, unhealthy_threshold=2) if health_check else \
            aws.lb.TargetGroupHealthCheckArgs(protocol="TCP", port="80")
        targets = aws.lb.TargetGroup(f"{name}-targets", port=80, protocol="TCP", target_type="instance",
                                     vpc_id=place.vpc_id, preserve_client_ip="false", health_check=check,
                                     # A scaled-in instance finishes what it serves before it goes.
                                     deregistration_delay=30, opts=child)
        aws.lb.Listener(f"{name}-listener", load_balancer_arn=balancer.arn, port=80, protocol="TCP",
                        default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward",
                                                                          target_group_arn=targets.arn)],
                        opts=child)
        return balancer.arn, balancer.dns_name, targets

    def _group(self, name: str, args: OriginVmArgs, image_id: pulumi.Input[str], group: aws.ec2.SecurityGroup,
               targets: aws.lb.TargetGroup) -> None:
        """The VMs as an Auto Scaling group: one launch template (the single VM's settings), between the scale's
        counts, on average CPU; a failed health check replaces an instance; a new template rolls out with no outage
        (an instance refresh that starts the new before it stops the old)."""
        child = pulumi.ResourceOptions(parent=self)
        scale = args.scale
        template = aws.ec2.LaunchTemplate(
            f"{name}-template", image_id=image_id, instance_type=args.instance_type,
            vpc_security_group_ids=[group.id],
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(name=args.instance_profile)
            if args.instance_profile else None,
            user_data=pulumi.Output.from_input(args.user_data).apply(packed_user_data),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(**INSTANCE_METADATA),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=DEBIAN_ROOT_DEVICE, ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_type="gp3", volume_size=args.volume_size, encrypted="true", delete_on_termination="true"))],
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type="instance", tags={"Name": f"{name}-{args.purpose}"})],
            update_default_version=True, opts=child)
        auto = aws.autoscaling.Group(
            f"{name}-group", min_size=scale.min_instances, max_size=scale.max_instances,
            vpc_zone_identifiers=[args.placement.subnet_id], target_group_arns=[targets.arn],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(id=template.id,
                                                                    version=template.latest_version.apply(str)),
            health_check_type="ELB", health_check_grace_period=600, default_instance_warmup=300,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling", preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=100, max_healthy_percentage=200, instance_warmup="300")),
            tags=[aws.autoscaling.GroupTagArgs(key="Name", value=f"{name}-{args.purpose}",
                                               propagate_at_launch=True)],
            opts=child)
        aws.autoscaling.Policy(
            f"{name}-cpu", autoscaling_group_name=auto.name, policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=CPU_METRIC(predefined_metric_type="ASGAverageCPUUtilization"),
                target_value=scale.cpu_target_percent), opts=child)


def egress_rules(plan: Sequence[Egress], resolvers: Sequence[str], database_group: pulumi.Input[str] | None = None
                 ) -> list[aws.ec2.SecurityGroupEgressArgs]:
    """A security group's egress for an egress plan (components/egress.py): DNS at `resolvers` (CIDRs), HTTP and HTTPS
    anywhere, the archive and an existing database at their address or, for a name, their port anywhere, and the
    managed database by its group (`database_group`). A security group refuses whatever no rule allows."""
    rules = []
    for egress in plan:
        if egress.reach is Reach.DNS:
            rules += [aws.ec2.SecurityGroupEgressArgs(protocol=protocol, from_port=53, to_port=53,
                                                      cidr_blocks=list(resolvers),
                                                      description=f"DNS ({protocol}) to the VPC resolver")
                      for protocol in ("udp", "tcp")]
        elif egress.reach is Reach.WEB:
            rules += [aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=port, to_port=port,
                                                      cidr_blocks=[ANYWHERE],
                                                      description=f"{label}: Debian packages, container images")
                      for port, label in ((80, "HTTP"), (443, "HTTPS"))]
        elif egress.reach is Reach.DATABASE and egress.to is None:
            rules.append(aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=DATABASE_PORT,
                                                         to_port=DATABASE_PORT, security_groups=[database_group],
                                                         description=DESTINATION_LABELS[Reach.DATABASE]))
        elif egress.to is not None:
            rules += _destination_egress(egress.to, DESTINATION_LABELS[egress.reach])
    return rules


# How a rule's description names a destination (AWS allows no apostrophe there).
DESTINATION_LABELS = {Reach.ARCHIVE: "the archive", Reach.DATABASE: "the Keycloak database"}


def _destination_egress(to: Destination, label: str) -> list[aws.ec2.SecurityGroupEgressArgs]:
    """The rule that lets a VM reach `to`: its address, or its port anywhere for a name (components/egress.py);
    none where HTTP(S) anywhere already covers it."""
    if to.cidr is not None:
        block = dict(ipv6_cidr_blocks=[to.cidr]) if to.ipv6 else dict(cidr_blocks=[to.cidr])
        return [aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=to.port, to_port=to.port,
                                                description=f"{label}, {to.host}", **block)]
    if to.port in (80, 443):
        return []
    return [aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=to.port, to_port=to.port, cidr_blocks=[ANYWHERE],
                                            description=f"{label}, {to.host} (a name: any address)")]
