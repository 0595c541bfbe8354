"""KeycloakHost on Azure: Keycloak in production mode on an OriginVm, at its own Front Door endpoint.

Custom data is not secret on Azure, so the cloud-init carries the realm and the configuration only.
The passwords arrive through a CustomScript extension, whose protected settings Azure keeps encrypted
and hands only to the VM; its script waits for cloud-init, writes the environment file and starts
Keycloak (components/render/keycloak_host_init.py: ENV_PATH, START_COMMANDS).
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.compute as compute
import pulumi_random as random

from components.azure.front_door import FDID_HEADER, endpoint, vm_route
from components.azure.origin_vm import OriginVm, OriginVmArgs
from components.render.keycloak_host_init import (ENV_PATH, START_COMMANDS, render_keycloak_cloud_init,
                                                  render_keycloak_env)


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
        passwords = [pulumi.Output.secret(random.RandomPassword(f"{name}-{p}-password", length=24, special=False,
                                                                opts=child).result) for p in ("admin", "db")]
        vm = OriginVm(name, OriginVmArgs(
            custom_data=pulumi.Output.all(args.realm_import, args.front_door_id).apply(
                lambda a: render_keycloak_cloud_init(realm_import=a[0], origin_check=(FDID_HEADER, a[1]), env=None)),
            resource_group_name=rg, location=args.location, subnet_id=args.subnet_id, vm_size=args.vm_size),
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
            protected_settings=pulumi.Output.secret(pulumi.Output.all(*passwords).apply(
                lambda p: {"script": base64.b64encode(start_script(render_keycloak_env(
                    admin_password=p[0], db_password=p[1])).encode()).decode()})),
            opts=child)
        self.url = pulumi.Output.concat("https://", own.host_name)
        self.register_outputs({"url": self.url})


def start_script(env: str) -> str:
    """What the extension runs on the VM: once cloud-init has installed everything, the secrets, then Keycloak."""
    encoded = base64.b64encode(env.encode()).decode()
    return "\n".join([
        "#!/bin/sh",
        "set -eu",
        "cloud-init status --wait || test $? -eq 2  # 2: done, with warnings (cloud-init 23.4 and later)",
        f"install -d -m 0755 {shlex.quote(ENV_PATH.rsplit('/', 1)[0])}",
        f"(umask 077 && echo {encoded} | base64 -d > {shlex.quote(ENV_PATH)})",
        *(shlex.join(command) for command in START_COMMANDS),
        "",
    ])
