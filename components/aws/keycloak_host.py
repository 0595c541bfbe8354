"""KeycloakHost on AWS: Keycloak in production mode on an OriginVm, at its own HTTPS CloudFront URL.

Created in two steps, because its realm names the viewer's URL, which exists only once the viewer's
CDN does, while the viewer's config and the proxy already need Keycloak's URL:
`KeycloakHost(...)` makes the address, the CDN and the secrets; `launch(realm_import)` starts the VM.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.aws.origin_vm import ALL_METHODS, ALL_VIEWER, OriginVm, OriginVmArgs
from components.render.keycloak_host_init import render_keycloak_cloud_init


@dataclass
class KeycloakHostArgs:
    instance_type: str = "t3.medium"
    """The VM's size; Keycloak wants about 1 GiB."""
    price_class: str = "PriceClass_100"
    """Edge locations of Keycloak's distribution."""


class KeycloakHost(pulumi.ComponentResource):
    url: pulumi.Output[str]
    """Keycloak's public base URL (https://<distribution>.cloudfront.net)."""
    admin_password: pulumi.Output[str]
    """The bootstrap admin's generated password (a secret)."""

    def __init__(self, name: str, args: KeycloakHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:KeycloakHost", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vm = OriginVm(name, OriginVmArgs(purpose="ohif-keycloak", instance_type=args.instance_type,
                                              volume_size=20), opts=child)
        self.admin_password = pulumi.Output.secret(random.RandomPassword(
            f"{name}-admin-password", length=24, special=False, opts=child).result)
        self._db_password = pulumi.Output.secret(random.RandomPassword(
            f"{name}-db-password", length=24, special=False, opts=child).result)
        # The viewer's Host header reaches Keycloak, which builds its issuer URL from it.
        distribution = self.vm.own_distribution("keycloak", "OHIF Keycloak", args.price_class, ALL_METHODS,
                                                origin_request_policy=ALL_VIEWER)
        self.url = pulumi.Output.concat("https://", distribution.domain_name)
        self.register_outputs({"url": self.url, "admin_password": self.admin_password})

    def launch(self, realm_import: pulumi.Input[dict]) -> None:
        self.vm.launch(pulumi.Output.all(realm_import, self.admin_password, self._db_password,
                                         self.vm.origin_secret).apply(
            lambda a: render_keycloak_cloud_init(realm_import=a[0], admin_password=a[1], db_password=a[2],
                                                 origin_secret=a[3])))
