"""KeycloakHost on Azure: Keycloak in production mode on an OriginVm, at its own Front Door endpoint, its accounts in
Azure Database for PostgreSQL Flexible Server (or a database the stack names).

    Front Door --Private Link--> Keycloak VM --TLS--> Flexible Server (KeycloakDatabase, protected and locked)

Custom data is not secret on Azure, so the cloud-init carries the realm and the configuration only.
The passwords arrive through a CustomScript extension, whose protected settings Azure keeps encrypted
and hands only to the VM; its script waits for cloud-init, writes the secret files and starts
Keycloak (components/render/keycloak_host_init.py: ENV_PATH, START_COMMANDS). The VM holds nothing users
made: replacing it keeps every account.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_random as random

from components.azure.database import KeycloakDatabase, KeycloakDatabaseArgs
from components.azure.front_door import endpoint, vm_route
from components.azure.origin_vm import OriginVm, OriginVmArgs
from components.egress import Egress, Reach, egress_plan, url_destination
from components.render.dicomweb_proxy.origin import FrontDoorCheck
from components.render.keycloak_host_init import (
    ENV_PATH,
    START_COMMANDS,
    DatabaseEndpoint,
    render_keycloak_cloud_init,
    render_keycloak_env,
)
from components.render.secret_files import WRITER_PATH, secret_document
from settings import AzureDatabaseSettings

# Where an NSG rule may send Keycloak's traffic to a managed database in a subnet the stack names (its range is not
# known here): the service tag of the virtual network and its peers.
VIRTUAL_NETWORK = "VirtualNetwork"


@dataclass
class KeycloakHostArgs:
    realm_import: pulumi.Input[dict]
    """The realm Keycloak imports at first start (components.render.realm.render_realm_import)."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the VM and the Front Door profile."""
    location: pulumi.Input[str]
    """The region of the VM."""
    subnet_id: pulumi.Input[str]
    """The subnet of the VM; Private Link service network policies off."""
    profile_name: pulumi.Input[str]
    """The Front Door profile in front of the VM."""
    front_door_id: pulumi.Input[str]
    """That profile's id, which nginx requires in X-Azure-FDID."""
    database_subnet_id: pulumi.Input[str] | None = None
    """The subnet delegated to Flexible Server, for the managed database (unused with `existing_database_url`)."""
    virtual_network_id: pulumi.Input[str] | None = None
    """The VM's network, which the database's private DNS zone is linked to."""
    database_prefix: pulumi.Input[str] = VIRTUAL_NETWORK
    """Where the VM may reach the managed database: the delegated subnet's range, where the recipe knows it."""
    database: AzureDatabaseSettings = field(default_factory=AzureDatabaseSettings)
    """The managed database's size, backups and zones."""
    existing_database_url: str | None = None
    """A PostgreSQL of the stack's own, postgresql://<user>@<host>[:port]/<database>, instead of a managed one."""
    existing_database_password: pulumi.Input[str] | None = None
    """Its password (a stack secret)."""
    vm_size: str = "Standard_B2ms"
    """The VM's size; Keycloak wants about 1 GiB."""

    waf_policy_id: pulumi.Input[str] | None = None
    """The Front Door WAF policy that guards its endpoint: who may reach it, and how fast."""

class KeycloakHost(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """Keycloak's public base URL (https://<endpoint>.azurefd.net)."""

    def __init__(self, name: str, args: KeycloakHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:KeycloakHost", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg = args.resource_group_name
        admin_password = pulumi.Output.secret(random.RandomPassword(f"{name}-admin-password", length=24, special=False,
                                                                    opts=child).result)
        if args.existing_database_url:
            database = pulumi.Output.from_input(DatabaseEndpoint.from_url(args.existing_database_url))
            db_password = pulumi.Output.secret(args.existing_database_password)
            to_database = Egress(Reach.DATABASE, url_destination(args.existing_database_url))
        else:
            managed = KeycloakDatabase(f"{name}-db", KeycloakDatabaseArgs(
                resource_group_name=rg, location=args.location, subnet_id=args.database_subnet_id,
                virtual_network_id=args.virtual_network_id, settings=args.database), opts=child)
            database, db_password = managed.endpoint, managed.password
            to_database = Egress(Reach.DATABASE)  # at `database_prefix`
        vm = OriginVm(name, OriginVmArgs(
            custom_data=pulumi.Output.all(args.realm_import, args.front_door_id, database).apply(
                lambda a: render_keycloak_cloud_init(realm_import=a[0], origin_check=FrontDoorCheck(a[1]),
                                                     database=a[2], fetch_secrets=None)),
            resource_group_name=rg, location=args.location, subnet_id=args.subnet_id,
            egress=egress_plan(to_database), database_prefix=args.database_prefix, vm_size=args.vm_size),
            opts=child)
        own = endpoint(name, self, resource_group_name=rg, profile_name=args.profile_name,
                       waf_policy_id=args.waf_policy_id)
        vm_route(name, self, resource_group_name=rg, profile_name=args.profile_name, endpoint_name=own.name,
                 location=args.location, origin_host=vm.origin_host,
                 private_link_service_id=vm.private_link_service_id, patterns=["/*"])
        compute.VirtualMachineExtension(
            f"{name}-start", resource_group_name=rg, location=args.location, vm_name=vm.vm_name,
            publisher="Microsoft.Azure.Extensions", type="CustomScript", type_handler_version="2.1",
            auto_upgrade_minor_version=True,
            protected_settings=pulumi.Output.secret(pulumi.Output.all(admin_password, db_password).apply(
                lambda p: {"script": base64.b64encode(start_script({ENV_PATH: render_keycloak_env(
                    admin_password=p[0], db_password=p[1])}).encode()).decode()})),
            opts=child)
        self.url = pulumi.Output.concat("https://", own.host_name)
        self.register_outputs({"url": self.url})


def start_script(files: dict[str, str]) -> str:
    """What the extension runs on the VM: once cloud-init has installed everything, the secret files (written by the
    same writer the AWS VMs use, components/render/secret_files.py), then Keycloak."""
    encoded = base64.b64encode(secret_document(files).encode()).decode()
    return "\n".join([
        "#!/bin/sh",
        "set -eu",
        "cloud-init status --wait || test $? -eq 2  # 2: done, with warnings (cloud-init 23.4 and later)",
        f"echo {encoded} | base64 -d | {WRITER_PATH}",
        *(shlex.join(command) for command in START_COMMANDS),
        "",
    ])
