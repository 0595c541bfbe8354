"""The Front Door rule sets of the viewer and of files on their own origin, rendered from the cloud-neutral
sources: the SPA fallback of components/render/spa_fallback.js, the headers of components/render/headers.py
and the Cache-Control policy of components/render/viewer_build.py.

Rules run in order (learn.microsoft.com/azure/frontdoor/front-door-rules-engine): the header rules
first, then (files) the CORS rules, then one cache class per request, the first that matches stopping
the rest ("Stop"), so no rule relies on another's Overwrite or on whether later conditions see a
rewritten path.

UrlPath is the path without its leading slash, UrlFileName its last segment
(learn.microsoft.com/azure/frontdoor/rules-match-conditions). Every regular expression is anchored at
both ends, so a search and a full match agree, and has no capturing group (Front Door's regular
expressions support none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native.cdn as cdn

from components.render.headers import FILE_HEADERS, viewer_headers
from components.render.viewer_build import (
    COMPRESSIBLE_TYPES,
    CONTENT_TYPES,
    ENCODINGS,
    ENTRY_FILES,
    IMMUTABLE,
    NO_CACHE,
    SHORT,
)

# Front Door limits (azure-docs includes/front-door-limits.md).
MAX_CONDITIONS, MAX_ACTIONS, MAX_RULES, MAX_HEADER_VALUE = 10, 5, 100, 640
# A last path segment ending in an extension that holds a letter is a file (spa_fallback.js); UIDs
# such as 1.2.840.10008.5 hold none, so they stay routes of the viewer.
FILE_EXTENSION = r"^.*\.[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$"
# viewer_build._HASHED on the file name: webpack's content hashes (`<hash>.wasm`, `name.<hash>.js`, 16 hex)
# and content-addressed study files (`<sha256>.dcm`, 64 hex).
HASHED = tuple(pattern for digits in (16, 64)
               for pattern in (rf"^[0-9a-f]{{{digits}}}\.[a-z0-9]+$", rf"^.*\.[0-9a-f]{{{digits}}}\.[a-z0-9]+$"))
# Front Door compresses only listed types, and only files of 1 KB to 8 MB (how-to-compression.md): what it compresses
# itself are the entry files, which have no precompressed variants.
COMPRESSIBLE = list(COMPRESSIBLE_TYPES)
# File names that have precompressed variants (viewer_build.precompressed), entry files aside: one pattern per
# extension, since a pattern may hold no group.
PRECOMPRESSED = [rf"^.*\.{re.escape(ext)}$" for ext, t in sorted(CONTENT_TYPES.items())
                 if t.split(";")[0] in COMPRESSIBLE_TYPES]
QUERY_STRING_CACHING = "UseQueryString"  # distinct URLs stay distinct objects

ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@dataclass(frozen=True)
class SiteRule:
    name: str
    """Letters and digits only, as Front Door requires."""
    conditions: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    stop: bool = False
    """Skip the remaining rules when this one matches."""


def site_rules(base_path: str, frame_ancestors: Sequence[str] = ()) -> list[SiteRule]:
    """The viewer's rules under `base_path` (`/` or `/ohif/`), framed by `frame_ancestors` besides itself, in
    the order Front Door runs them."""
    prefix = base_path.lstrip("/")
    in_base = [_url_path("RegEx", [f"^{re.escape(prefix)}.*$", f"^{re.escape(prefix.rstrip('/'))}$"])] if prefix else []
    return _checked([
        *_header_rules(viewer_headers(frame_ancestors)),
        # A route of the single-page app gets index.html; a missing file stays a real 404.
        SiteRule("SpaRoutes", conditions=[*in_base, _url_path("RegEx", [FILE_EXTENSION], negate=True)],
                 actions=[_rewrite(f"{base_path}index.html"), _header("Cache-Control", NO_CACHE), _edge_cache(None)],
                 stop=True),
        *_cache_rules(),
    ])


def file_rules(allowed_origins: Sequence[pulumi.Input[str]]) -> list[SiteRule]:
    """The rules of files on an origin of their own that `allowed_origins` may read with CORS.

    Blob storage answers the preflights and names a matching origin in its responses (StaticFiles), but
    Front Door caches one response per file and serves its `Access-Control-Allow-Origin` to every origin
    (learn.microsoft.com/azure/frontdoor/standard-premium/troubleshoot-cross-origin-resources). So the rules
    set the header from the request's Origin, one rule per allowed origin, and delete it for any other."""
    origins = list(allowed_origins)
    return _checked([
        *_header_rules(FILE_HEADERS),
        # Requests from no allowed origin (or without one) get no ACAO, whatever the cached response held.
        SiteRule("CorsOtherOrigins", conditions=[_origin(origins, negate=True)],
                 actions=[_header(ALLOW_ORIGIN, None)]),
        *(SiteRule(f"CorsOrigin{i}", conditions=[_origin([origin])], actions=[_header(ALLOW_ORIGIN, origin)])
          for i, origin in enumerate(origins, start=1)),
        *_cache_rules(),
    ])


def _header_rules(headers: Mapping[str, str]) -> list[SiteRule]:
    """Rules without conditions that overwrite `headers` on every response, five to a rule."""
    items = list(headers.items())
    return [SiteRule(f"Headers{i // MAX_ACTIONS + 1}", actions=[_header(k, v) for k, v in items[i:i + MAX_ACTIONS]])
            for i in range(0, len(items), MAX_ACTIONS)]


def _cache_rules() -> list[SiteRule]:
    """viewer_build.cache_control as rules, by file name wherever the file is, each also setting how long the
    edge keeps it, and sending a request to the precompressed variant it accepts (precompressed.js); the first
    that matches stops the rest."""
    hashed = _file_name("RegEx", list(HASHED))
    return [
        SiteRule("EntryFiles", conditions=[_file_name("Equal", list(ENTRY_FILES))],
                 actions=[_header("Cache-Control", NO_CACHE), _edge_cache(None)], stop=True),
        *_variant_rules("Hashed", [hashed], IMMUTABLE),
        SiteRule("HashedFiles", conditions=[hashed],
                 actions=[_header("Cache-Control", IMMUTABLE), _edge_cache(IMMUTABLE)], stop=True),
        *_variant_rules("Other", [], SHORT),
        SiteRule("OtherFiles", actions=[_header("Cache-Control", SHORT), _edge_cache(SHORT)]),
    ]


def _variant_rules(cache_class: str, conditions: list, cache_control: str) -> list[SiteRule]:
    """A rule per encoding, in the order the edge prefers them: a file with variants whose request accepts the
    encoding is served from the variant's prefix, says its Content-Encoding (blobs cannot carry one: azure-native's
    storage.Blob has no such input), and is not compressed again."""
    return [SiteRule(f"{encoding.capitalize()}{cache_class}",
                     conditions=[*conditions, _file_name("RegEx", PRECOMPRESSED, lowercase=True),
                                 *_accepts(encoding)],
                     actions=[_rewrite(f"/{prefix}", preserve=True), _header("Content-Encoding", encoding),
                              _header("Cache-Control", cache_control), _edge_cache(cache_control, compress=False)],
                     stop=True)
            for encoding, prefix in ENCODINGS.items()]


def _accepts(coding: str) -> list[cdn.DeliveryRuleRequestHeaderConditionArgs]:
    """Accept-Encoding lists `coding`, and not with q=0 (precompressed.js: accepts), in patterns without groups."""
    c = re.escape(coding)
    listed = [rf"^ *{c} *[;,]", rf"^ *{c} *$", rf", *{c} *[;,]", rf", *{c} *$"]
    refused = [rf"{c} *; *q=0\.?0* *,", rf"{c} *; *q=0\.?0* *$"]
    return [_request_header("Accept-Encoding", "RegEx", listed), _request_header("Accept-Encoding", "RegEx", refused,
                                                                                  negate=True)]


def _checked(rules: list[SiteRule]) -> list[SiteRule]:
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


def _file_name(operator: str, values: list[str], lowercase: bool = False) -> cdn.DeliveryRuleUrlFileNameConditionArgs:
    return cdn.DeliveryRuleUrlFileNameConditionArgs(
        name="UrlFileName", parameters=cdn.UrlFileNameMatchConditionParametersArgs(
            type_name="DeliveryRuleUrlFilenameConditionParameters", operator=operator, match_values=values,
            transforms=["Lowercase"] if lowercase else None))


def _request_header(header: str, operator: str, values: list[str], negate: bool = False
                    ) -> cdn.DeliveryRuleRequestHeaderConditionArgs:
    """The request's `header`, lower-cased, matches one of `values` (or, negated, none)."""
    return cdn.DeliveryRuleRequestHeaderConditionArgs(
        name="RequestHeader", parameters=cdn.RequestHeaderMatchConditionParametersArgs(
            type_name="DeliveryRuleRequestHeaderConditionParameters", selector=header, operator=operator,
            match_values=values, negate_condition=negate, transforms=["Lowercase"]))


def _origin(origins: list[pulumi.Input[str]], negate: bool = False) -> cdn.DeliveryRuleRequestHeaderConditionArgs:
    """The request's Origin is one of `origins` (browsers send it as scheme://host[:port], lower case)."""
    return cdn.DeliveryRuleRequestHeaderConditionArgs(
        name="RequestHeader", parameters=cdn.RequestHeaderMatchConditionParametersArgs(
            type_name="DeliveryRuleRequestHeaderConditionParameters", selector="Origin", operator="Equal",
            match_values=origins, negate_condition=negate))


def _header(name: str, value: pulumi.Input[str] | None) -> cdn.DeliveryRuleResponseHeaderActionArgs:
    """Overwrite the response header `name` with `value`, or delete it (None)."""
    if isinstance(value, str) and len(value) > MAX_HEADER_VALUE:
        raise ValueError(f"{name}: Front Door takes header values of at most {MAX_HEADER_VALUE} characters")
    # Overwrite, not Append: the origin's own value must not survive beside ours.
    return cdn.DeliveryRuleResponseHeaderActionArgs(
        name="ModifyResponseHeader", parameters=cdn.HeaderActionParametersArgs(
            type_name="DeliveryRuleHeaderActionParameters", header_name=name, value=value,
            header_action="Overwrite" if value is not None else "Delete"))


def _rewrite(destination: str, preserve: bool = False) -> cdn.UrlRewriteActionArgs:
    """Source `/` matches every path: without `preserve` the whole path becomes `destination`, with it `destination`
    comes in front of the rest."""
    return cdn.UrlRewriteActionArgs(name="UrlRewrite", parameters=cdn.UrlRewriteActionParametersArgs(
        type_name="DeliveryRuleUrlRewriteActionParameters", source_pattern="/", destination=destination,
        preserve_unmatched_path=preserve))


def _edge_cache(cache_control: str | None,
                compress: bool = True) -> cdn.DeliveryRuleRouteConfigurationOverrideActionArgs:
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
        cache_behavior="OverrideAlways", cache_duration=duration,
        is_compression_enabled="Enabled" if compress else "Disabled",
        query_string_caching_behavior=QUERY_STRING_CACHING))


def _route_override(cache: cdn.CacheConfigurationArgs | None) -> cdn.DeliveryRuleRouteConfigurationOverrideActionArgs:
    return cdn.DeliveryRuleRouteConfigurationOverrideActionArgs(
        name="RouteConfigurationOverride", parameters=cdn.RouteConfigurationOverrideActionParametersArgs(
            type_name="DeliveryRuleRouteConfigurationOverrideActionParameters", cache_configuration=cache))
