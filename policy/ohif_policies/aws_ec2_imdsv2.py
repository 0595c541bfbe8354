"""aws-ec2-imdsv2: instance metadata answers session-token (IMDSv2) requests only.

A request forged through the proxy (SSRF) cannot then reach the instance's credentials.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, get

TOKENS = ("aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate")


def validate(args, report_violation):
    if args.resource_type in TOKENS and get(args.props, "metadataOptions", "httpTokens") != "required":
        report_violation(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} allows IMDSv1. Set "
                         f"metadataOptions.httpTokens to required. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-imdsv2",
    description="EC2 instances and launch templates require IMDSv2.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
