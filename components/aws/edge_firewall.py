"""EdgeFirewall on AWS: one WAF web ACL that every CloudFront distribution of the stack names (`web_acl_id`).

    browser --> CloudFront + this web ACL, in order:
                  1. a realm's public keys: allowed (components/render/edge.py: KEY_SET_PREFIX)
                  2. outside `allowed_networks` (when given): 403
                  3. over `rate_limit` DICOMweb requests in five minutes from one address: 429, Retry-After
                --> storage, the proxy, Keycloak

Its scope is CLOUDFRONT, so it lives in us-east-1 whatever the stack's region: the target passes that provider in
`opts`. The IP sets match the address the request comes from, the socket peer CloudFront sees: no forwarded-IP
config, which would read a header (X-Forwarded-For) the client writes itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# The rate-based rule's scope-down statement has classes of its own, with long names.
from pulumi_aws.wafv2 import WebAclRuleStatementRateBasedStatementScopeDownStatementArgs as ScopeDown
from pulumi_aws.wafv2 import (
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementArgs as ScopeDownByteMatch,
)
from pulumi_aws.wafv2 import (
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs as ScopeDownField,
)
from pulumi_aws.wafv2 import (
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchUriPathArgs as ScopeDownUriPath,  # noqa: E501 (the SDK's name)
)
from pulumi_aws.wafv2 import (
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs as ScopeDownTransformation,  # noqa: E501 (the SDK's name)
)

from components.render.edge import (
    KEY_SET_PREFIX,
    KEY_SET_SUFFIX,
    RATE_LIMITED_PATH,
    RATE_RETRY_AFTER_SECONDS,
    RATE_WINDOW_SECONDS,
)

W = aws.wafv2
_SCOPE = "CLOUDFRONT"


@dataclass
class EdgeFirewallArgs:
    rate_limit: int
    """DICOMweb requests one client address may send in five minutes."""
    ipv4_networks: Sequence[str] = ()
    """IPv4 CIDRs admitted; with no network of either version, every address is."""
    ipv6_networks: Sequence[str] = ()
    """IPv6 CIDRs admitted."""


class EdgeFirewall(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    """What each distribution names in `web_acl_id`."""

    def __init__(self, name: str, args: EdgeFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:EdgeFirewall", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # One IP version per set (CreateIPSet's IPAddressVersion), so a set per version the list holds.
        sets = [W.IpSet(f"{name}-{version.lower()}", scope=_SCOPE, ip_address_version=version,
                        addresses=list(networks), description="Networks allowed to reach the OHIF viewer", opts=child)
                for version, networks in (("IPV4", args.ipv4_networks), ("IPV6", args.ipv6_networks)) if networks]
        rules = [_rule("realm-keys", 0, _realm_keys(), W.WebAclRuleActionArgs(allow=W.WebAclRuleActionAllowArgs()))]
        if sets:
            inside = [W.WebAclRuleStatementArgs(
                ip_set_reference_statement=W.WebAclRuleStatementIpSetReferenceStatementArgs(arn=s.arn)) for s in sets]
            either = inside[0] if len(inside) == 1 else W.WebAclRuleStatementArgs(
                or_statement=W.WebAclRuleStatementOrStatementArgs(statements=inside))
            rules.append(_rule("allowed-networks", 1, W.WebAclRuleStatementArgs(
                not_statement=W.WebAclRuleStatementNotStatementArgs(statement=either)),
                W.WebAclRuleActionArgs(block=W.WebAclRuleActionBlockArgs())))
        rules.append(_rule("dicomweb-rate-limit", 2, _rate_limit(args.rate_limit), W.WebAclRuleActionArgs(
            block=W.WebAclRuleActionBlockArgs(custom_response=W.WebAclRuleActionBlockCustomResponseArgs(
                response_code=429, response_headers=[W.WebAclRuleActionBlockCustomResponseResponseHeaderArgs(
                    name="Retry-After", value=str(RATE_RETRY_AFTER_SECONDS))])))))
        acl = W.WebAcl(f"{name}-acl", scope=_SCOPE, description="Who may reach the OHIF viewer, and how fast",
                       default_action=W.WebAclDefaultActionArgs(allow=W.WebAclDefaultActionAllowArgs()),
                       rules=rules, visibility_config=_visibility(f"{name}-acl"), opts=child)
        self.web_acl_arn = acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})


def _rule(name: str, priority: int, statement: W.WebAclRuleStatementArgs,
          action: W.WebAclRuleActionArgs) -> W.WebAclRuleArgs:
    return W.WebAclRuleArgs(name=name, priority=priority, statement=statement, action=action,
                            visibility_config=_visibility(name))


def _visibility(metric: str) -> W.WebAclVisibilityConfigArgs:
    # CloudWatch counts per rule; sampled requests show who was refused.
    return W.WebAclVisibilityConfigArgs(cloudwatch_metrics_enabled=True, metric_name=metric,
                                        sampled_requests_enabled=True)


def _path_match(position: str, text: str) -> W.WebAclRuleStatementArgs:
    return W.WebAclRuleStatementArgs(byte_match_statement=W.WebAclRuleStatementByteMatchStatementArgs(
        positional_constraint=position, search_string=text,
        field_to_match=W.WebAclRuleStatementByteMatchStatementFieldToMatchArgs(
            uri_path=W.WebAclRuleStatementByteMatchStatementFieldToMatchUriPathArgs()),
        text_transformations=[W.WebAclRuleStatementByteMatchStatementTextTransformationArgs(priority=0, type="NONE")]))


def _realm_keys() -> W.WebAclRuleStatementArgs:
    return W.WebAclRuleStatementArgs(and_statement=W.WebAclRuleStatementAndStatementArgs(statements=[
        _path_match("STARTS_WITH", KEY_SET_PREFIX), _path_match("ENDS_WITH", KEY_SET_SUFFIX)]))


def _rate_limit(limit: int) -> W.WebAclRuleStatementArgs:
    return W.WebAclRuleStatementArgs(rate_based_statement=W.WebAclRuleStatementRateBasedStatementArgs(
        limit=limit, evaluation_window_sec=RATE_WINDOW_SECONDS, aggregate_key_type="IP",
        scope_down_statement=ScopeDown(byte_match_statement=ScopeDownByteMatch(
            positional_constraint="STARTS_WITH", search_string=RATE_LIMITED_PATH,
            field_to_match=ScopeDownField(uri_path=ScopeDownUriPath()),
            text_transformations=[ScopeDownTransformation(priority=0, type="NONE")]))))
