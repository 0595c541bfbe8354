"""aws-cloudfront-frame-ancestors-no-wildcard: in production, only the host applications it names may frame the viewer.

CloudFront sends Content-Security-Policy from a response headers policy's security headers
(securityHeadersConfig.contentSecurityPolicy; components/aws/static_site.py), and the rule reads a custom
header of that name as well. Its frame-ancestors sources may be `'self'`, `'none'` and exact origins;
`*`, a source with a wildcard (`*.example.org`) or a scheme-only source (`https:`) is refused (_csp.py
says why). Outside production, a stack may frame the viewer more loosely (the `production` setting).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, PRODUCTION_SCHEMA, get, is_production
from ._csp import CSP_HEADER, frame_ancestors, unnamed_sources

TOKEN = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"


def validate(args, report_violation):
    if args.resource_type != TOKEN or not is_production(args):
        return
    values = [get(args.props, "securityHeadersConfig", "contentSecurityPolicy", "contentSecurityPolicy")]
    values += [i.get("value") for i in get(args.props, "customHeadersConfig", "items", default=[])
               if str(i.get("header") or "").lower() == CSP_HEADER]
    bad = [s for value in values if isinstance(value, str) for s in unnamed_sources(frame_ancestors(value))]
    if bad:
        report_violation(f"ResponseHeadersPolicy {args.name} lets pages it does not name frame the viewer in a "
                         f"production stack (frame-ancestors {' '.join(bad)}). List the host applications' exact "
                         f"origins in embed.host_origins. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-frame-ancestors-no-wildcard",
    description="No wildcard or scheme-only frame-ancestors source in a CloudFront response headers policy's CSP "
                "in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
