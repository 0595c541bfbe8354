"""azure-frontdoor-isolation-headers: the viewer is served cross-origin isolated (COOP + COEP).

Without them OHIF has no SharedArrayBuffer, and MPR and 3D views fail (OHIF issues #3033, #2897).

The headers act on documents, so the rule asks them of the route that serves the viewer's page
(_azure.serves_the_viewer): a route matching `/*` whose origin group reads blob storage (a
`*.blob.core.windows.net` / `*.web.core.windows.net` origin, or a Private Link to `blob`/`web`) and that
answers with an HTML page: a rule of its rule sets rewrites or redirects to one (the SPA fallback of
components/azure/site_rules.py), or its storage holds one (index.html). A route of files other origins
load (OHIF v2's packaged script, studies on their own origin: components/azure/static_files.py) serves
no page and needs neither header; CORP and CORS are what a cross-origin isolated page asks of those.
Keycloak's `/*` route, to a VM, is not the viewer either. Front Door's storage origin sends neither
header, so one of the viewer route's rule sets must set both for every response:
a `ModifyResponseHeader` action with `Overwrite` (Append would keep an origin's value beside ours) in
a rule with no condition, which no earlier rule of its set skips with `Stop`. Joining the route to its
origins and rule sets needs the whole stack, hence a stack rule.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._azure import ROUTE, rules_of_route, serves_the_viewer
from ._common import DOCS, get, resources_of

REQUIRED = {"cross-origin-opener-policy": ("same-origin",),
            "cross-origin-embedder-policy": ("require-corp", "credentialless")}


def _headers_always_set(rules: list) -> dict[str, str]:
    """Response headers a rule set overwrites on every response, lower-case name to value."""
    headers = {}
    for rule in rules:
        if not rule.props.get("conditions"):
            for action in rule.props.get("actions") or []:
                p = get(action, "parameters", default={})
                if action.get("name") == "ModifyResponseHeader" and p.get("headerAction") == "Overwrite":
                    headers[str(p.get("headerName")).lower()] = p.get("value")
        if rule.props.get("matchProcessingBehavior") == "Stop":
            break  # later rules of this set do not run where this one matched
    return headers


def validate(args, report_violation):
    for route in resources_of(args, ROUTE):
        if not serves_the_viewer(args, route):
            continue
        headers = {}
        for rules in rules_of_route(args, route):
            headers.update(_headers_always_set(rules))
        if any(headers.get(name) not in values for name, values in REQUIRED.items()):
            report_violation(f"Route {route.name} serves the viewer without COOP same-origin and COEP require-corp. "
                             f"Attach a rule set whose first rule overwrites both response headers, with no "
                             f"condition. See {DOCS}", route.urn)


POLICY = StackValidationPolicy(
    name="azure-frontdoor-isolation-headers",
    description="The Front Door route that serves the viewer's page from storage overwrites COOP same-origin and "
                "COEP require-corp.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
