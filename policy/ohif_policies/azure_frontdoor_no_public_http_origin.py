"""azure-frontdoor-no-public-http-origin: Front Door never reaches an origin in cleartext across the internet.

A route that forwards plain HTTP (`forwardingProtocol` HttpOnly, or MatchRequest while it still accepts HTTP
without redirecting it) sends images, bearer tokens and users' passwords unencrypted to each origin of its
group. That is safe only over Private Link (`sharedPrivateLinkResource`: Front Door Premium's private endpoint to
the origin, over Microsoft's backbone; components/azure/origin_vm.py). Any other origin is a public address, and
must be reached with HttpsOnly. Joining a route to its origins needs the whole stack, hence a stack rule; the
violation names the origin.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._azure import ROUTE, origins_of_route
from ._common import DOCS, get, resources_of


def plain_http(route) -> str | None:
    """The route's forwarding protocol where it sends HTTP to its origins; None where it sends HTTPS only."""
    p = route.props
    forwarding = p.get("forwardingProtocol") or "MatchRequest"
    protocols = p.get("supportedProtocols") or ["Http", "Https"]
    redirect = p.get("httpsRedirect") or "Disabled"
    if forwarding == "HttpOnly" or (forwarding == "MatchRequest" and "Http" in protocols and redirect != "Enabled"):
        return forwarding
    return None


def validate(args, report_violation):
    for route in resources_of(args, ROUTE):
        forwarding = plain_http(route)
        if forwarding is None:
            continue
        for origin in origins_of_route(args, route):
            if not get(origin.props, "sharedPrivateLinkResource", "privateLink"):
                report_violation(f"Route {route.name} forwards plain HTTP ({forwarding}) to AFDOrigin {origin.name} at "
                                 f"{origin.props.get('hostName')}, a public address. Reach a VM over Private Link "
                                 f"(sharedPrivateLinkResource, Front Door Premium), or forward HttpsOnly. See {DOCS}",
                                 origin.urn)


POLICY = StackValidationPolicy(
    name="azure-frontdoor-no-public-http-origin",
    description="No Front Door route forwards plain HTTP to an origin outside Private Link.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
