"""azure-native resources as several rules read them: type tokens, a VM's custom data, joins between Front
Door resources, and what a rule's match conditions do to a request path."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._common import get, resources_of

STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
STATIC_WEBSITE = "azure-native:storage:StorageAccountStaticWebsite"
BLOB = "azure-native:storage:Blob"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
CUSTOM_DOMAIN = "azure-native:cdn:AFDCustomDomain"
ORIGIN_GROUP = "azure-native:cdn:AFDOriginGroup"
ORIGIN = "azure-native:cdn:AFDOrigin"
ROUTE = "azure-native:cdn:Route"
RULE_SET = "azure-native:cdn:RuleSet"
RULE = "azure-native:cdn:Rule"
NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
VM = "azure-native:compute:VirtualMachine"
VMSS = "azure-native:compute:VirtualMachineScaleSet"

FRONT_DOOR_BACKEND = "AzureFrontDoor.Backend"
"""The service tag of Front Door's origin-facing addresses (shared by every Front Door tenant)."""
STORAGE_HOSTS = (".blob.core.windows.net", ".web.core.windows.net")


def custom_data(props: Any) -> str:
    """A VM's custom data (osProfile.customData, base64), decoded; "" where there is none or it is unknown."""
    encoded = get(props, "osProfile", "customData")
    if not isinstance(encoded, str):
        return ""
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""


def refers_to(reference: Any, resource: Any) -> bool:
    """Whether a `{id: …}` reference names `resource`: by its id (as the mocks record it), or by the last
    segment of an ARM id, which is the resource's name (Azure compares names case-insensitively)."""
    ref = get(reference, "id") if isinstance(reference, Mapping) else reference  # the engine's props are Mappings
    if not isinstance(ref, str) or not ref:
        return False
    name = resource.props.get("name")
    return ref == resource.props.get("id") or (isinstance(name, str) and
                                               ref.rstrip("/").rsplit("/", 1)[-1].lower() == name.lower())


def referenced(args: Any, token: str, references: Iterable[Any]) -> list[Any]:
    """The stack's `token` resources that any of `references` names."""
    references = list(references)
    return [r for r in resources_of(args, token) if any(refers_to(ref, r) for ref in references)]


def is_storage_origin(origin: Any) -> bool:
    host = str(origin.props.get("hostName") or "").lower()
    link = get(origin.props, "sharedPrivateLinkResource", "groupId")
    return host.endswith(STORAGE_HOSTS) or link in ("blob", "web", "blob_secondary", "web_secondary")


def origins_of_route(args: Any, route: Any) -> list[Any]:
    """The AFDOrigins in the route's origin group."""
    groups = referenced(args, ORIGIN_GROUP, [route.props.get("originGroup")])
    names = {str(g.props.get("name")).lower() for g in groups}
    return [o for o in resources_of(args, ORIGIN) if str(o.props.get("originGroupName")).lower() in names]


def rules_of_route(args: Any, route: Any) -> list[list[Any]]:
    """The rules of each rule set the route runs, each set's rules in their order."""
    rule_sets = referenced(args, RULE_SET, route.props.get("ruleSets") or [])
    found = []
    for rule_set in rule_sets:
        name = str(rule_set.props.get("name")).lower()
        rules = [r for r in resources_of(args, RULE) if str(r.props.get("ruleSetName")).lower() == name]
        found.append(sorted(rules, key=lambda r: r.props.get("order") or 0))
    return found


def is_page(name: Any) -> bool:
    """Whether a blob name or a path names an HTML page."""
    return str(name or "").lower().endswith((".html", ".htm"))


def page_of(action: Any) -> str | None:
    """The HTML page a rule action sends requests to: a `UrlRewrite` destination or a `UrlRedirect` custom path."""
    p = get(action, "parameters", default={})
    target = {"UrlRewrite": p.get("destination"), "UrlRedirect": p.get("customPath")}.get(get(action, "name"))
    return str(target) if is_page(target) else None


def serves_the_viewer(args: Any, route: Any) -> bool:
    """Whether the route serves the viewer: it matches `/*`, reads blob storage and answers with an HTML page.

    A page is what makes a site the viewer and not a file host (OHIF v2's packaged script, studies on their
    own origin: components/azure/static_files.py), which serves scripts, DICOM and JSON only. Front Door has
    no default document, so the viewer's route rewrites its routes, `/` among them, to index.html
    (components/azure/site_rules.py); its storage holds index.html as well. Either says so, so that a fork
    dropping one does not hide the viewer:
    - a rule of the route's rule sets rewrites or redirects to a page;
    - a storage origin's account holds a page (a Blob whose name ends in .html).
    Keycloak's `/*` route, to a VM, is not one.
    """
    if "/*" not in (route.props.get("patternsToMatch") or []):
        return False
    storage = [o for o in origins_of_route(args, route) if is_storage_origin(o)]
    if not storage:
        return False
    if any(page_of(a) for rules in rules_of_route(args, route) for r in rules for a in r.props.get("actions") or []):
        return True
    accounts = {str(o.props.get("hostName") or "").split(".", 1)[0].lower() for o in storage}
    return any(str(b.props.get("accountName") or "").lower() in accounts and is_page(b.props.get("blobName"))
               for b in resources_of(args, BLOB))


def overwritten_headers(rule: Any) -> list[tuple[str, str]]:
    """(lower-case name, value) of each response header a rule's actions overwrite or append."""
    found = []
    for action in rule.props.get("actions") or []:
        p = get(action, "parameters", default={})
        if get(action, "name") == "ModifyResponseHeader" and p.get("headerAction") in ("Overwrite", "Append"):
            found.append((str(p.get("headerName") or "").lower(), str(p.get("value") or "")))
    return found


# What a rule's conditions do to a request path (learn.microsoft.com/azure/frontdoor/rules-match-conditions):
# conditions are ANDed, a condition's values ORed; UrlPath is the path without its leading slash; numeric
# operators compare lengths; transforms apply first; negateCondition inverts.
_TRANSFORMS = {"Lowercase": str.lower, "Uppercase": str.upper, "Trim": str.strip}
_LENGTH = {"LessThan": int.__lt__, "LessThanOrEqual": int.__le__, "GreaterThan": int.__gt__,
           "GreaterThanOrEqual": int.__ge__}
_STRING = {"Equal": str.__eq__, "BeginsWith": str.startswith, "EndsWith": str.endswith,
           "Contains": str.__contains__}


def _path_value(variable: str, path: str) -> str | None:
    """The value a path-based match variable sees for `path` (with its leading slash); None for other variables."""
    path = path.split("?", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return {"UrlPath": path[1:], "UrlFileName": last,
            "UrlFileExtension": last.rsplit(".", 1)[1] if "." in last else ""}.get(variable)


def condition_matches(condition: Any, path: str) -> bool | None:
    """Whether the condition matches a request for `path`; None when it depends on more than the path."""
    value = _path_value(str(get(condition, "name")), path)
    p = get(condition, "parameters", default={})
    operator, values = p.get("operator"), [str(v) for v in p.get("matchValues") or []]
    if value is None:
        return None
    for transform in p.get("transforms") or []:
        value = _TRANSFORMS.get(transform, lambda v: v)(value)
    try:
        if operator == "Any":
            matched = True
        elif operator in _LENGTH:
            matched = any(_LENGTH[operator](len(value), int(v)) for v in values)
        elif operator in _STRING:
            matched = any(_STRING[operator](value, v) for v in values)
        elif operator == "RegEx":
            matched = any(re.search(v, value) for v in values)
        else:
            return None
    except (re.error, ValueError):
        return None
    return matched != bool(p.get("negateCondition"))


def may_apply(conditions: Iterable[Any], path: str) -> bool:
    """Whether a rule with these conditions may run for `path`: no condition is known not to match."""
    return all(condition_matches(c, path) is not False for c in conditions)


def vm_props(args: Any) -> tuple[str, Any] | None:
    """What the VM rules check, and what to call it: a VM's properties, or a scale set's VM profile (the same
    osProfile, securityProfile, ...); None for anything else."""
    if args.resource_type == VM:
        return "VirtualMachine", args.props
    if args.resource_type == VMSS:
        return "VirtualMachineScaleSet", get(args.props, "virtualMachineProfile", default={})
    return None
