"""aws-s3-cors-no-wildcard: in production, S3 CORS names its origins."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, PRODUCTION_SCHEMA, get, is_production


def validate(args, report_violation):
    if args.resource_type != "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration" or not is_production(args):
        return
    for rule in get(args.props, "corsRules", default=[]):
        if "*" in (rule.get("allowedOrigins") or []):
            report_violation(f"BucketCorsConfiguration {args.name} allows origin * in a production stack. List the "
                             f"viewer origins instead. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-s3-cors-no-wildcard",
    description="No * origin in S3 bucket CORS in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
