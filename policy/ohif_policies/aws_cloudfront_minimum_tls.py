"""aws-cloudfront-minimum-tls: a custom certificate serves TLS 1.2 (2021 ciphers) or newer only."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION
from ._common import DOCS, get

ALLOWED = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    certificate = get(args.props, "viewerCertificate", default={})
    if not (certificate.get("acmCertificateArn") or certificate.get("iamCertificateId")):
        return  # the cloudfront.net certificate: CloudFront fixes its TLS policy
    if certificate.get("minimumProtocolVersion") not in ALLOWED:
        report_violation(f"Distribution {args.name} accepts {certificate.get('minimumProtocolVersion')}. Set "
                         f"viewerCertificate.minimumProtocolVersion to TLSv1.2_2021 or newer. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-minimum-tls",
    description="A custom certificate's minimum protocol is TLSv1.2_2021 or newer.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
