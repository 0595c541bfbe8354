"""aws-cloudfront-cors-no-wildcard: in production, CloudFront's CORS headers name their origins."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, PRODUCTION_SCHEMA, get, is_production


def validate(args, report_violation):
    if args.resource_type != "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy" or not is_production(args):
        return
    if "*" in get(args.props, "corsConfig", "accessControlAllowOrigins", "items", default=[]):
        report_violation(f"ResponseHeadersPolicy {args.name} allows origin * in a production stack. List the viewer "
                         f"origins instead. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-cors-no-wildcard",
    description="No * origin in a CloudFront response headers policy's CORS in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
