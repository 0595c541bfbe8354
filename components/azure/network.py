"""Network: a virtual network of the recipe's own for the VMs, when the stack names no subnet (`ohif:azure.subnet_id`).

    Front Door --Private Link--> Private Link service (NAT address in the subnet) --> internal load balancer --> VM
    VM --> NAT gateway (one Standard public IP) --> the internet: packages, images
    Keycloak VM --> Keycloak's database (a subnet of its own, delegated to PostgreSQL Flexible Server)

The subnet takes the VMs, their internal load balancers and their Private Link services, so Private Link
service network policies are off on it, as a Private Link service's NAT address requires (azure-docs
articles/private-link/disable-private-link-service-network-policy.md). Default outbound access is off
(`defaultOutboundAccess: false`): Microsoft is retiring it and recommends a NAT gateway instead (azure-docs
articles/virtual-network/ip-services/default-outbound-access.md); a VM in a Standard internal load balancer's
pool has no way out without one either. The NAT gateway costs about $0.045 an hour (about $33 a month) plus
$0.045 per GB, and its Standard public IP about $3.65 a month (Azure pricing, 2026). A subnet the stack names
brings its own way out, and no charge here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.network as network

# A small range away from Azure's default 10.0.0.0/16, where archives (the example stacks' 10.0.1.20) often live.
ADDRESS_SPACE = "10.250.0.0/24"
# Flexible Server's delegated subnet: nothing else may share it, and /28 is the smallest Microsoft allows.
DATABASE_SPACE = "10.250.1.0/28"


@dataclass
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    """The resource group of the network."""
    location: pulumi.Input[str]
    """The region of the network (the VMs')."""
    address_space: str = ADDRESS_SPACE
    """The VMs' subnet, the virtual network's first range."""
    database_space: str = DATABASE_SPACE
    """The database subnet, its second range (free while empty: only a provisioned Keycloak puts a server in it)."""
    moved_from: str | None = None
    """The URN of the OriginVm whose own network this was before VMs shared one (the DICOMweb proxy's): its
    virtual network and subnet are kept and updated, not replaced."""


class Network(pulumi.ComponentResource):
    subnet_id: pulumi.Output[str]
    """Where the VMs, their load balancers and Private Link services go."""
    virtual_network_id: pulumi.Output[str]
    database_subnet_id: pulumi.Output[str]
    """Delegated to Microsoft.DBforPostgreSQL/flexibleServers, for Keycloak's database."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:Network", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, location = args.resource_group_name, args.location

        def moved(suffix: str) -> pulumi.ResourceOptions:
            aliases = [pulumi.Alias(name=suffix.format(args.moved_from.rsplit("::", 1)[-1]),
                                    parent=args.moved_from)] if args.moved_from else []
            return pulumi.ResourceOptions(parent=self, aliases=aliases)

        nat_ip = network.PublicIPAddress(f"{name}-nat-ip", resource_group_name=rg, location=location,
                                         sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                                         public_ip_allocation_method="Static", public_ip_address_version="IPv4",
                                         opts=child)
        nat = network.NatGateway(f"{name}-nat", resource_group_name=rg, location=location,
                                 sku=network.NatGatewaySkuArgs(name="Standard"), idle_timeout_in_minutes=4,
                                 public_ip_addresses=[network.SubResourceArgs(id=nat_ip.id)], opts=child)
        vnet = network.VirtualNetwork(f"{name}-vnet", resource_group_name=rg, location=location,
                                      address_space=network.AddressSpaceArgs(
                                          address_prefixes=[args.address_space, args.database_space]),
                                      opts=moved("{}-vnet"))
        subnet = network.Subnet(f"{name}-subnet", resource_group_name=rg, virtual_network_name=vnet.name,
                                address_prefix=args.address_space, nat_gateway=network.SubResourceArgs(id=nat.id),
                                default_outbound_access=False, private_link_service_network_policies="Disabled",
                                opts=moved("{}-subnet"))
        database = network.Subnet(f"{name}-database", resource_group_name=rg, virtual_network_name=vnet.name,
                                  address_prefix=args.database_space, default_outbound_access=False,
                                  delegations=[network.DelegationArgs(
                                      name="postgres", service_name="Microsoft.DBforPostgreSQL/flexibleServers")],
                                  # Subnets of one network change one at a time.
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=[subnet]))
        self.subnet_id, self.virtual_network_id, self.database_subnet_id = subnet.id, vnet.id, database.id
        self.register_outputs({"subnet_id": self.subnet_id, "database_subnet_id": self.database_subnet_id})
