"""KeycloakDatabase on Azure: Azure Database for PostgreSQL Flexible Server, where the provisioned Keycloak keeps its
users, credentials and sessions, so that they outlive every Keycloak VM.

    Keycloak VM --TLS (verify-full, port 5432)--> Flexible Server (private access: a delegated subnet, a private
                                                  DNS zone linked to the network; no public endpoint)

Storage is always encrypted at rest (service-managed keys). Automated backups for `backup_retention_days`
(point-in-time restore), optionally geo-redundant, zone-redundant high availability with `multi_az` (General Purpose
and Memory Optimized tiers), TLS required (`require_secure_transport`). Deletion protection is a CanNotDelete
management lock on the server, and Pulumi's `protect` keeps `pulumi destroy` from trying (README, "Keycloak's
accounts": how to remove it on purpose). Its certificates chain to DigiCert and Microsoft roots that Debian's CA
bundle holds, so the VM needs no CA of Azure's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.dbforpostgresql as postgres
import pulumi_azure_native.privatedns as privatedns
import pulumi_random as random

from components.render.keycloak_host_init import DatabaseEndpoint
from settings import AzureDatabaseSettings, database_tier

VERSION = "16"
PORT = 5432
STORAGE_GB = 32  # the smallest Flexible Server offers; it grows by itself


@dataclass
class KeycloakDatabaseArgs:
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    """A subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (components/azure/network.py)."""
    virtual_network_id: pulumi.Input[str]
    """The network the Keycloak VM is in, which the private DNS zone is linked to."""
    settings: AzureDatabaseSettings
    """Size, backups and zones, from the stack's `ohif:azure.keycloak_database`."""


class KeycloakDatabase(pulumi.ComponentResource):
    endpoint: pulumi.Output[DatabaseEndpoint]
    """Where Keycloak connects."""
    password: pulumi.Output[str]
    """The generated password of its `keycloak` administrator (a secret)."""

    def __init__(self, name: str, args: KeycloakDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:KeycloakDatabase", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        s, rg = args.settings, args.resource_group_name
        self.password = pulumi.Output.secret(random.RandomPassword(f"{name}-password", length=32, special=False,
                                                                   opts=child).result)
        # Private access: the server's name resolves, inside the linked network only, to its address in the subnet.
        zone = privatedns.PrivateZone(f"{name}-dns", resource_group_name=rg, location="global",
                                      private_zone_name=f"ohif-{pulumi.get_stack()}-{name}.private.postgres.database"
                                                        ".azure.com", opts=child)
        link = privatedns.VirtualNetworkLink(f"{name}-dns-link", resource_group_name=rg, location="global",
                                             private_zone_name=zone.name, registration_enabled=False,
                                             virtual_network=privatedns.SubResourceArgs(id=args.virtual_network_id),
                                             opts=child)
        server = postgres.Server(
            f"{name}-postgres", resource_group_name=rg, location=args.location, version=VERSION, create_mode="Create",
            sku=postgres.SkuArgs(name=s.sku, tier=database_tier(s.sku)),
            storage=postgres.StorageArgs(storage_size_gb=STORAGE_GB, auto_grow="Enabled"),
            backup=postgres.BackupArgs(backup_retention_days=s.backup_retention_days,
                                       geo_redundant_backup="Enabled" if s.geo_redundant_backup else "Disabled"),
            high_availability=postgres.HighAvailabilityArgs(mode="ZoneRedundant" if s.multi_az else "Disabled"),
            network=postgres.NetworkArgs(delegated_subnet_resource_id=args.subnet_id,
                                         private_dns_zone_arm_resource_id=zone.id, public_network_access="Disabled"),
            auth_config=postgres.AuthConfigArgs(password_auth="Enabled", active_directory_auth="Disabled"),
            administrator_login="keycloak", administrator_login_password=self.password,
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=[link]))
        postgres.Configuration(f"{name}-tls-required", resource_group_name=rg, server_name=server.name,
                               configuration_name="require_secure_transport", value="on", source="user-override",
                               opts=child)
        postgres.Database(f"{name}-keycloak", resource_group_name=rg, server_name=server.name,
                          database_name="keycloak", charset="UTF8", opts=child)
        authorization.ManagementLockByScope(f"{name}-lock", scope=server.id, level="CanNotDelete",
                                            notes="Keycloak's accounts: remove this lock to delete the server",
                                            opts=child)
        self.endpoint = server.fully_qualified_domain_name.apply(lambda host: DatabaseEndpoint(host=host, port=PORT))
        self.register_outputs({"fully_qualified_domain_name": server.fully_qualified_domain_name})
