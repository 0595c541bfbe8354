"""azure-frontdoor-waf-rate-limit: in production, every Front Door endpoint has a WAF rate-limit rule, so one
client cannot copy the archive at the proxy's full speed (ohif:access.rate_limit)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, PRODUCTION_SCHEMA, is_production
from ._waf import rate_limits_azure, waf_policies_by_endpoint


def validate(args, report_violation):
    if not is_production(args):
        return
    for endpoint, policy in waf_policies_by_endpoint(args):
        if policy is None or not rate_limits_azure(policy):
            report_violation(f"Front Door endpoint {endpoint.name} has no WAF rate-limit rule that blocks: one "
                             "client may pull images as fast as the proxy sends them. Associate the stack's WAF "
                             f"policy (components/azure/edge_firewall.py). See {DOCS}", endpoint.urn)


POLICY = StackValidationPolicy(
    name="azure-frontdoor-waf-rate-limit",
    description="Every Front Door endpoint of a production stack has a WAF rate-limit rule.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
