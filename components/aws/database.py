"""KeycloakDatabase on AWS: RDS for PostgreSQL, where the provisioned Keycloak keeps its users, credentials and
sessions, so that they outlive every Keycloak VM.

    Keycloak VM --TLS (verify-full, port 5432)--> RDS for PostgreSQL (private subnets, two zones; no public address)

Encrypted storage, automated backups for `backup_retention_days` (point-in-time restore), deletion protection, a
final snapshot on delete, TLS required (`rds.force_ssl`), and a standby in a second zone with `multi_az`. Pulumi's
`protect` keeps `pulumi destroy` from removing it (README, "Keycloak's accounts": how to remove it on purpose).
Its security group admits the Keycloak VM's group alone, on 5432; the recipe adds that rule once the VM exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.render.keycloak_host_init import RDS_CA_BUNDLE_URL, DatabaseEndpoint
from settings import AwsDatabaseSettings

ENGINE_VERSION = "16"
PORT = 5432
STORAGE_GB = 20  # RDS's least for gp3; it grows by itself up to MAX_STORAGE_GB
MAX_STORAGE_GB = 100
CA = "rds-ca-rsa2048-g1"  # in RDS_CA_BUNDLE_URL's bundle, valid to 2061


@dataclass
class KeycloakDatabaseArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets in two or more availability zones (an RDS subnet group needs two)."""
    settings: AwsDatabaseSettings
    """Size, backups and zones, from the stack's `ohif:aws.keycloak_database`."""


class KeycloakDatabase(pulumi.ComponentResource):
    endpoint: pulumi.Output[DatabaseEndpoint]
    """Where Keycloak connects, and the CA bundle that vouches for the server."""
    password: pulumi.Output[str]
    """The generated password of its `keycloak` role (a secret)."""
    security_group_id: pulumi.Output[str]
    """The database's security group, which admits what the recipe lets in."""

    def __init__(self, name: str, args: KeycloakDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:KeycloakDatabase", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        self.password = pulumi.Output.secret(random.RandomPassword(f"{name}-password", length=32, special=False,
                                                                   opts=child).result)
        # No inline rules: the one ingress rule names the Keycloak VM's group, made after the VM (and the provider
        # removes AWS's default allow-all egress, which a database never needs).
        group = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                      description="Keycloak database: PostgreSQL from the Keycloak VM only",
                                      tags={"Name": f"{name}-keycloak-database"}, opts=child)
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=args.subnet_ids,
                                      description="Keycloak's database: private subnets", opts=child)
        parameters = aws.rds.ParameterGroup(
            f"{name}-parameters", family=f"postgres{ENGINE_VERSION}",
            description="Keycloak's database: TLS required",
            parameters=[aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1")], opts=child)
        instance = aws.rds.Instance(
            f"{name}-postgres", engine="postgres", engine_version=ENGINE_VERSION, instance_class=s.instance_class,
            allocated_storage=STORAGE_GB, max_allocated_storage=MAX_STORAGE_GB, storage_type="gp3",
            storage_encrypted=True, db_name="keycloak", username="keycloak", password=self.password, port=PORT,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[group.id], parameter_group_name=parameters.name,
            publicly_accessible=False, multi_az=s.multi_az, ca_cert_identifier=CA,
            backup_retention_period=s.backup_retention_days, copy_tags_to_snapshot=True,
            deletion_protection=True, skip_final_snapshot=False,
            final_snapshot_identifier=final_snapshot_name(pulumi.get_stack(), name),
            auto_minor_version_upgrade=True, apply_immediately=False,
            tags={"Name": f"{name}-keycloak-database"},
            opts=pulumi.ResourceOptions(parent=self, protect=True))
        self.security_group_id = group.id
        self.endpoint = instance.address.apply(lambda host: DatabaseEndpoint(host=host, port=PORT,
                                                                             ca_url=RDS_CA_BUNDLE_URL))
        self.register_outputs({"address": instance.address, "security_group_id": self.security_group_id})


def final_snapshot_name(stack: str, name: str) -> str:
    """`<stack>-<name>-final` as RDS takes it: letters, digits and single hyphens, a letter first, 255 at most."""
    snapshot = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9]", "-", f"{stack}-{name}-final")).strip("-")
    return (snapshot if snapshot[:1].isalpha() else f"ohif-{snapshot}")[:255]
