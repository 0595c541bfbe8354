"""aws-cloudfront-isolation-headers: the viewer is served cross-origin isolated (COOP + COEP).

Without them OHIF has no SharedArrayBuffer, and MPR and 3D views fail (OHIF issues #3033, #2897).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._cloudfront import DISTRIBUTION, is_s3_origin
from ._common import DOCS, get, resources_of

POLICY_TOKEN = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"


def _isolating(policy) -> bool:
    headers = {i.get("header", "").lower(): i.get("value") for i in get(policy.props, "customHeadersConfig", "items",
                                                                         default=[])}
    return headers.get("cross-origin-opener-policy") == "same-origin" and \
        headers.get("cross-origin-embedder-policy") in ("require-corp", "credentialless")


def validate(args, report_violation):
    isolating = {p.props.get("id") or p.name for p in resources_of(args, POLICY_TOKEN) if _isolating(p)}
    for dist in resources_of(args, DISTRIBUTION):
        behavior = get(dist.props, "defaultCacheBehavior", default={})
        origin = next((o for o in dist.props.get("origins") or []
                       if o.get("originId") == behavior.get("targetOriginId")), {})
        if is_s3_origin(origin) and behavior.get("responseHeadersPolicyId") not in isolating:
            report_violation(f"Distribution {dist.name} serves the viewer without COOP same-origin and COEP "
                             f"require-corp. Attach a response headers policy that sends both. See {DOCS}", dist.urn)


POLICY = StackValidationPolicy(
    name="aws-cloudfront-isolation-headers",
    description="The behaviour that serves the viewer sends COOP same-origin and COEP require-corp.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
