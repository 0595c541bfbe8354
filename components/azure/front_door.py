"""Front Door pieces the VM-backed components share: an endpoint of their own, and a route to one VM."""

from __future__ import annotations

from typing import Sequence

import pulumi
import pulumi_azure_native.cdn as cdn

LOCATION = "global"  # Front Door profiles and endpoints live in no region
FDID_HEADER = "X-Azure-FDID"
"""Front Door sends its profile's id in this header; the VMs' nginx refuses any other value, because other
tenants' Front Doors share the AzureFrontDoor.Backend addresses (learn.microsoft.com/azure/frontdoor/
origin-security)."""
# One origin per group: load balancing has nothing to choose between; these are the portal's defaults.
LOAD_BALANCING = cdn.LoadBalancingSettingsParametersArgs(sample_size=4, successful_samples_required=3,
                                                         additional_latency_in_milliseconds=50)


def endpoint(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
             profile_name: pulumi.Input[str]) -> cdn.AFDEndpoint:
    """An endpoint: an HTTPS host name of its own, <name>-<hash>.z01.azurefd.net."""
    return cdn.AFDEndpoint(f"{name}-endpoint", resource_group_name=resource_group_name, profile_name=profile_name,
                           location=LOCATION, enabled_state="Enabled", opts=pulumi.ResourceOptions(parent=parent))


def vm_route(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
             profile_name: pulumi.Input[str], endpoint_name: pulumi.Input[str], origin_host: pulumi.Input[str],
             patterns: Sequence[str], custom_domain_ids: Sequence[pulumi.Input[str]] = ()) -> cdn.Route:
    """The VM as the one origin of a route: HTTPS only at the edge, and never cached, because responses are
    per user and a caching route would not forward `Accept`, which DICOMweb negotiates on (front-door-caching.md)."""
    child = pulumi.ResourceOptions(parent=parent)
    group = cdn.AFDOriginGroup(f"{name}-origins", resource_group_name=resource_group_name, profile_name=profile_name,
                               load_balancing_settings=LOAD_BALANCING, opts=child)
    # No origin_host_header: the request's own Host reaches the VM, and Keycloak builds its URLs from it.
    origin = cdn.AFDOrigin(f"{name}-origin", resource_group_name=resource_group_name, profile_name=profile_name,
                           origin_group_name=group.name, host_name=origin_host, http_port=80, https_port=443,
                           enabled_state="Enabled", opts=child)
    return cdn.Route(
        f"{name}-route", resource_group_name=resource_group_name, profile_name=profile_name,
        endpoint_name=endpoint_name, origin_group=cdn.ResourceReferenceArgs(id=group.id),
        patterns_to_match=list(patterns), supported_protocols=["Https"], https_redirect="Disabled",
        # Plain HTTP from Front Door to the VM: Front Door accepts only publicly trusted certificates at an
        # origin, which a VM behind it has no name to obtain. The NSG and the FDID check guard this hop.
        forwarding_protocol="HttpOnly", link_to_default_domain="Enabled",
        custom_domains=[cdn.ActivatedResourceReferenceArgs(id=i) for i in custom_domain_ids],
        # A route needs an origin in its group.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin]))
