"""aws-cloudfront-no-public-http-origin: CloudFront never reaches an origin in cleartext across the internet.

A custom origin (`customOriginConfig`) is an address on the internet. With `originProtocolPolicy` http-only, or
match-viewer (HTTP whenever the viewer's request was HTTP), images, bearer tokens, the origin secret and users'
passwords cross the internet unencrypted between the edge and the origin. A VM is reached through a CloudFront
VPC origin instead (`vpcOriginConfig`: an interface CloudFront places in the VM's VPC, so the hop stays inside
AWS's network; components/aws/origin_vm.py); anything that must stay on the internet, over https-only. S3 origins
use Origin Access Control over HTTPS and have no custom origin config.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION
from ._common import DOCS, get

PLAIN_HTTP = ("http-only", "match-viewer")


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    for origin in args.props.get("origins") or []:
        policy = get(origin, "customOriginConfig", "originProtocolPolicy")
        if policy in PLAIN_HTTP and not origin.get("vpcOriginConfig"):
            report_violation(f"Distribution {args.name} origin {origin.get('originId')} reaches "
                             f"{origin.get('domainName')} over plain HTTP across the internet ({policy}). Reach a VM "
                             f"through a CloudFront VPC origin (vpcOriginConfig), or set originProtocolPolicy "
                             f"https-only. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-no-public-http-origin",
    description="No CloudFront origin is a public address reached over plain HTTP (http-only or match-viewer); VMs "
                "are VPC origins.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
