"""aws-cloudfront-waf-allow-list: a production stack without login that does not declare itself public admits only
its allowed networks, at every CloudFront distribution (ohif:access.allowed_networks)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import ACCESS_SCHEMA, DOCS, is_production, is_public
from ._waf import blocks_outside_networks, logs_users_in, web_acls_by_distribution


def validate(args, report_violation):
    if not is_production(args) or is_public(args) or logs_users_in(args):
        return
    for distribution, acl in web_acls_by_distribution(args):
        if acl is None or not blocks_outside_networks(args, acl):
            report_violation(f"Distribution {distribution.name} serves anyone: it has no WAF web ACL that blocks "
                             "addresses outside an IP set. Say who may read: ohif:access.allowed_networks, login "
                             "(recipe user-account-control), or public: true for de-identified data (and the "
                             f"policy config public). See {DOCS}", distribution.urn)


POLICY = StackValidationPolicy(
    name="aws-cloudfront-waf-allow-list",
    description="Without login or a public statement, every CloudFront distribution has a WAF allow-list.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, config_schema=ACCESS_SCHEMA,
    validate=validate)
