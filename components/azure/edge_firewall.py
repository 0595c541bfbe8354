"""EdgeFirewall on Azure: one Front Door WAF policy, which every endpoint of the profile is associated with
(components/azure/front_door.py: endpoint, through a security policy each).

    browser --> Front Door + this policy's custom rules, in order:
                  1. a realm's public keys: allowed (components/render/edge.py: KEY_SET_PREFIX)
                  2. a socket address outside `allowed_networks` (when given): 403
                  3. over `rate_limit` DICOMweb requests in five minutes from one socket address: 429
                --> storage, the proxy, Keycloak

Custom rules work on both tiers, so the policy takes the profile's own. The address judged is `SocketAddr`, the
address the connection comes from, and not `RemoteAddr`, which Front Door reads from X-Forwarded-For, a header the
client writes ("The RemoteAddr variable is the original client IP that's usually sent via the X-Forwarded-For
request header. The SocketAddr variable is the source IP address the WAF sees": learn.microsoft.com/azure/
web-application-firewall/afds/waf-front-door-configure-ip-restriction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.frontdoor as frontdoor

from components.azure.front_door import alnum
from components.render.edge import KEY_SET_PREFIX, KEY_SET_SUFFIX, RATE_LIMITED_PATH, RATE_WINDOW_SECONDS


@dataclass
class EdgeFirewallArgs:
    resource_group_name: pulumi.Input[str]
    tier: str
    """The Front Door profile's tier (Standard or Premium): a policy takes its profile's."""
    rate_limit: int
    """DICOMweb requests one client address may send in five minutes."""
    allowed_networks: Sequence[str] = ()
    """CIDRs (IPv4 and IPv6) admitted; with none, every address is."""


class EdgeFirewall(pulumi.ComponentResource):
    policy_id: pulumi.Output[str]
    """What each endpoint's security policy names."""

    def __init__(self, name: str, args: EdgeFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:EdgeFirewall", name, {}, opts)
        rules = [frontdoor.CustomRuleArgs(name="RealmKeys", priority=1, rule_type="MatchRule", action="Allow",
                                          match_conditions=[_uri("Contains", KEY_SET_PREFIX),
                                                            _uri("EndsWith", KEY_SET_SUFFIX)])]
        if args.allowed_networks:
            rules.append(frontdoor.CustomRuleArgs(
                name="AllowedNetworks", priority=2, rule_type="MatchRule", action="Block",
                match_conditions=[frontdoor.MatchConditionArgs(
                    match_variable="SocketAddr", operator="IPMatch", negate_condition=True,
                    match_value=list(args.allowed_networks))]))
        # Rate-limited blocks get 429, the others 403 (no custom status is set: it would apply to both).
        rules.append(frontdoor.CustomRuleArgs(
            name="DicomwebRateLimit", priority=3, rule_type="RateLimitRule", action="Block",
            rate_limit_duration_in_minutes=RATE_WINDOW_SECONDS // 60, rate_limit_threshold=args.rate_limit,
            group_by=[frontdoor.GroupByVariableArgs(variable_name="SocketAddr")],
            match_conditions=[_uri("Contains", RATE_LIMITED_PATH)]))
        policy = frontdoor.Policy(
            f"{name}-policy", resource_group_name=args.resource_group_name,
            policy_name=alnum(f"ohif{pulumi.get_stack()}{name}")[:128], location="Global",
            sku=frontdoor.SkuArgs(name=f"{args.tier}_AzureFrontDoor"),
            policy_settings=frontdoor.PolicySettingsArgs(enabled_state="Enabled", mode="Prevention"),
            custom_rules=frontdoor.CustomRuleListArgs(rules=rules), opts=pulumi.ResourceOptions(parent=self))
        self.policy_id = policy.id
        self.register_outputs({"policy_id": self.policy_id})


def _uri(operator: str, text: str) -> frontdoor.MatchConditionArgs:
    return frontdoor.MatchConditionArgs(match_variable="RequestUri", operator=operator, match_value=[text])
