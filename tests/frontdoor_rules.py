"""A small evaluator of a rendered Front Door rule set: what one request path becomes at the origin, and
which response headers and edge caching the rules give it.

Input: the `azure-native:cdn:Rule` resources' inputs as tests/pulumi_mocks.py records them (camelCase).
It implements what the rule sets here use, with Front Door's documented semantics; anything else raises
NotImplementedError rather than guess. Sources (MicrosoftDocs/azure-docs, learn.microsoft.com/azure/frontdoor/):
  [engine]   front-door-rules-engine.md: rules run in the order they appear; all of a rule's conditions
             must match for its actions to run; "Stop evaluating remaining rules" skips the rest.
  [match]    rules-match-conditions.md: conditions are ANDed, a condition's values ORed; the request path
             is "the part of the URL after the hostname and a slash" (no leading slash), the request file
             name its last segment; a request header condition names its header in `selector`; numeric
             operators compare the value's length; negateCondition inverts; the transforms Lowercase,
             Uppercase, Trim; the examples add Lowercase to match other cases, so matching is case-sensitive
             without it.
  [regex]    same page: regular expressions without backreferences, capturing subexpressions and the other
             listed PCRE features, i.e. a PCRE search; Python's `re.search` agrees on what remains.
  [rewrite]  front-door-url-rewrite.md: the source pattern is a prefix of the path after the route's
             pattern to match (`/*` here: the whole path); the destination replaces it; preserve unmatched
             path appends the rest.
  [origin]   standard-premium/how-to-configure-route.md: the route's origin path replaces the part of the
             path its pattern matched (`/*`: the origin path is put in front).
  [headers]  front-door-rules-engine-actions.md: Overwrite sets the header whether or not it is present;
             Delete removes it.
  [caching]  front-door-caching.md: a rule's cache configuration replaces the route's; a route configuration
             override without one disables caching (the API's definition of cacheConfiguration).
Unconfirmed: whether conditions after a URL rewrite see the new path. `conditions_see_rewrite` chooses; a
rule set that uses Stop after its rewrite, as ours does, gives the same answer both ways. Also unconfirmed:
what a request header condition does when the request lacks the header; here no operator matches it
(not even Any), and negateCondition then matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ROUTE_DEFAULT = object()
"""Edge caching as the route configures it: no rule overrode it."""

_TRANSFORMS = {"Lowercase": str.lower, "Uppercase": str.upper, "Trim": str.strip}
_LENGTH = {"LessThan": int.__lt__, "LessThanOrEqual": int.__le__, "GreaterThan": int.__gt__,
           "GreaterThanOrEqual": int.__ge__}
_STRING = {"Equal": str.__eq__, "BeginsWith": str.startswith, "EndsWith": str.endswith,
           "Contains": str.__contains__, "RegEx": lambda value, pattern: re.search(pattern, value) is not None}


@dataclass
class Evaluation:
    path: str
    """The path the origin is asked for: the route's origin path, then the (rewritten) request path."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers the rules set."""
    edge_cache: Any = ROUTE_DEFAULT
    """The cache configuration (camelCase) a rule put in place of the route's, None when caching is off."""
    matched: list[str] = field(default_factory=list)
    """The names of the rules whose conditions matched, in order."""
    deleted: set[str] = field(default_factory=set)
    """Response headers the rules delete (whatever the origin or a cached copy sent) and do not set again."""


def evaluate(rules: Sequence[dict], path: str, origin_path: str = "",
             conditions_see_rewrite: bool = False, headers: Mapping[str, str] | None = None) -> Evaluation:
    """Run `rules` on a request for `path` (such as `/ohif/viewer?StudyInstanceUIDs=1.2`) on a `/*` route,
    with request `headers` (such as {"Origin": "https://viewer.example.org"})."""
    request_path = path.split("?", 1)[0]  # the query string is not part of the path [match]
    request_headers = {k.lower(): v for k, v in (headers or {}).items()}
    current = request_path
    result = Evaluation(path="")
    for rule in sorted(rules, key=lambda r: r["order"]):
        seen = current if conditions_see_rewrite else request_path
        if not all(_condition(c, seen, request_headers) for c in rule.get("conditions") or []):
            continue
        result.matched.append(rule["ruleName"])
        for action in rule.get("actions") or []:
            current = _action(action, current, result)
        if rule.get("matchProcessingBehavior") == "Stop":
            break
    result.path = origin_path.rstrip("/") + current if origin_path else current  # [origin]
    return result


def route(rules: Sequence[dict], path: str, origin_path: str = "") -> tuple[str, dict[str, str]]:
    """The path the origin receives for `path`, and the response headers the rules set."""
    result = evaluate(rules, path, origin_path)
    return result.path, result.headers


def _condition(condition: dict, path: str, headers: Mapping[str, str]) -> bool:
    p = condition["parameters"]
    if condition["name"] == "UrlPath":
        value = path[1:]  # without the leading slash [match]
    elif condition["name"] == "UrlFileName":
        value = path.rsplit("/", 1)[-1]
    elif condition["name"] == "RequestHeader":
        value = headers.get(p["selector"].lower())
        if value is None:
            return bool(p.get("negateCondition"))
    else:
        raise NotImplementedError(f"match variable {condition['name']}")
    for transform in p.get("transforms") or []:
        value = _TRANSFORMS[transform](value)
    operator, values = p["operator"], p.get("matchValues") or []
    if operator == "Any":
        matched = bool(value)
    elif operator in _LENGTH:
        matched = any(_LENGTH[operator](len(value), int(v)) for v in values)
    elif operator in _STRING:
        matched = any(_STRING[operator](value, v) for v in values)
    else:
        raise NotImplementedError(f"operator {operator}")
    return matched != bool(p.get("negateCondition"))


def _action(action: dict, path: str, result: Evaluation) -> str:
    name, p = action["name"], action["parameters"]
    if name == "ModifyResponseHeader":
        if p["headerAction"] == "Overwrite":
            result.headers[p["headerName"]] = p["value"]
            result.deleted.discard(p["headerName"])
        elif p["headerAction"] == "Delete":
            result.headers.pop(p["headerName"], None)
            result.deleted.add(p["headerName"])
        else:
            raise NotImplementedError(f"header action {p['headerAction']}")
    elif name == "UrlRewrite":
        # Required here: the API's default (true) and the how-to page's ("No") disagree.
        preserve = p["preserveUnmatchedPath"]
        if path.startswith(p["sourcePattern"]):
            path = p["destination"] + (path[len(p["sourcePattern"]):] if preserve else "")
    elif name == "RouteConfigurationOverride":
        if p.get("originGroupOverride"):
            raise NotImplementedError("origin group override")
        result.edge_cache = p.get("cacheConfiguration")  # [caching]
    else:
        raise NotImplementedError(f"action {name}")
    return path
