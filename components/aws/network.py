"""Network: a VPC of the recipe's own for the VMs, when the stack names none (`ohif:aws.vpc_id`, `subnet_ids`).

    CloudFront --VPC origin: its interface in the private subnet--> VM (private subnet, no public address)
    VM --0.0.0.0/0--> NAT gateway (public subnet, one Elastic IP) --> internet gateway: packages, images
    Keycloak VM --> Keycloak's database (two database subnets in two zones, no route out)

The VMs have no public address; CloudFront reaches them through VPC origins, inside AWS's network. VPC origins
need an internet gateway attached to the VPC although their traffic does not pass through it (AWS CloudFront
Developer Guide, "Restrict access with VPC origins"; aws/aws-cdk#34069). The NAT gateway is the VMs' one way
out: Debian's package updates, Keycloak's container image, the archive when it is on the internet. It costs
about $0.048 an hour (about $35 a month) plus $0.048 per GB processed in eu-west-1, and its Elastic IP $0.005
an hour (AWS VPC and public IPv4 pricing, 2026). A VPC the stack names brings its own way out, and no charge here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ANYWHERE = "0.0.0.0/0"
# A small range away from 10.0.0.0/16, where archives (the example stacks' 10.0.1.20) often live, so the VPC can
# be peered with the archive's; Azure's network takes 10.250.0.0/24 (components/azure/network.py).
CIDR = "10.251.0.0/24"


@dataclass
class NetworkArgs:
    cidr_block: str = CIDR
    """The VPC's range: its first half is the private subnet; of its second half, the first /28 is the public
    subnet and the next two the database subnets."""


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_id: pulumi.Output[str]
    """Where the VMs go: its only route out is the NAT gateway."""
    database_subnet_ids: list[pulumi.Output[str]]
    """Two subnets in two zones, no route out, for Keycloak's database (an RDS subnet group spans two zones)."""
    cidr_block: str

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:Network", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        private_range, public_half = ipaddress.ip_network(args.cidr_block).subnets()
        public_range, *database_ranges = list(public_half.subnets(new_prefix=28))[:3]
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))
        # One zone for the VMs' and the NAT gateway's subnets: no cross-zone charges for the VMs' way out.
        zone = zones.names.apply(lambda names: names[0])
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=args.cidr_block, enable_dns_support=True,
                          enable_dns_hostnames=True, tags={"Name": f"{name}-ohif"}, opts=child)
        # The VPC's default group admits its own members and everything out; nothing uses it, so it admits nothing.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags={"Name": f"{name}-unused"}, opts=child)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-ohif"}, opts=child)
        public = aws.ec2.Subnet(f"{name}-public", vpc_id=vpc.id, cidr_block=str(public_range),
                                availability_zone=zone, map_public_ip_on_launch=False,
                                tags={"Name": f"{name}-public-nat-only"}, opts=child)
        private = aws.ec2.Subnet(f"{name}-private", vpc_id=vpc.id, cidr_block=str(private_range),
                                 availability_zone=zone, map_public_ip_on_launch=False,
                                 tags={"Name": f"{name}-private-vms"}, opts=child)
        # Free while empty: the database's subnets hold nothing until a stack provisions Keycloak.
        databases = [aws.ec2.Subnet(f"{name}-database-{i}", vpc_id=vpc.id, cidr_block=str(block),
                                    availability_zone=zones.names.apply(lambda names, i=i: names[i]),
                                    map_public_ip_on_launch=False, tags={"Name": f"{name}-database-{i}"}, opts=child)
                     for i, block in enumerate(database_ranges)]
        nat_ip = aws.ec2.Eip(f"{name}-nat-ip", domain="vpc", tags={"Name": f"{name}-nat"}, opts=child)
        nat = aws.ec2.NatGateway(f"{name}-nat", subnet_id=public.id, allocation_id=nat_ip.allocation_id,
                                 connectivity_type="public", tags={"Name": f"{name}-ohif"},
                                 opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]))
        for subnet, target, label in ((public, dict(gateway_id=gateway.id), "public"),
                                      (private, dict(nat_gateway_id=nat.id), "private")):
            table = aws.ec2.RouteTable(f"{name}-{label}-routes", vpc_id=vpc.id, routes=[
                aws.ec2.RouteTableRouteArgs(cidr_block=ANYWHERE, **target)], tags={"Name": f"{name}-{label}"},
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-{label}-association", subnet_id=subnet.id, route_table_id=table.id,
                                          opts=child)
        self.vpc_id, self.private_subnet_id, self.cidr_block = vpc.id, private.id, args.cidr_block
        self.database_subnet_ids = [d.id for d in databases]
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_id": self.private_subnet_id})


def vpc_resolver(cidr_block: str) -> str:
    """The VPC's DNS resolver as DHCP hands it to the VMs: its primary range's base plus two, as a /32."""
    return f"{ipaddress.ip_network(cidr_block)[2]}/32"
