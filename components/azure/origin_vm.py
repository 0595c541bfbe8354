"""OriginVm: a hardened Debian 12 VM that only Front Door can reach, the base of the proxy and Keycloak hosts.

    Front Door (AzureFrontDoor.Backend) --HTTP :80 + X-Azure-FDID--> static public IP --> VM (nginx)

The NSG admits Front Door's back end on port 80 and nothing else, not even from peered networks: no SSH,
no RDP. Trusted Launch (secure boot, vTPM), encryption at host, no password login and no managed
identity, so a request forged through nginx finds no credentials at the instance metadata service.
Custom data is readable by anyone who can read the VM, so it must hold nothing secret.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_azure_native.network as network
import pulumi_tls as tls

FRONT_DOOR_BACKEND = "AzureFrontDoor.Backend"  # the service tag of Front Door's origin-facing addresses
# A small range away from Azure's default 10.0.0.0/16, where archives (the example stacks' 10.0.1.20) often live.
ADDRESS_SPACE = "10.250.0.0/24"
ADMIN_USER = "ohif"
MAX_CUSTOM_DATA = 65535  # bytes, decoded (learn.microsoft.com, OSProfile.customData)
IMAGE = compute.ImageReferenceArgs(publisher="Debian", offer="debian-12", sku="12-gen2", version="latest")


@dataclass
class OriginVmArgs:
    custom_data: pulumi.Input[str]
    """The VM's cloud-init; nothing secret."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the VM and its network."""
    location: pulumi.Input[str]
    """The region of the VM."""
    vm_size: str = "Standard_B2s"
    """The VM's size (one that supports Trusted Launch)."""


class OriginVm(pulumi.ComponentResource):
    public_ip: pulumi.Output[str]
    """The static address Front Door connects to."""
    vm_name: pulumi.Output[str]

    def __init__(self, name: str, args: OriginVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:OriginVm", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, location = args.resource_group_name, args.location
        nsg = network.NetworkSecurityGroup(f"{name}-nsg", resource_group_name=rg, location=location, security_rules=[
            network.SecurityRuleArgs(
                name="FrontDoorHttp", priority=100, direction="Inbound", access="Allow", protocol="Tcp",
                source_address_prefix=FRONT_DOOR_BACKEND, source_port_range="*", destination_address_prefix="*",
                destination_port_range="80", description="Front Door only; nginx also checks X-Azure-FDID"),
            # Evaluated before Azure's default rules (65000 and up), which admit the virtual network and peered ones.
            network.SecurityRuleArgs(
                name="DenyOtherInbound", priority=4096, direction="Inbound", access="Deny", protocol="*",
                source_address_prefix="*", source_port_range="*", destination_address_prefix="*",
                destination_port_range="*", description="Nothing else: no SSH, no RDP")],
            opts=child)
        vnet = network.VirtualNetwork(f"{name}-vnet", resource_group_name=rg, location=location,
                                      address_space=network.AddressSpaceArgs(address_prefixes=[ADDRESS_SPACE]),
                                      opts=child)
        subnet = network.Subnet(f"{name}-subnet", resource_group_name=rg, virtual_network_name=vnet.name,
                                address_prefix=ADDRESS_SPACE, network_security_group=network.NetworkSecurityGroupArgs(
                                    id=nsg.id), opts=child)
        # Its own address, so Front Door reaches the VM without a load balancer; outbound (packages, the
        # archive) leaves from it too.
        ip = network.PublicIPAddress(f"{name}-ip", resource_group_name=rg, location=location,
                                     sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                                     public_ip_allocation_method="Static", public_ip_address_version="IPv4",
                                     opts=child)
        nic = network.NetworkInterface(f"{name}-nic", resource_group_name=rg, location=location, ip_configurations=[
            network.NetworkInterfaceIPConfigurationArgs(
                name="primary", primary=True, private_ip_allocation_method="Dynamic",
                subnet=network.SubnetArgs(id=subnet.id), public_ip_address=network.PublicIPAddressArgs(id=ip.id))],
            opts=child)
        # Azure requires a key where password login is off. Nobody logs in with it: no rule admits port 22,
        # and the private key stays encrypted in the Pulumi state.
        key = tls.PrivateKey(f"{name}-ssh-key", algorithm="RSA", rsa_bits=4096, opts=child)
        vm = compute.VirtualMachine(
            f"{name}-vm", resource_group_name=rg, location=location,
            hardware_profile=compute.HardwareProfileArgs(vm_size=args.vm_size),
            storage_profile=compute.StorageProfileArgs(image_reference=IMAGE, os_disk=compute.OSDiskArgs(
                create_option="FromImage", delete_option="Delete",
                managed_disk=compute.ManagedDiskParametersArgs(storage_account_type="StandardSSD_LRS"))),
            os_profile=compute.OSProfileArgs(
                computer_name=name, admin_username=ADMIN_USER,
                custom_data=pulumi.Output.from_input(args.custom_data).apply(_custom_data),
                linux_configuration=compute.LinuxConfigurationArgs(
                    disable_password_authentication=True,
                    ssh=compute.SshConfigurationArgs(public_keys=[compute.SshPublicKeyArgs(
                        key_data=key.public_key_openssh, path=f"/home/{ADMIN_USER}/.ssh/authorized_keys")]))),
            network_profile=compute.NetworkProfileArgs(network_interfaces=[
                compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]),
            security_profile=compute.SecurityProfileArgs(
                security_type="TrustedLaunch", encryption_at_host=True,
                uefi_settings=compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True)),
            opts=child)
        self.public_ip, self.vm_name = ip.ip_address, vm.name
        self.register_outputs({"public_ip": self.public_ip, "vm_name": self.vm_name})


def _custom_data(cloud_init: str) -> str:
    data = cloud_init.encode()
    if len(data) > MAX_CUSTOM_DATA:
        raise ValueError(f"cloud-init of {len(data)} bytes exceeds Azure's {MAX_CUSTOM_DATA} for custom data")
    return base64.b64encode(data).decode()
