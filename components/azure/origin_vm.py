"""OriginVm: a hardened Debian 12 VM with no public address that only Front Door reaches, over Private Link; the base
of the proxy and Keycloak hosts.

    Front Door Premium --Private Link (Microsoft's network) + X-Azure-FDID--> Private Link service (NAT address)
        --> internal Standard load balancer --> VM (nginx on :80; no public IP)

Nothing crosses the internet between Front Door and the VM: Front Door connects through a private endpoint of
its own to the VM's Private Link service, over Microsoft's backbone (azure-docs articles/frontdoor/private-link.md;
an internal load balancer origin: articles/frontdoor/standard-premium/how-to-enable-private-link-internal-load-
balancer.md). That needs Front Door Premium. HTTPS to a public origin was the other way, and it is closed to a
VM: Front Door accepts only a certificate chaining to a CA on Microsoft's trusted list, never a self-signed or
internal CA's one (articles/frontdoor/end-to-end-tls.md), and a VM with no public name cannot get one.

The VM's NSG admits port 80 from its Private Link service's NAT address (the source of everything Private Link
delivers) and from AzureLoadBalancer (the health probe), and nothing else: no SSH, no RDP. Out, it may reach
Azure's platform address 168.63.129.16 (DNS, DHCP, the VM agent: azure-docs articles/virtual-network/
what-is-ip-address-168-63-129-16.md), HTTP(S) on the internet (Debian's packages, Keycloak's image, the realm's
keys at Keycloak's Front Door URL) and the archive's host and port (components/egress.py); nothing else. nginx
still refuses any X-Azure-FDID but our profile's. Trusted Launch (secure boot, vTPM), encryption at host, no
password login, and no managed identity unless the VM reads a cloud DICOM service (`identity`), so a request forged
through nginx finds no credentials at the instance metadata service (and nginx's proxy paths never lead there).
Custom data is readable by anyone who can read the VM, so it must hold nothing secret.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.compute as compute
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.network as network
import pulumi_tls as tls

from components.azure.database import PORT as DATABASE_PORT
from components.egress import Egress, Reach, egress_plan
from settings import ScaleSettings

# Azure's DNS (the resolver nginx asks), DHCP and VM agent address, the same in every virtual network.
AZURE_PLATFORM = "168.63.129.16"
LOAD_BALANCER_PROBE = "AzureLoadBalancer"  # the service tag the load balancer's health probe comes from
ADMIN_USER = "ohif"
MAX_CUSTOM_DATA = 65535  # bytes, decoded (learn.microsoft.com, OSProfile.customData)
IMAGE = compute.ImageReferenceArgs(publisher="Debian", offer="debian-12", sku="12-gen2", version="latest")
HTTP = 80


@dataclass
class OriginVmArgs:
    custom_data: pulumi.Input[str]
    """The VM's cloud-init; nothing secret."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the VM and its load balancer."""
    location: pulumi.Input[str]
    """The region of the VM."""
    subnet_id: pulumi.Input[str]
    """The subnet of the VM, its load balancer and its Private Link service: the stack's `azure.subnet_id`, or the
    recipe's own (components/azure/network.py). Private Link service network policies must be off on it."""
    egress: Sequence[Egress] = egress_plan()
    """Where the VM may connect to (components/egress.py), such as the archive or Keycloak's database."""
    database_prefix: pulumi.Input[str] | None = None
    """The managed database's address prefix or service tag, which a database intent without a destination reaches."""
    vm_size: str = "Standard_B2s"
    """The VM's size (one that supports Trusted Launch)."""
    scale: ScaleSettings | None = None
    """Run a scale set (Flexible orchestration) of this size behind the load balancer instead of one VM."""
    health_check: tuple[int, str] | None = None
    """The port and path the load balancer's probe checks (dicomweb_proxy.interface.HEALTH_PATH); with `scale`, also the
    Application Health extension, which rolling upgrades and automatic repairs go by."""
    identity: bool = False
    """A system-assigned managed identity for the VM (each VM of a scale set), to be granted one role."""


@dataclass(frozen=True)
class _Guest:
    """What the single VM and each VM of a scale set boot with: the cloud-init, the login and Trusted Launch."""

    custom_data: pulumi.Output[str]
    linux: compute.LinuxConfigurationArgs
    security: compute.SecurityProfileArgs


class OriginVm(pulumi.ComponentResource):
    origin_host: pulumi.Output[str]
    """The load balancer's private address, the host name of Front Door's origin."""
    private_link_service_id: pulumi.Output[str]
    """The Private Link service Front Door's origin connects to."""
    vm_name: pulumi.Output[str]
    principal_id: pulumi.Output[str] | None
    """The managed identity, where `identity` asked for one."""

    def __init__(self, name: str, args: OriginVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:OriginVm", name, {}, opts)
        lb, frontend_id, pool_id = self._load_balancer(name, args)
        link = self._private_link(name, args, lb, frontend_id)
        nsg = self._security_group(name, args, link)
        guest = self._guest(name, args)
        if args.scale is None:
            self.vm_name, identity = self._vm(name, args, nsg, pool_id, lb, guest)
        else:
            self.vm_name, identity = self._scale_set(name, args, nsg, pool_id, lb, guest)
        self.principal_id = identity.apply(lambda i: i.principal_id) if args.identity else None
        self.origin_host = lb.frontend_ip_configurations.apply(lambda f: f[0].private_ip_address)
        self.private_link_service_id = link.id
        self.register_outputs({"origin_host": self.origin_host, "private_link_service_id": self.private_link_service_id,
                               "vm_name": self.vm_name})

    def _load_balancer(self, name: str, args: OriginVmArgs
                       ) -> tuple[network.LoadBalancer, pulumi.Output[str], pulumi.Output[str]]:
        """The internal Standard load balancer in front of the VMs; its frontend's and backend pool's ids."""
        # The load balancer's parts name each other by id, so it gets a name of its own making.
        lb_name = f"ohif-{pulumi.get_stack()}-{name}-lb"[:80]
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        lb_id = pulumi.Output.concat("/subscriptions/", client.subscription_id, "/resourceGroups/",
                                     args.resource_group_name, "/providers/Microsoft.Network/loadBalancers/", lb_name)
        frontend_id = pulumi.Output.concat(lb_id, "/frontendIPConfigurations/frontend")
        pool_id = pulumi.Output.concat(lb_id, "/backendAddressPools/vm")
        lb = network.LoadBalancer(
            f"{name}-lb", load_balancer_name=lb_name, resource_group_name=args.resource_group_name,
            location=args.location, sku=network.LoadBalancerSkuArgs(name="Standard", tier="Regional"),
            frontend_ip_configurations=[network.FrontendIPConfigurationArgs(
                name="frontend", private_ip_allocation_method="Dynamic", private_ip_address_version="IPv4",
                subnet=network.SubnetArgs(id=args.subnet_id))],
            backend_address_pools=[network.BackendAddressPoolArgs(name="vm")],
            # TCP: nginx answers HTTP only with our X-Azure-FDID, which a probe does not carry; or HTTP on the health
            # check's own port, which needs none.
            probes=[network.ProbeArgs(name="http", protocol="Http", port=args.health_check[0],
                                      request_path=args.health_check[1], interval_in_seconds=15, number_of_probes=2)
                    if args.health_check else
                    network.ProbeArgs(name="http", protocol="Tcp", port=HTTP, interval_in_seconds=15,
                                      number_of_probes=2)],
            load_balancing_rules=[network.LoadBalancingRuleArgs(
                name="http", protocol="Tcp", frontend_port=HTTP, backend_port=HTTP,
                frontend_ip_configuration=network.SubResourceArgs(id=frontend_id),
                backend_address_pool=network.SubResourceArgs(id=pool_id),
                probe=network.SubResourceArgs(id=pulumi.Output.concat(lb_id, "/probes/http")),
                disable_outbound_snat=True, idle_timeout_in_minutes=4, enable_tcp_reset=True)],
            opts=pulumi.ResourceOptions(parent=self))
        return lb, frontend_id, pool_id

    def _private_link(self, name: str, args: OriginVmArgs, lb: network.LoadBalancer,
                      frontend_id: pulumi.Input[str]) -> network.PrivateLinkService:
        """The service Front Door's origin asks for a connection (front_door.py approves it)."""
        return network.PrivateLinkService(
            f"{name}-pls", resource_group_name=args.resource_group_name, location=args.location,
            load_balancer_frontend_ip_configurations=[network.FrontendIPConfigurationArgs(id=frontend_id)],
            ip_configurations=[network.PrivateLinkServiceIpConfigurationArgs(
                name="nat", primary=True, private_ip_allocation_method="Dynamic", private_ip_address_version="IPv4",
                subnet=network.SubnetArgs(id=args.subnet_id))],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[lb]))

    def _security_group(self, name: str, args: OriginVmArgs,
                        link: network.PrivateLinkService) -> network.NetworkSecurityGroup:
        """The VMs' NSG (security_rules): in, from the Private Link service's NAT address and the probe; out,
        `args.egress`."""
        nat_address = link.ip_configurations.apply(lambda c: c[0].private_ip_address)
        health_port = args.health_check[0] if args.health_check else None
        return network.NetworkSecurityGroup(
            f"{name}-nsg", resource_group_name=args.resource_group_name, location=args.location,
            security_rules=pulumi.Output.all(nat_address, args.database_prefix).apply(
                lambda a: security_rules(a[0], args.egress, health_port, a[1])),
            opts=pulumi.ResourceOptions(parent=self))

    def _guest(self, name: str, args: OriginVmArgs) -> _Guest:
        """What the VM, or each VM of a scale set, boots with."""
        # Azure requires a key where password login is off. Nobody logs in with it: no rule admits port 22,
        # and the private key stays encrypted in the Pulumi state.
        key = tls.PrivateKey(f"{name}-ssh-key", algorithm="RSA", rsa_bits=4096,
                             opts=pulumi.ResourceOptions(parent=self))
        return _Guest(
            custom_data=pulumi.Output.from_input(args.custom_data).apply(_custom_data),
            linux=compute.LinuxConfigurationArgs(
                disable_password_authentication=True,
                ssh=compute.SshConfigurationArgs(public_keys=[compute.SshPublicKeyArgs(
                    key_data=key.public_key_openssh, path=f"/home/{ADMIN_USER}/.ssh/authorized_keys")])),
            security=compute.SecurityProfileArgs(
                security_type="TrustedLaunch", encryption_at_host=True,
                uefi_settings=compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True)))

    def _vm(self, name: str, args: OriginVmArgs, nsg: network.NetworkSecurityGroup, pool_id: pulumi.Input[str],
            lb: network.LoadBalancer, guest: _Guest) -> tuple[pulumi.Output[str], pulumi.Output]:
        """One VM, its network interface in the load balancer's pool; its name and identity."""
        rg, location = args.resource_group_name, args.location
        nic = network.NetworkInterface(
            f"{name}-nic", resource_group_name=rg, location=location,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
            ip_configurations=[network.NetworkInterfaceIPConfigurationArgs(
                name="primary", primary=True, private_ip_allocation_method="Dynamic",
                subnet=network.SubnetArgs(id=args.subnet_id),
                load_balancer_backend_address_pools=[network.BackendAddressPoolArgs(id=pool_id)])],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[lb]))
        vm = compute.VirtualMachine(
            f"{name}-vm", resource_group_name=rg, location=location,
            hardware_profile=compute.HardwareProfileArgs(vm_size=args.vm_size),
            storage_profile=compute.StorageProfileArgs(image_reference=IMAGE, os_disk=compute.OSDiskArgs(
                create_option="FromImage", delete_option="Delete",
                managed_disk=compute.ManagedDiskParametersArgs(storage_account_type="StandardSSD_LRS"))),
            os_profile=compute.OSProfileArgs(computer_name=name, admin_username=ADMIN_USER,
                                             custom_data=guest.custom_data, linux_configuration=guest.linux),
            network_profile=compute.NetworkProfileArgs(network_interfaces=[
                compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]),
            security_profile=guest.security, identity=compute.VirtualMachineIdentityArgs(type="SystemAssigned")
            if args.identity else None, opts=pulumi.ResourceOptions(parent=self))
        return vm.name, vm.identity

    def _scale_set(self, name: str, args: OriginVmArgs, nsg: network.NetworkSecurityGroup, pool_id: pulumi.Input[str],
                   lb: network.LoadBalancer, guest: _Guest) -> tuple[pulumi.Output[str], pulumi.Output]:
        """The VMs as a scale set (Flexible orchestration): the single VM's profile, between the scale's counts on
        average CPU (Azure Monitor autoscale), behind the same load balancer. The Application Health extension asks
        each VM's health port: rolling upgrades (a new VM before an old one goes) and automatic repairs (a VM that
        stays unhealthy is replaced) go by it. Its name and identity."""
        scale, rg, location = args.scale, args.resource_group_name, args.location
        port, path = args.health_check
        vmss = compute.VirtualMachineScaleSet(
            f"{name}-vmss", resource_group_name=rg, location=location, orchestration_mode="Flexible",
            platform_fault_domain_count=1, single_placement_group=False,
            sku=compute.SkuArgs(name=args.vm_size, capacity=scale.min_instances),
            virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
                os_profile=compute.VirtualMachineScaleSetOSProfileArgs(
                    computer_name_prefix=name[:9], admin_username=ADMIN_USER, custom_data=guest.custom_data,
                    linux_configuration=guest.linux),
                storage_profile=compute.VirtualMachineScaleSetStorageProfileArgs(
                    image_reference=IMAGE, os_disk=compute.VirtualMachineScaleSetOSDiskArgs(
                        create_option="FromImage", delete_option="Delete",
                        managed_disk=compute.VirtualMachineScaleSetManagedDiskParametersArgs(
                            storage_account_type="StandardSSD_LRS"))),
                network_profile=compute.VirtualMachineScaleSetNetworkProfileArgs(
                    network_api_version="2020-11-01",
                    network_interface_configurations=[compute.VirtualMachineScaleSetNetworkConfigurationArgs(
                        name="primary", primary=True, network_security_group=compute.SubResourceArgs(id=nsg.id),
                        ip_configurations=[compute.VirtualMachineScaleSetIPConfigurationArgs(
                            name="primary", primary=True, subnet=compute.ApiEntityReferenceArgs(id=args.subnet_id),
                            load_balancer_backend_address_pools=[compute.SubResourceArgs(id=pool_id)])])]),
                security_profile=guest.security,
                extension_profile=compute.VirtualMachineScaleSetExtensionProfileArgs(extensions=[
                    compute.VirtualMachineScaleSetExtensionArgs(
                        name="health", publisher="Microsoft.ManagedServices", type="ApplicationHealthLinux",
                        type_handler_version="2.0", auto_upgrade_minor_version=True,
                        settings={"protocol": "http", "port": port, "requestPath": path})])),
            upgrade_policy=compute.UpgradePolicyArgs(
                mode="Rolling", rolling_upgrade_policy=compute.RollingUpgradePolicyArgs(
                    max_batch_instance_percent=50, max_unhealthy_instance_percent=50,
                    max_unhealthy_upgraded_instance_percent=0, pause_time_between_batches="PT0S", max_surge=True)),
            automatic_repairs_policy=compute.AutomaticRepairsPolicyArgs(enabled=True, grace_period="PT10M"),
            identity=compute.VirtualMachineScaleSetIdentityArgs(type="SystemAssigned") if args.identity else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[lb]))

        def rule(direction: str, operator: str, threshold: int) -> monitor.ScaleRuleArgs:
            return monitor.ScaleRuleArgs(
                metric_trigger=monitor.MetricTriggerArgs(
                    metric_name="Percentage CPU", metric_resource_uri=vmss.id, operator=operator, statistic="Average",
                    threshold=threshold, time_aggregation="Average", time_grain="PT1M", time_window="PT5M"),
                scale_action=monitor.ScaleActionArgs(direction=direction, type="ChangeCount", value="1",
                                                     cooldown="PT5M"))

        # Out above the target, in well below it, so that one VM fewer does not push the rest over it again.
        monitor.AutoscaleSetting(
            f"{name}-autoscale", resource_group_name=rg, location=location, target_resource_uri=vmss.id,
            enabled=True, profiles=[monitor.AutoscaleProfileArgs(
                name="cpu", capacity=monitor.ScaleCapacityArgs(minimum=str(scale.min_instances),
                                                               maximum=str(scale.max_instances),
                                                               default=str(scale.min_instances)),
                rules=[rule("Increase", "GreaterThan", scale.cpu_target_percent),
                       rule("Decrease", "LessThan", scale.cpu_target_percent // 2)])],
            opts=pulumi.ResourceOptions(parent=self))
        return vmss.name, vmss.identity


def security_rules(private_link_address: str, egress: Sequence[Egress], health_port: int | None = None,
                   database_prefix: str | None = None) -> list[network.SecurityRuleArgs]:
    """The VM's NSG: in, port 80 from the Private Link service's NAT address and the load balancer's probe, and
    nothing else; out, the egress plan (components/egress.py), a database intent without a destination reaching
    `database_prefix`. The denies come before Azure's default rules (65000 and up: the virtual network, peered ones
    and the internet)."""
    return [
        _rule("FrontDoorPrivateLink", 100, "Inbound", "Allow", "Tcp", f"{private_link_address}/32", "*", [str(HTTP)],
              "Front Door through Private Link (the service's NAT address); nginx also checks X-Azure-FDID"),
        _rule("LoadBalancerProbe", 110, "Inbound", "Allow", "Tcp", LOAD_BALANCER_PROBE, "*",
              [str(health_port)] if health_port else [str(HTTP)], "The internal load balancer's health probe"),
        _rule("DenyOtherInbound", 4096, "Inbound", "Deny", "*", "*", "*", ["*"], "Nothing else: no SSH, no RDP"),
        *(_egress_rule(e, database_prefix) for e in egress)]


def _egress_rule(egress: Egress, database_prefix: str | None) -> network.SecurityRuleArgs:
    """One outbound rule for one intent of the egress plan."""
    to = egress.to
    if egress.reach is Reach.DNS:
        return _rule("AzurePlatform", 100, "Outbound", "Allow", "*", "*", f"{AZURE_PLATFORM}/32", ["*"],
                     "Azure's DNS, DHCP and VM agent")
    if egress.reach is Reach.WEB:
        return _rule("Web", 110, "Outbound", "Allow", "Tcp", "*", "Internet", ["80", "443"],
                     "Debian packages, container images, the realm's keys")
    if egress.reach is Reach.ARCHIVE:
        return _rule("Archive", 120, "Outbound", "Allow", "Tcp", "*", to.cidr or "*", [str(to.port)],
                     f"The archive, {to.host}" + ("" if to.cidr else " (a name: any address)"))
    if egress.reach is Reach.DATABASE:
        prefix, port = (to.cidr or "*", to.port) if to else (database_prefix, DATABASE_PORT)
        return _rule("Database", 130, "Outbound", "Allow", "Tcp", "*", prefix, [str(port)], "Keycloak's database")
    return _rule("DenyOtherOutbound", 4096, "Outbound", "Deny", "*", "*", "*", ["*"], "Nothing else")


def _rule(name: str, priority: int, direction: str, access: str, protocol: str, source: str, destination: str,
          ports: list[str], description: str) -> network.SecurityRuleArgs:
    return network.SecurityRuleArgs(
        name=name, priority=priority, direction=direction, access=access, protocol=protocol,
        source_address_prefix=source, source_port_range="*", destination_address_prefix=destination,
        **(dict(destination_port_range=ports[0]) if len(ports) == 1 else dict(destination_port_ranges=ports)),
        description=description)


def _custom_data(cloud_init: str) -> str:
    data = cloud_init.encode()
    if len(data) > MAX_CUSTOM_DATA:
        raise ValueError(f"cloud-init of {len(data)} bytes exceeds Azure's {MAX_CUSTOM_DATA} for custom data")
    return base64.b64encode(data).decode()
