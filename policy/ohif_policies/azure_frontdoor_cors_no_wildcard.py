"""azure-frontdoor-cors-no-wildcard: in production, Front Door's CORS headers name their origins.

Front Door keeps one copy of a file for every origin, so the rule set of files other origins read
sets `Access-Control-Allow-Origin` itself, one rule per allowed origin matched on the request's Origin
(components/azure/site_rules.py: file_rules). A rule that overwrites or appends the header with `*`
lets any site read the files.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import RULE, overwritten_headers
from ._common import DOCS, PRODUCTION_SCHEMA, is_production

ALLOW_ORIGIN = "access-control-allow-origin"


def validate(args, report_violation):
    if args.resource_type != RULE or not is_production(args):
        return
    if any(name == ALLOW_ORIGIN and value.strip() == "*" for name, value in overwritten_headers(args)):
        report_violation(f"Rule {args.name} sets Access-Control-Allow-Origin * in a production stack. Set each "
                         f"allowed origin in a rule of its own, matched on the request's Origin "
                         f"(components/azure/site_rules.py: file_rules). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-frontdoor-cors-no-wildcard",
    description="No Front Door rule sets Access-Control-Allow-Origin * in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
