"""aws-cloudfront-spa-fallback (advisory): deep links use a function, not error pages turned into 200.

Mapping every 403/404 to index.html with 200 hides missing bundles behind HTML and hides S3 denials.

The rule forbids a bad fallback; it asks no distribution for a good one, so it needs no telling which
distribution serves the viewer and checks every one: on a file host (OHIF v2's packaged script, studies on
their own origin), which needs no fallback at all, a missing script or DICOM file answered with a page
and 200 is as wrong.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloudfront import DISTRIBUTION
from ._common import DOCS


def validate(args, report_violation):
    if args.resource_type != DISTRIBUTION:
        return
    for error in args.props.get("customErrorResponses") or []:
        # The engine hands numbers over as floats (403.0); responseCode is a string in the schema.
        if error.get("errorCode") in (403, 404) and float(error.get("responseCode") or 0) == 200:
            report_violation(f"Distribution {args.name} turns {int(error['errorCode'])} into 200 "
                             f"{error.get('responsePagePath')}. Route deep links with a viewer-request function "
                             f"instead (components/render/spa_fallback.js). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-cloudfront-spa-fallback",
    description="The SPA fallback does not map 403/404 to 200.",
    enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW, validate=validate)
