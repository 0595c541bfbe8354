"""KeycloakHost on AWS: Keycloak in production mode on an OriginVm, at its own HTTPS CloudFront URL.

Its realm import names the viewer's URL, so the recipe creates it after the viewer's site.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.aws.origin_vm import (ALL_METHODS, ALL_VIEWER, OriginRoute, OriginVm, OriginVmArgs, Placement,
                                      origin_secret, own_distribution)
from components.render.keycloak_host_init import render_keycloak_cloud_init, render_keycloak_env
from components.render.proxy_nginx import ORIGIN_VERIFY_HEADER


@dataclass
class KeycloakHostArgs:
    realm_import: pulumi.Input[dict]
    """The realm Keycloak imports at its first start (components/render/realm.py)."""
    placement: Placement
    """The VPC and private subnet of the VM."""
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
        db_password = pulumi.Output.secret(random.RandomPassword(
            f"{name}-db-password", length=24, special=False, opts=child).result)
        secret = origin_secret(f"{name}-origin-secret", child)
        # EC2 user data is kept secret in the state, so the secrets travel in it.
        user_data = pulumi.Output.all(args.realm_import, admin_password, db_password, secret).apply(
            lambda a: render_keycloak_cloud_init(
                realm_import=a[0], origin_check=(ORIGIN_VERIFY_HEADER, a[3]),
                env=render_keycloak_env(admin_password=a[1], db_password=a[2])))
        # No archive: Keycloak's VM reaches only DNS and HTTP(S) (packages, its container image). Balanced: Keycloak's
        # URL must not wait for its VM, whose realm waits for the viewer's URL (components/aws/origin_vm.py).
        vm = OriginVm(name, OriginVmArgs(purpose="ohif-keycloak", user_data=user_data, placement=args.placement,
                                         balanced=True, instance_type=args.instance_type, volume_size=20),
                      opts=child)
        # The viewer's Host header reaches Keycloak, which builds its issuer URL from it.
        route = OriginRoute(origin_id="keycloak", domain_name=vm.origin_domain, vpc_origin_id=vm.vpc_origin_id,
                            secret=secret, methods=ALL_METHODS, origin_request_policy=ALL_VIEWER)
        distribution = own_distribution(f"{name}-cdn", route, "OHIF Keycloak", args.price_class, args.web_acl_id,
                                        child)
        self.url = pulumi.Output.concat("https://", distribution.domain_name)
        self.register_outputs({"url": self.url})
