"""aws-cloudfront-s3-origin-oac: CloudFront signs its S3 requests with Origin Access Control, not the legacy OAI."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION, is_s3_origin
from ._common import DOCS, get


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    for origin in args.props.get("origins") or []:
        if not is_s3_origin(origin):
            continue
        if not origin.get("originAccessControlId") or get(origin, "s3OriginConfig", "originAccessIdentity"):
            report_violation(f"Distribution {args.name} origin {origin.get('originId')} reads S3 without Origin "
                             f"Access Control. Set originAccessControlId and drop s3OriginConfig. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-s3-origin-oac",
    description="S3 origins are read through Origin Access Control.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
