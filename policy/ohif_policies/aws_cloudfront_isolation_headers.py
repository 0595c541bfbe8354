"""aws-cloudfront-isolation-headers: the viewer is served cross-origin isolated (COOP + COEP).

Without them OHIF has no SharedArrayBuffer, and MPR and 3D views fail (OHIF issues #3033, #2897).

The headers act on documents, so the rule asks them of the distribution that serves the viewer's page
(_cloudfront.serves_the_viewer: its default behaviour reads S3 and answers with an HTML page, by its
default root object, its SPA function, an error page or an .html object in the bucket). A distribution
of files other origins load (OHIF v2's packaged script, studies on their own origin: components/aws/
static_files.py) serves no page and needs neither header; CORP and CORS are what a cross-origin
isolated page asks of those. A distribution whose default behaviour reads a VM (the DICOMweb proxy,
Keycloak) is not the viewer either.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._cloudfront import DISTRIBUTION, serves_the_viewer
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
        policy = get(dist.props, "defaultCacheBehavior", "responseHeadersPolicyId")
        if serves_the_viewer(args, dist) and policy not in isolating:
            report_violation(f"Distribution {dist.name} serves the viewer without COOP same-origin and COEP "
                             f"require-corp. Attach a response headers policy that sends both. See {DOCS}", dist.urn)


POLICY = StackValidationPolicy(
    name="aws-cloudfront-isolation-headers",
    description="The distribution that serves the viewer's page from S3 sends COOP same-origin and COEP require-corp.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
