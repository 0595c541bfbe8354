"""Front Door pieces the components share: an endpoint of their own, a route to one VM, and a route to a
private blob container with its rule set."""

from __future__ import annotations

import re
from typing import Sequence

import pulumi
import pulumi_azure_native.cdn as cdn

from components.azure.site_rules import COMPRESSIBLE, QUERY_STRING_CACHING, SiteRule

LOCATION = "global"  # Front Door profiles and endpoints live in no region
FDID_HEADER = "X-Azure-FDID"
"""Front Door sends its profile's id in this header; the VMs' nginx refuses any other value, because other
tenants' Front Doors share the AzureFrontDoor.Backend addresses (learn.microsoft.com/azure/frontdoor/
origin-security)."""
# One origin per group: load balancing has nothing to choose between; these are the portal's defaults.
LOAD_BALANCING = cdn.LoadBalancingSettingsParametersArgs(sample_size=4, successful_samples_required=3,
                                                         additional_latency_in_milliseconds=50)
STORAGE_SCOPE = "https://storage.azure.com/.default"
"""What Front Door's managed identity asks a token for when it signs in to blob storage."""


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


def storage_route(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
                  profile_name: pulumi.Input[str], endpoint_name: pulumi.Input[str], blob_host: pulumi.Input[str],
                  container: str, rules: Sequence[SiteRule], custom_domain_ids: Sequence[pulumi.Input[str]] = (),
                  depends_on: Sequence[pulumi.Resource] = ()) -> cdn.Route:
    """A private blob container as the one origin of a route at `/*`, with `rules` (components/azure/site_rules.py)
    as its rule set: Front Door signs in to storage with the profile's managed identity (origin authentication,
    learn.microsoft.com/azure/frontdoor/origin-authentication-with-managed-identities), over HTTPS only.

    The route has no method list (Front Door Standard/Premium routes take none): GET and HEAD are cached, and
    every other method, OPTIONS included, always goes to the origin (front-door-caching.md, "Request methods")."""
    child = pulumi.ResourceOptions(parent=parent)
    group = cdn.AFDOriginGroup(
        f"{name}-origins", resource_group_name=resource_group_name, profile_name=profile_name,
        load_balancing_settings=LOAD_BALANCING,
        authentication=cdn.OriginAuthenticationPropertiesArgs(type="SystemAssignedIdentity", scope=STORAGE_SCOPE),
        opts=child)
    origin = cdn.AFDOrigin(f"{name}-origin", resource_group_name=resource_group_name, profile_name=profile_name,
                           origin_group_name=group.name, host_name=blob_host, origin_host_header=blob_host,
                           https_port=443, enforce_certificate_name_check=True, enabled_state="Enabled", opts=child)
    rule_set = cdn.RuleSet(f"{name}-rules", resource_group_name=resource_group_name, profile_name=profile_name,
                           rule_set_name=f"{alnum(name)}Rules", opts=child)
    rule_resources = [
        cdn.Rule(f"{name}-rule-{r.name}", resource_group_name=resource_group_name, profile_name=profile_name,
                 rule_set_name=rule_set.name, rule_name=r.name, order=order, conditions=r.conditions,
                 actions=r.actions, match_processing_behavior="Stop" if r.stop else "Continue", opts=child)
        for order, r in enumerate(rules, start=1)]
    return cdn.Route(
        f"{name}-route", resource_group_name=resource_group_name, profile_name=profile_name,
        endpoint_name=endpoint_name, origin_group=cdn.ResourceReferenceArgs(id=group.id),
        origin_path=f"/{container}", patterns_to_match=["/*"],
        # HTTP is accepted only to be redirected; origin authentication needs HTTPS to storage.
        supported_protocols=["Http", "Https"], https_redirect="Enabled", forwarding_protocol="HttpsOnly",
        link_to_default_domain="Enabled",
        custom_domains=[cdn.ActivatedResourceReferenceArgs(id=i) for i in custom_domain_ids],
        cache_configuration=cdn.AfdRouteCacheConfigurationArgs(
            query_string_caching_behavior=QUERY_STRING_CACHING,
            compression_settings=cdn.CompressionSettingsArgs(is_compression_enabled=True,
                                                             content_types_to_compress=COMPRESSIBLE)),
        rule_sets=[cdn.ResourceReferenceArgs(id=rule_set.id)],
        # The rules exist before traffic flows, so no response goes out without its headers.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin, *rule_resources, *depends_on]))


def alnum(name: str) -> str:
    """`name` in the lower-case letters and digits that storage account and rule set names allow."""
    return re.sub(r"[^a-z0-9]", "", name.lower())
