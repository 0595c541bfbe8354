"""DicomServiceAccess: what lets the DICOMweb proxy read one Azure DICOM service, and nothing else.

    proxy VM --managed identity's token--> [private endpoint] --> DICOM service (Health Data Services workspace)

- The proxy's VM (or scale set) has a system-assigned managed identity, which gets "DICOM Data Reader" on the one
  service ("DICOM Data Owner" with STOW): the role assignment's scope is the service itself
  (learn.microsoft.com/azure/healthcare-apis/configure-azure-rbac: the built-in DICOM roles and their IDs).
- An existing service (`resource_id`) is the user's: it gets the role assignment alone. Its traffic goes to the
  service's public endpoint over TLS: a private endpoint on the user's workspace would shut its public access for
  every other client of it (Azure does so once a private endpoint is approved).
- A service the recipe creates gets a workspace of its own, protected (and locked) from deletion with its images, no
  CORS (only
  the proxy calls it, server to server), and a private endpoint in the proxy's subnet (group `healthcareworkspace`)
  with the private DNS zone `privatelink.dicom.azurehealthcareapis.com` linked to the network, so the service's name
  resolves to it and images never leave Microsoft's network (learn.microsoft.com/azure/healthcare-apis/
  healthcare-apis-configure-private-link).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.healthcareapis as healthcareapis
import pulumi_azure_native.network as network
import pulumi_azure_native.privatedns as privatedns

from settings.services import ArchiveService

# Built-in role definitions (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
DICOM_DATA_READER = "e89c7a3c-2f64-4fa1-a847-3e4c9ba4283a"
DICOM_DATA_OWNER = "58a3b984-7adf-4c20-983a-32417c86fbc8"
PRIVATE_ZONE = "privatelink.dicom.azurehealthcareapis.com"
WORKSPACE_GROUP = "healthcareworkspace"


def role_definition_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


@dataclass
class DicomServiceAccessArgs:
    service: ArchiveService
    """The DICOM service (kind dicom-service): existing (its resource_id) or to create (its workspace and name)."""
    principal_id: pulumi.Input[str]
    """The proxy's managed identity."""
    enable_stow: bool
    """Owner instead of Reader: the proxy passes uploads."""
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    """The proxy's subnet, where a created service's private endpoint goes."""
    virtual_network_id: pulumi.Input[str]
    """Its network, to which the private DNS zone is linked."""


class DicomServiceAccess(pulumi.ComponentResource):
    service_id: pulumi.Output[str]
    """The DICOM service the role is assigned on."""

    def __init__(self, name: str, args: DicomServiceAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:DicomServiceAccess", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        service = args.service
        if service.resource_id:
            self.service_id = pulumi.Output.from_input(service.resource_id)
        else:
            self.service_id = self._create(name, args)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        role = DICOM_DATA_OWNER if args.enable_stow else DICOM_DATA_READER
        authorization.RoleAssignment(
            f"{name}-dicom-{'owner' if args.enable_stow else 'reader'}", scope=self.service_id,
            principal_id=args.principal_id, principal_type="ServicePrincipal",
            role_definition_id=client.subscription_id.apply(lambda s: role_definition_id(s, role)),
            description="The OHIF DICOMweb proxy reads this DICOM service", opts=child)
        self.register_outputs({"service_id": self.service_id})

    def _create(self, name: str, args: DicomServiceAccessArgs) -> pulumi.Output[str]:
        # Images live here: `pulumi destroy` must not take them with the stack.
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        workspace = healthcareapis.Workspace(
            f"{name}-workspace", workspace_name=args.service.workspace, resource_group_name=args.resource_group_name,
            location=args.location, opts=keep)
        authorization.ManagementLockByScope(f"{name}-lock", scope=workspace.id, level="CanNotDelete",
                                            notes="The DICOM service's images: remove this lock to delete them",
                                            opts=pulumi.ResourceOptions(parent=self))
        dicom = healthcareapis.DicomService(
            f"{name}-dicom", dicom_service_name=args.service.name, workspace_name=workspace.name,
            resource_group_name=args.resource_group_name, location=args.location, opts=keep)
        child = pulumi.ResourceOptions(parent=self)
        zone = privatedns.PrivateZone(f"{name}-zone", private_zone_name=PRIVATE_ZONE, location="global",
                                      resource_group_name=args.resource_group_name, opts=child)
        privatedns.VirtualNetworkLink(f"{name}-zone-link", private_zone_name=zone.name, location="global",
                                      resource_group_name=args.resource_group_name, registration_enabled=False,
                                      virtual_network=privatedns.SubResourceArgs(id=args.virtual_network_id),
                                      opts=child)
        endpoint = network.PrivateEndpoint(
            f"{name}-endpoint", resource_group_name=args.resource_group_name, location=args.location,
            subnet=network.SubnetArgs(id=args.subnet_id),
            private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                name="dicom", private_link_service_id=workspace.id, group_ids=[WORKSPACE_GROUP])],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[dicom]))
        network.PrivateDnsZoneGroup(
            f"{name}-zone-group", private_endpoint_name=endpoint.name, resource_group_name=args.resource_group_name,
            private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(name="dicom", private_dns_zone_id=zone.id)],
            opts=child)
        return dicom.id
