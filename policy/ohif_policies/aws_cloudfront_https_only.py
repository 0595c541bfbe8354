"""aws-cloudfront-https-only: browsers reach the viewer and the archive over HTTPS only."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION, behaviors
from ._common import DOCS


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    for behavior in behaviors(args.props):
        if behavior.get("viewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
            path = behavior.get("pathPattern", "default")
            report_violation(f"Distribution {args.name} behaviour {path} allows plain HTTP "
                             f"({behavior.get('viewerProtocolPolicy')}). Use redirect-to-https or https-only. "
                             f"See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-https-only",
    description="Every CloudFront behaviour redirects or refuses plain HTTP.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
