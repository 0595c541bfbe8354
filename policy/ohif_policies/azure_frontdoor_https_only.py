"""azure-frontdoor-https-only: browsers reach every Front Door route over HTTPS only.

A route either accepts HTTPS alone (`supportedProtocols` [Https]) or redirects HTTP to it
(`httpsRedirect` Enabled). The API's defaults are both protocols and no redirect. This rule is about
browsers; the hop from Front Door to an origin is azure-frontdoor-no-public-http-origin's (HTTP only over
Private Link).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import ROUTE
from ._common import DOCS

DEFAULT_PROTOCOLS = ["Http", "Https"]


def validate(args, report_violation):
    if args.resource_type != ROUTE:
        return
    protocols = args.props.get("supportedProtocols") or DEFAULT_PROTOCOLS
    redirect = args.props.get("httpsRedirect") or "Disabled"
    if "Http" in protocols and redirect != "Enabled":
        report_violation(f"Route {args.name} serves plain HTTP (supportedProtocols {', '.join(protocols)}; "
                         f"httpsRedirect {redirect}). Set httpsRedirect Enabled, or supportedProtocols [Https]. "
                         f"See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-frontdoor-https-only",
    description="Every Front Door route accepts HTTPS only or redirects HTTP to HTTPS.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
