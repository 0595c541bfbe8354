"""azure-frontdoor-spa-fallback (advisory): deep links get index.html, a missing file keeps its 404.

What is checked, precisely:
- Every Front Door rule with a `UrlRewrite` to a page (`destination` ending in `.html`) that drops the
  rest of the path (`preserveUnmatchedPath` false; the API's default, true, keeps it and is no fallback),
  or a `UrlRedirect` to such a `customPath`, is tried on requests for files that do not exist: `missing.js`,
  `assets/missing.png` and `viewer/report.PDF` under the destination's directory. Where its source pattern
  covers such a path and no condition is known not to match it (UrlPath, UrlFileName and UrlFileExtension
  conditions are evaluated; others depend on more than the path and count as matching), the rule answers
  a missing bundle with the app's HTML and 200: the browser then reports a syntax error instead of the
  404, and a broken release looks healthy. components/azure/site_rules.py excludes paths whose last
  segment has an extension, as components/render/spa_fallback.js does on CloudFront.
- A storage static website whose error document is index.html (the error-page trick: every missing
  file answers with the app's HTML).

The rule forbids a bad fallback; it asks no route for a good one, so it needs no telling which route
serves the viewer and checks every rule: on a file host (OHIF v2's packaged script, studies on their own
origin), which needs no fallback at all, a missing script or DICOM file answered with a page and 200 is
as wrong.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import RULE, STATIC_WEBSITE, may_apply
from ._common import DOCS

MISSING_FILES = ("missing.js", "assets/missing.png", "viewer/report.PDF")


def _fallback_page(action: dict) -> tuple[str, str] | None:
    """(source pattern, page) of an action that sends any path under its source to one HTML page."""
    p = action.get("parameters") or {}
    if action.get("name") == "UrlRewrite" and str(p.get("destination") or "").endswith(".html") \
            and p.get("preserveUnmatchedPath", True) is False:
        return str(p.get("sourcePattern") or "/"), p["destination"]
    if action.get("name") == "UrlRedirect" and str(p.get("customPath") or "").endswith(".html"):
        return "/", p["customPath"]
    return None


def validate(args, report_violation):
    if args.resource_type == STATIC_WEBSITE:
        if str(args.props.get("error404Document") or "").rsplit("/", 1)[-1] == "index.html":
            report_violation(f"StorageAccountStaticWebsite {args.name} answers every missing file with index.html. "
                             f"Serve deep links with a Front Door rule that skips paths with a file extension "
                             f"(components/azure/site_rules.py). See {DOCS}")
        return
    if args.resource_type != RULE:
        return
    for action in args.props.get("actions") or []:
        found = _fallback_page(action)
        if found is None:
            continue
        source, page = found
        directory = page.rsplit("/", 1)[0] + "/"
        masked = [path for path in (directory + f for f in MISSING_FILES)
                  if path.startswith(source) and may_apply(args.props.get("conditions") or [], path)]
        if masked:
            report_violation(f"Rule {args.name} sends requests for files, such as {masked[0]}, to {page}, so a "
                             f"missing file answers 200 with HTML. Add a condition that skips paths with a file "
                             f"extension (components/azure/site_rules.py). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-frontdoor-spa-fallback",
    description="No Front Door rule rewrites or redirects file paths to index.html; no index.html error document.",
    enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW, validate=validate)
