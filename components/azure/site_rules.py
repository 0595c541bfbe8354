"""The viewer's Front Door rule set, rendered from the cloud-neutral sources: the SPA fallback of
components/render/spa_fallback.js, the headers of components/render/headers.py and the Cache-Control
policy of components/render/viewer_build.py.

Rules run in order (learn.microsoft.com/azure/frontdoor/front-door-rules-engine): the header rules
first, then one cache class per request, the first that matches stopping the rest ("Stop"), so no
rule relies on another's Overwrite or on whether later conditions see a rewritten path.

UrlPath is the path without its leading slash (learn.microsoft.com/azure/frontdoor/rules-match-conditions).
Every regular expression is anchored at both ends, so a search and a full match agree, and has no
capturing group (Front Door's regular expressions support none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi_azure_native.cdn as cdn

from components.render.headers import VIEWER_HEADERS
from components.render.viewer_build import CONTENT_TYPES, ENTRY_FILES, IMMUTABLE, NO_CACHE, SHORT

# Front Door limits (azure-docs includes/front-door-limits.md).
MAX_CONDITIONS, MAX_ACTIONS, MAX_RULES, MAX_HEADER_VALUE = 10, 5, 100, 640
# A last path segment ending in an extension that holds a letter is a file (spa_fallback.js); UIDs
# such as 1.2.840.10008.5 hold none, so they stay routes of the viewer.
FILE_EXTENSION = r"^.*\.[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$"
# webpack's content hashes, viewer_build._HASHED on the last segment: `<hash>.wasm` or `name.<hash>.js`.
HASHED = (r"^[0-9a-f]{16}\.[a-z0-9]+$", r"^.*[./][0-9a-f]{16}\.[a-z0-9]+$")
# Front Door compresses only listed types; fonts and images are compressed already.
COMPRESSIBLE = sorted({t.split(";")[0] for t in CONTENT_TYPES.values() if not t.startswith(("image/png", "image/x-icon",
                                                                                           "font/"))})
QUERY_STRING_CACHING = "UseQueryString"  # distinct URLs stay distinct objects


@dataclass(frozen=True)
class SiteRule:
    name: str
    """Letters and digits only, as Front Door requires."""
    conditions: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    stop: bool = False
    """Skip the remaining rules when this one matches."""


def site_rules(base_path: str) -> list[SiteRule]:
    """The rules for a viewer under `base_path` (`/` or `/ohif/`), in the order Front Door runs them."""
    prefix = base_path.lstrip("/")
    headers = list(VIEWER_HEADERS.items())
    rules = [SiteRule(f"Headers{i // MAX_ACTIONS + 1}", actions=[_header(k, v) for k, v in headers[i:i + MAX_ACTIONS]])
             for i in range(0, len(headers), MAX_ACTIONS)]
    in_base = [_url_path("RegEx", [f"^{re.escape(prefix)}.*$", f"^{re.escape(prefix.rstrip('/'))}$"])] if prefix else []
    rules += [
        # A route of the single-page app gets index.html; a missing file stays a real 404.
        SiteRule("SpaRoutes", conditions=[*in_base, _url_path("RegEx", [FILE_EXTENSION], negate=True)],
                 actions=[_rewrite(f"{base_path}index.html"), _header("Cache-Control", NO_CACHE), _edge_cache(None)],
                 stop=True),
        SiteRule("EntryFiles", conditions=[_url_path("Equal", [prefix + f for f in ENTRY_FILES])],
                 actions=[_header("Cache-Control", NO_CACHE), _edge_cache(None)], stop=True),
        SiteRule("HashedFiles", conditions=[_url_path("RegEx", list(HASHED))],
                 actions=[_header("Cache-Control", IMMUTABLE), _edge_cache(IMMUTABLE)], stop=True),
        SiteRule("OtherFiles", actions=[_header("Cache-Control", SHORT), _edge_cache(SHORT)]),
    ]
    for rule in rules:
        if len(rule.conditions) > MAX_CONDITIONS or len(rule.actions) > MAX_ACTIONS:
            raise ValueError(f"rule {rule.name}: Front Door allows {MAX_CONDITIONS} conditions, {MAX_ACTIONS} actions")
    if len(rules) > MAX_RULES:
        raise ValueError(f"{len(rules)} rules exceed Front Door's {MAX_RULES} per rule set")
    return rules


def _url_path(operator: str, values: list[str], negate: bool = False) -> cdn.DeliveryRuleUrlPathConditionArgs:
    return cdn.DeliveryRuleUrlPathConditionArgs(name="UrlPath", parameters=cdn.UrlPathMatchConditionParametersArgs(
        type_name="DeliveryRuleUrlPathMatchConditionParameters", operator=operator, match_values=values,
        negate_condition=negate))


def _header(name: str, value: str) -> cdn.DeliveryRuleResponseHeaderActionArgs:
    if len(value) > MAX_HEADER_VALUE:
        raise ValueError(f"{name}: Front Door takes header values of at most {MAX_HEADER_VALUE} characters")
    # Overwrite, not Append: the origin's own value must not survive beside ours.
    return cdn.DeliveryRuleResponseHeaderActionArgs(
        name="ModifyResponseHeader", parameters=cdn.HeaderActionParametersArgs(
            type_name="DeliveryRuleHeaderActionParameters", header_action="Overwrite", header_name=name, value=value))


def _rewrite(destination: str) -> cdn.UrlRewriteActionArgs:
    # Source `/` matches every path; without preserving the rest, the whole path becomes `destination`.
    return cdn.UrlRewriteActionArgs(name="UrlRewrite", parameters=cdn.UrlRewriteActionParametersArgs(
        type_name="DeliveryRuleUrlRewriteActionParameters", source_pattern="/", destination=destination,
        preserve_unmatched_path=False))


def _edge_cache(cache_control: str | None) -> cdn.DeliveryRuleRouteConfigurationOverrideActionArgs:
    """How long Front Door's edge keeps the file: as long as browsers may (max-age), or not at all (None).

    Blobs carry no Cache-Control, and without one Front Door caches for one to three days
    (front-door-caching.md), so every cache class sets its edge lifetime here. Leaving out the cache
    configuration disables caching (the API's definition; terraform-provider-azurerm does the same)."""
    if cache_control is None:
        return _route_override(None)
    seconds = int(re.search(r"max-age=(\d+)", cache_control)[1])
    days, rest = divmod(seconds, 86400)
    duration = (f"{days}." if days else "") + f"{rest // 3600:02}:{rest % 3600 // 60:02}:{rest % 60:02}"  # [d.]hh:mm:ss
    # The rule's cache configuration replaces the route's, so it repeats compression and query strings.
    return _route_override(cdn.CacheConfigurationArgs(
        cache_behavior="OverrideAlways", cache_duration=duration, is_compression_enabled="Enabled",
        query_string_caching_behavior=QUERY_STRING_CACHING))


def _route_override(cache: cdn.CacheConfigurationArgs | None) -> cdn.DeliveryRuleRouteConfigurationOverrideActionArgs:
    return cdn.DeliveryRuleRouteConfigurationOverrideActionArgs(
        name="RouteConfigurationOverride", parameters=cdn.RouteConfigurationOverrideActionParametersArgs(
            type_name="DeliveryRuleRouteConfigurationOverrideActionParameters", cache_configuration=cache))
