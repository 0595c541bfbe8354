"""aws-cloudfront-waf-rate-limit: in production, every CloudFront distribution has a WAF rate-based rule, so one
client cannot copy the archive at the proxy's full speed (ohif:access.rate_limit)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, PRODUCTION_SCHEMA, is_production
from ._waf import rate_limits, web_acls_by_distribution


def validate(args, report_violation):
    if not is_production(args):
        return
    for distribution, acl in web_acls_by_distribution(args):
        if acl is None or not rate_limits(acl):
            report_violation(f"Distribution {distribution.name} has no WAF rate-based rule that blocks: one client "
                             "may pull images as fast as the proxy sends them. Attach the stack's web ACL "
                             f"(components/aws/edge_firewall.py). See {DOCS}", distribution.urn)


POLICY = StackValidationPolicy(
    name="aws-cloudfront-waf-rate-limit",
    description="Every CloudFront distribution of a production stack has a WAF rate-based rule.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
