"""KeycloakHost on AWS: Keycloak in production mode on an OriginVm, at its own HTTPS CloudFront URL, its accounts in
RDS for PostgreSQL (or a database the stack names), its secrets in Secrets Manager.

    CloudFront --VPC origin--> NLB --> Keycloak VM --TLS--> RDS for PostgreSQL (KeycloakDatabase, protected)
                                           ^-- Secrets Manager (VmSecrets: this VM's role reads its own secret only)

The VM holds nothing users made: replacing it (a new image, another subnet) keeps every account. Its realm import
names the viewer's URL, so the recipe creates it after the viewer's site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws.database import PORT, KeycloakDatabase, KeycloakDatabaseArgs
from components.aws.origin_vm import (
    ALL_METHODS,
    ALL_VIEWER,
    OriginRoute,
    OriginVm,
    OriginVmArgs,
    Placement,
    origin_secret,
    own_distribution,
)
from components.aws.vm_secrets import VmSecrets, VmSecretsArgs
from components.egress import Egress, Reach, egress_plan, url_destination
from components.render.dicomweb_proxy.origin import SecretFileCheck, SharedSecretCheck
from components.render.keycloak_host_init import (
    ENV_PATH,
    RDS_CA_BUNDLE_URL,
    DatabaseEndpoint,
    render_keycloak_cloud_init,
    render_keycloak_env,
)
from settings import AwsDatabaseSettings


@dataclass
class KeycloakHostArgs:
    realm_import: pulumi.Input[dict]
    """The realm Keycloak imports at its first start (components/render/realm.py)."""
    placement: Placement
    """The VPC and private subnet of the VM."""
    database_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    """Private subnets in two zones for the managed database (unused with `existing_database_url`)."""
    database: AwsDatabaseSettings = field(default_factory=AwsDatabaseSettings)
    """The managed database's size, backups and zones."""
    existing_database_url: str | None = None
    """A PostgreSQL of the stack's own, postgresql://<user>@<host>[:port]/<database>, instead of a managed one."""
    existing_database_password: pulumi.Input[str] | None = None
    """Its password (a stack secret)."""
    instance_type: str = "t3.medium"
    """The VM's size; Keycloak wants about 1 GiB."""
    price_class: str = "PriceClass_100"
    """Edge locations of Keycloak's distribution."""
    web_acl_id: pulumi.Input[str] | None = None
    """The WAF web ACL (its ARN) in front of Keycloak's distribution: who may reach it, and how fast."""


class KeycloakHost(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """Keycloak's public base URL (https://<distribution>.cloudfront.net)."""

    def __init__(self, name: str, args: KeycloakHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:KeycloakHost", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        admin_password = pulumi.Output.secret(random.RandomPassword(
            f"{name}-admin-password", length=24, special=False, opts=child).result)
        secret = origin_secret(f"{name}-origin-secret", child)
        database = None
        if args.existing_database_url:
            endpoint = pulumi.Output.from_input(DatabaseEndpoint.from_url(args.existing_database_url,
                                                                          ca_url=RDS_CA_BUNDLE_URL))
            db_password = pulumi.Output.secret(args.existing_database_password)
            to_database = Egress(Reach.DATABASE, url_destination(args.existing_database_url))
        else:
            database = KeycloakDatabase(f"{name}-db", KeycloakDatabaseArgs(
                vpc_id=args.placement.vpc_id, subnet_ids=args.database_subnet_ids, settings=args.database), opts=child)
            endpoint, db_password = database.endpoint, database.password
            to_database = Egress(Reach.DATABASE)  # by its security group
        origin_check = SecretFileCheck()  # its value, a secret, is written at boot
        secrets = VmSecrets(name, VmSecretsArgs(purpose="ohif-keycloak", files=pulumi.Output.all(
            admin_password, db_password, secret).apply(lambda a: {
                ENV_PATH: render_keycloak_env(admin_password=a[0], db_password=a[1]),
                origin_check.path: SharedSecretCheck(a[2]).directives()})), opts=child)
        user_data = pulumi.Output.all(args.realm_import, endpoint, secrets.fetch).apply(
            lambda a: render_keycloak_cloud_init(realm_import=a[0], origin_check=origin_check, database=a[1],
                                                 fetch_secrets=a[2]))
        # No archive: Keycloak's VM reaches DNS, HTTP(S) (packages, its container image, Secrets Manager) and its
        # database. Balanced: Keycloak's URL must not wait for its VM, whose realm waits for the viewer's URL
        # (components/aws/origin_vm.py).
        vm = OriginVm(name, OriginVmArgs(purpose="ohif-keycloak", user_data=user_data, placement=args.placement,
                                         balanced=True, instance_type=args.instance_type, volume_size=20,
                                         instance_profile=secrets.instance_profile_name,
                                         egress=egress_plan(to_database),
                                         database_security_group_id=database.security_group_id if database else None),
                      opts=child)
        if database is not None:
            aws.vpc.SecurityGroupIngressRule(f"{name}-db-from-keycloak", security_group_id=database.security_group_id,
                                             referenced_security_group_id=vm.security_group_id, ip_protocol="tcp",
                                             from_port=PORT, to_port=PORT, description="the Keycloak VM",
                                             opts=child)
        # The viewer's Host header reaches Keycloak, which builds its issuer URL from it.
        route = OriginRoute(origin_id="keycloak", domain_name=vm.origin_domain, vpc_origin_id=vm.vpc_origin_id,
                            secret=secret, methods=ALL_METHODS, origin_request_policy=ALL_VIEWER)
        distribution = own_distribution(f"{name}-cdn", route, "OHIF Keycloak", args.price_class, args.web_acl_id,
                                        child)
        self.url = pulumi.Output.concat("https://", distribution.domain_name)
        self.register_outputs({"url": self.url})
