"""aws-cloudfront-origin-header-secret: origin-verification headers stay encrypted in the state.

A policy cannot see whether a value came from a secret (the Python policy SDK unwraps secrets), but it
can see the `additional_secret_outputs` option, which encrypts the property even if a fork replaces
the generated secret with a plain string.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION
from ._common import DOCS


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    if any(o.get("customHeaders") for o in args.props.get("origins") or []) and \
            "origins" not in (args.opts.additional_secret_outputs or []):
        report_violation(f"Distribution {args.name} sends custom origin headers (an origin secret) but does not keep "
                         f"`origins` secret. Add additional_secret_outputs=['origins']. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-origin-header-secret",
    description="Distributions with custom origin headers keep their origins secret in the state.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
