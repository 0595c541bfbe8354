"""The edge firewalls as several rules read them: which WAF guards each CloudFront distribution and Front Door
endpoint, what its rules do, and whether the stack logs users in (then login, not an allow-list, says who reads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._cloudfront import DISTRIBUTION
from ._common import get, resources_of
from ._keycloak import REALM, realm_imports

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
IP_SET = "aws:wafv2/ipSet:IpSet"
ENDPOINT = "azure-native:cdn:AFDEndpoint"
SECURITY_POLICY = "azure-native:cdn:SecurityPolicy"
WAF_POLICY = "azure-native:frontdoor:Policy"


def logs_users_in(args: Any) -> bool:
    """A Keycloak realm in the stack: managed on yours (pulumi-keycloak), or imported by a provisioned Keycloak."""
    return any(r.resource_type == REALM or any(realm_imports(r)) for r in args.resources)


def _statements(statement: dict) -> Iterator[dict]:
    """A WAF statement and every statement nested in it."""
    yield statement
    for key in ("andStatement", "orStatement"):
        for inner in get(statement, key, "statements", default=[]):
            yield from _statements(inner)
    if get(statement, "notStatement", "statement"):
        yield from _statements(statement["notStatement"]["statement"])


def web_acls_by_distribution(args: Any) -> Iterator[tuple[Any, dict | None]]:
    """Each distribution, and the web ACL its webAclId names (None: none of the stack's)."""
    acls = {r.props.get("arn"): r.props for r in resources_of(args, WEB_ACL)}
    for distribution in resources_of(args, DISTRIBUTION):
        yield distribution, acls.get(distribution.props.get("webAclId"))


def blocks_outside_networks(args: Any, acl: dict) -> bool:
    """The ACL blocks what is not in an IP set that holds addresses (`not` an IP set reference, action block)."""
    filled = {r.props.get("arn") for r in resources_of(args, IP_SET) if r.props.get("addresses")}
    for rule in acl.get("rules") or []:
        if "block" not in (rule.get("action") or {}):
            continue
        negated = get(rule, "statement", "notStatement", "statement")
        if negated and any(get(s, "ipSetReferenceStatement", "arn") in filled for s in _statements(negated)):
            return True
    return False


def rate_limits(acl: dict) -> bool:
    return any(get(rule, "statement", "rateBasedStatement") and "block" in (rule.get("action") or {})
               for rule in acl.get("rules") or [])


def waf_policies_by_endpoint(args: Any) -> Iterator[tuple[Any, dict | None]]:
    """Each Front Door endpoint, and the WAF policy a security policy associates with it (None: none)."""
    policies = {r.props.get("id"): r.props for r in resources_of(args, WAF_POLICY)}
    guarded: dict[str, dict] = {}
    for security in resources_of(args, SECURITY_POLICY):
        policy = policies.get(get(security.props, "parameters", "wafPolicy", "id"))
        for association in get(security.props, "parameters", "associations", default=[]):
            for domain in association.get("domains") or []:
                if policy is not None and "/*" in (association.get("patternsToMatch") or []):
                    guarded[domain.get("id")] = policy
    for endpoint in resources_of(args, ENDPOINT):
        yield endpoint, guarded.get(endpoint.props.get("id"))


def _custom_rules(policy: dict) -> list[dict]:
    return get(policy, "customRules", "rules", default=[])


def blocks_outside_networks_azure(policy: dict) -> bool:
    """A Block rule whose condition is a negated IP match on the connection's address, with addresses."""
    return any(rule.get("action") == "Block" and any(
        c.get("operator") == "IPMatch" and c.get("negateCondition") and c.get("matchValue")
        and c.get("matchVariable") == "SocketAddr" for c in rule.get("matchConditions") or [])
        for rule in _custom_rules(policy))


def rate_limits_azure(policy: dict) -> bool:
    return any(rule.get("ruleType") == "RateLimitRule" and rule.get("action") == "Block"
               for rule in _custom_rules(policy))
