"""azure-frontdoor-frame-ancestors-no-wildcard: in production, only the host applications it names may frame the viewer.

Front Door sends Content-Security-Policy from a rule set: a `ModifyResponseHeader` action that overwrites
or appends it (components/azure/site_rules.py). Its frame-ancestors sources may be `'self'`, `'none'` and
exact origins; `*`, a source with a wildcard (`*.example.org`) or a scheme-only source (`https:`) is refused
(_csp.py says why). Outside production, a stack may frame the viewer more loosely (the `production` setting).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import RULE, overwritten_headers
from ._common import DOCS, PRODUCTION_SCHEMA, is_production
from ._csp import CSP_HEADER, frame_ancestors, unnamed_sources


def validate(args, report_violation):
    if args.resource_type != RULE or not is_production(args):
        return
    bad = [s for name, value in overwritten_headers(args) if name == CSP_HEADER
           for s in unnamed_sources(frame_ancestors(value))]
    if bad:
        report_violation(f"Rule {args.name} lets pages it does not name frame the viewer in a production stack "
                         f"(frame-ancestors {' '.join(bad)}). List the host applications' exact origins in "
                         f"embed.host_origins. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-frontdoor-frame-ancestors-no-wildcard",
    description="No wildcard or scheme-only frame-ancestors source in a Content-Security-Policy a Front Door rule "
                "sets, in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
