"""azure-frontdoor-waf-allow-list: a production stack without login that does not declare itself public admits only
its allowed networks, at every Front Door endpoint (ohif:access.allowed_networks), judged on the connection's
address (SocketAddr; RemoteAddr is read from X-Forwarded-For, which a client writes)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import ACCESS_SCHEMA, DOCS, is_production, is_public
from ._waf import blocks_outside_networks_azure, logs_users_in, waf_policies_by_endpoint


def validate(args, report_violation):
    if not is_production(args) or is_public(args) or logs_users_in(args):
        return
    for endpoint, policy in waf_policies_by_endpoint(args):
        if policy is None or not blocks_outside_networks_azure(policy):
            report_violation(f"Front Door endpoint {endpoint.name} serves anyone: no WAF policy associated with it "
                             "blocks socket addresses outside a list. Say who may read: ohif:access.allowed_networks, "
                             "login (recipe user-account-control), or public: true for de-identified data (and the "
                             f"policy config public). See {DOCS}", endpoint.urn)


POLICY = StackValidationPolicy(
    name="azure-frontdoor-waf-allow-list",
    description="Without login or a public statement, every Front Door endpoint has a WAF allow-list.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, config_schema=ACCESS_SCHEMA,
    validate=validate)
