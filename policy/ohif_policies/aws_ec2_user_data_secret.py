"""aws-ec2-user-data-secret: user data that holds a secret (the proxy's origin secret) stays encrypted in the state."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS

# What the DICOMweb proxy's nginx config checks; its value is the origin secret.
SECRET_MARKERS = ("$http_x_origin_verify",)


def validate(args, report_violation):
    if args.resource_type != "aws:ec2/instance:Instance":
        return
    user_data = args.props.get("userData") or ""
    if any(m in user_data for m in SECRET_MARKERS) and "userData" not in (args.opts.additional_secret_outputs or []):
        report_violation(f"Instance {args.name} has an origin secret in its user data but does not keep userData "
                         f"secret. Add additional_secret_outputs=['user_data']. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-user-data-secret",
    description="Instance user data holding a secret is kept secret in the state.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
