"""Front Door pieces the components share: an endpoint of their own, a route to one VM over Private Link (and the
approval of that link), and a route to a private blob container with its rule set."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.resources as resources
import pulumi_random as random

from components.azure.site_rules import COMPRESSIBLE, QUERY_STRING_CACHING, SiteRule

LOCATION = "global"  # Front Door profiles and endpoints live in no region
# Front Door sends its profile's id in X-Azure-FDID (components/render/dicomweb_proxy/interface.py:
# FRONT_DOOR_ID_HEADER); the VMs' nginx refuses any other value (its FrontDoorCheck): a defence in depth behind
# Private Link, and the one thing that told our Front Door from other tenants' where origins were public
# (learn.microsoft.com/azure/frontdoor/origin-security).
# One origin per group: load balancing has nothing to choose between; these are the portal's defaults.
LOAD_BALANCING = cdn.LoadBalancingSettingsParametersArgs(sample_size=4, successful_samples_required=3,
                                                         additional_latency_in_milliseconds=50)
STORAGE_SCOPE = "https://storage.azure.com/.default"
"""What Front Door's managed identity asks a token for when it signs in to blob storage."""
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # Azure built-in role "Network Contributor"
AZ_CLI_VERSION = "2.52.0"  # the Azure CLI image the approval script runs in


def endpoint(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
             profile_name: pulumi.Input[str], waf_policy_id: pulumi.Input[str] | None,
             custom_domain_ids: Sequence[pulumi.Input[str]] = ()) -> cdn.AFDEndpoint:
    """An endpoint: an HTTPS host name of its own, <name>-<hash>.z01.azurefd.net; with `waf_policy_id`, that WAF
    policy guards it and its custom domains (each is named in the association: an endpoint's covers its azurefd.net
    name alone)."""
    own = cdn.AFDEndpoint(f"{name}-endpoint", resource_group_name=resource_group_name, profile_name=profile_name,
                          location=LOCATION, enabled_state="Enabled", opts=pulumi.ResourceOptions(parent=parent))
    if waf_policy_id is not None:
        cdn.SecurityPolicy(
            f"{name}-firewall", resource_group_name=resource_group_name, profile_name=profile_name,
            parameters=cdn.SecurityPolicyWebApplicationFirewallParametersArgs(
                type="WebApplicationFirewall", waf_policy=cdn.ResourceReferenceArgs(id=waf_policy_id),
                associations=[cdn.SecurityPolicyWebApplicationFirewallAssociationArgs(
                    domains=[cdn.ActivatedResourceReferenceArgs(id=i) for i in [own.id, *custom_domain_ids]],
                    patterns_to_match=["/*"])]),
            opts=pulumi.ResourceOptions(parent=parent))
    return own


def vm_route(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
             profile_name: pulumi.Input[str], endpoint_name: pulumi.Input[str], location: pulumi.Input[str],
             origin_host: pulumi.Input[str], private_link_service_id: pulumi.Input[str], patterns: Sequence[str],
             custom_domain_ids: Sequence[pulumi.Input[str]] = ()) -> cdn.Route:
    """The VM as the one origin of a route, reached over Private Link (Front Door Premium): HTTPS only at the edge, and
    never cached, because responses are per user and a caching route would not forward `Accept`, which DICOMweb
    negotiates on (front-door-caching.md)."""
    child = pulumi.ResourceOptions(parent=parent)
    group = cdn.AFDOriginGroup(f"{name}-origins", resource_group_name=resource_group_name, profile_name=profile_name,
                               load_balancing_settings=LOAD_BALANCING, opts=child)
    # A generated word in the request lets the approval pick out our request, and only ours.
    request = pulumi.Output.concat("OHIF Front Door ", random.RandomPassword(
        f"{name}-link-request", length=24, special=False, opts=child).result)
    # No origin_host_header: the request's own Host reaches the VM, and Keycloak builds its URLs from it. The host
    # name is the internal load balancer's address (how-to-enable-private-link-internal-load-balancer.md).
    origin = cdn.AFDOrigin(
        f"{name}-origin", resource_group_name=resource_group_name, profile_name=profile_name,
        origin_group_name=group.name, host_name=origin_host, http_port=80, https_port=443, enabled_state="Enabled",
        shared_private_link_resource=cdn.SharedPrivateLinkResourcePropertiesArgs(
            private_link=cdn.ResourceReferenceArgs(id=private_link_service_id), private_link_location=location,
            request_message=request),
        opts=child)
    approve_private_link(name, parent, resource_group_name=resource_group_name, location=location,
                         private_link_service_id=private_link_service_id, request_message=request, origin=origin)
    return cdn.Route(
        f"{name}-route", resource_group_name=resource_group_name, profile_name=profile_name,
        endpoint_name=endpoint_name, origin_group=cdn.ResourceReferenceArgs(id=group.id),
        patterns_to_match=list(patterns), supported_protocols=["Https"], https_redirect="Disabled",
        # Plain HTTP, but over Private Link: Microsoft's backbone from Front Door's private endpoint to the VM's
        # Private Link service, never the internet (private-link.md). HTTPS would need a certificate from a CA on
        # Microsoft's list for the origin's name (end-to-end-tls.md), which a private VM cannot get.
        forwarding_protocol="HttpOnly", link_to_default_domain="Enabled",
        custom_domains=[cdn.ActivatedResourceReferenceArgs(id=i) for i in custom_domain_ids],
        # A route needs an origin in its group.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin]))


def approve_private_link(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
                         location: pulumi.Input[str], private_link_service_id: pulumi.Input[str],
                         request_message: pulumi.Input[str], origin: pulumi.Resource) -> resources.AzureCliScript:
    """Approve the private endpoint connection Front Door requests at the VM's Private Link service. Front Door
    creates its private endpoint in a network of Microsoft's, and the connection waits for the service owner's
    approval before any traffic passes (private-link.md: "You must approve the private endpoint connection"). No
    Pulumi resource approves a connection someone else created, so a deployment script does: Azure runs the Azure
    CLI in a container, as an identity that may change this one Private Link service and nothing else."""
    child = pulumi.ResourceOptions(parent=parent)
    identity = managedidentity.UserAssignedIdentity(f"{name}-link-approver", resource_group_name=resource_group_name,
                                                    location=location, opts=child)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    role = authorization.RoleAssignment(
        f"{name}-link-approver", principal_id=identity.principal_id, principal_type="ServicePrincipal",
        role_definition_id=client.subscription_id.apply(
            lambda s: f"/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{NETWORK_CONTRIBUTOR}"),
        scope=private_link_service_id, opts=child)
    return resources.AzureCliScript(
        f"{name}-link-approval", resource_group_name=resource_group_name, location=location,
        kind="AzureCLI", az_cli_version=AZ_CLI_VERSION, script_content=approval_script(),
        identity=resources.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id]),
        environment_variables=[
            resources.EnvironmentVariableArgs(name="PLS_ID", value=private_link_service_id),
            resources.EnvironmentVariableArgs(name="REQUEST_MESSAGE", secure_value=request_message)],
        # Run again whenever the origin is recreated (a new private endpoint asks anew).
        force_update_tag=origin.id, timeout="PT30M", retention_interval="PT1H", cleanup_preference="Always",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[origin, role]))


def approval_script(attempts: int = 40, wait_seconds: int = 15) -> str:
    """The deployment script: wait for the connection whose request is REQUEST_MESSAGE at PLS_ID and approve it,
    keeping the request as its description, so a second run finds it approved and succeeds."""
    query = "privateEndpointConnections[?privateLinkServiceConnectionState.description=='${REQUEST_MESSAGE}']"
    return "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        'group=$(cut -d/ -f5 <<<"$PLS_ID"); service=$(cut -d/ -f9 <<<"$PLS_ID")',
        f"for attempt in $(seq 1 {attempts}); do",
        f'  found=$(az network private-link-service show --ids "$PLS_ID" --query "{query}.[name, '
        'privateLinkServiceConnectionState.status] | [0]" -o tsv)',
        '  read -r connection state <<<"${found:-none none}"',
        '  if [ "$state" = "Approved" ]; then echo "approved: $connection"; exit 0; fi',
        '  if [ "$state" = "Pending" ]; then',
        '    az network private-link-service connection update --resource-group "$group" --service-name "$service" '
        '--name "$connection" --connection-status Approved --description "$REQUEST_MESSAGE" -o none',
        "  fi",
        f"  sleep {wait_seconds}",
        "done",
        'echo "no connection request from our Front Door reached $PLS_ID in time" >&2',
        "exit 1",
        "",
    ])


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
