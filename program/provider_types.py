"""Refuses, offline, the inputs the cloud providers would refuse.

Why: the offline program (program/offline.py) runs under Pulumi's mocks, which echo back whatever they are given. A
real `pulumi up` then found what no test could: `aws.lb.TargetGroup(deregistration_delay="30")`, a string where the
provider's schema has an integer, and apostrophes in security-group rule descriptions, outside the characters AWS
allows (issue 30). So every resource the offline program registers is checked here, and a run with a violation fails.

Two sources, no hand-copied schema:
- The pinned provider SDKs' own types. Each SDK registers its resource modules with the Pulumi runtime (the JSON that
  its `__init__` hands to `_utilities.register`), which maps a type token to its module and class; the input type
  that the class's constructor takes as `args` (`<Name>Args`, or `<Name>InitArgs` where a nested type has that name)
  has one property per input, whose getter carries the engine's name
  (`@pulumi.getter(name=...)`) and a type hint: without `Optional` the input is required; `str`, `int`, `float`,
  `bool`, `Sequence[...]`, `Mapping[str, ...]`, a nested `*Args` input type from `_inputs.py`, or an enum of
  `_enums.py` (closed when alone, open in `Union[str, Enum]`). Azure's discriminated unions carry their constants in
  the getter's doc ("Expected value is 'UrlPath'.").
- The value rules the clouds document for what we write by hand (RULES below): descriptions and names. Each cites its
  source.

Dynamic resources and our own components are not provider resources and are not checked.
"""

from __future__ import annotations

import collections.abc as abc
import difflib
import enum
import functools
import importlib
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime.rpc as rpc
from pulumi._types import is_input_type  # how the SDKs' @pulumi.input_type marks a class

# The packages whose SDKs describe their resources, by the first part of a type token.
SDKS = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "random": "pulumi_random", "tls": "pulumi_tls",
        "keycloak": "pulumi_keycloak"}
PROVIDER_PREFIX = "pulumi:providers:"
# How Pulumi marks a secret on the wire (program/offline.py unwraps the same; it imports this module, not the reverse).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # a value not known until the cloud answers (preview)
_CONSTANT = re.compile(r"Expected value is '([^']*)'\.")


class ProviderInputError(Exception):
    """Inputs a provider would refuse, one line each: the resource's type and name, the property, the value, and
    what is allowed."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        super().__init__(f"{len(violations)} input(s) a provider would refuse:\n" + "\n".join(violations))


# --- The SDK's description of an input type ---------------------------------------------------------------------

@dataclass(frozen=True)
class Property:
    hint: Any
    """The getter's type hint, Input/Output/Optional plumbing removed (see _members)."""
    required: bool
    constant: str | None
    """A discriminator's only value, from the getter's doc."""


def _resolve_hints(cls: type) -> dict[str, tuple[Any, str | None]]:
    """Each property's engine name, resolved return hint and doc, as pulumi's own _types module reads them."""
    globalns: dict[str, Any] = {}
    for module in filter(None, map(inspect.getmodule, reversed(cls.__mro__))):
        globalns.update(vars(module))
    found = {}
    for base in reversed(cls.__mro__):
        for prop in vars(base).values():
            name = getattr(getattr(prop, "fget", None), "_pulumi_name", None)
            if isinstance(prop, property) and name:
                found[name] = (_hints(prop.fget, globalns).get("return", Any), prop.fget.__doc__)
    return found


def _hints(function: Callable, globalns: dict[str, Any]) -> dict[str, Any]:
    # `pulumi.Input[T]` quotes "Output[T]", and `Input` is generic in T: name both, as pulumi's _types module does.
    return typing.get_type_hints(function, globalns=globalns, localns={"Output": pulumi.Output, "T": type(None)})


@functools.cache
def properties(cls: type) -> dict[str, Property]:
    """The inputs of an SDK input type (`<Resource>Args` or a nested `*Args`), by engine name."""
    result = {}
    for name, (hint, doc) in _resolve_hints(cls).items():
        constant = _CONSTANT.search(doc or "")
        result[name] = Property(hint, type(None) not in _flatten(hint), constant[1] if constant else None)
    return result


def _flatten(hint: Any) -> list[Any]:
    """A union's members, nested unions included."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(hint) for m in _flatten(arg)]
    return [hint]


@functools.cache
def _members(hint: Any) -> tuple[Any, ...]:
    """What a value of `hint` may be on the wire: `Input[T]` is `T`, or a promise or an Output of it, which the
    engine has resolved by the time the mocks see it (`Input` quotes "Output[T]": a ForwardRef); `Optional` adds None,
    which is never sent; the SDKs' TypedDict twins of input types duplicate them."""
    out = []
    for member in _flatten(hint):
        origin = typing.get_origin(member) or member
        plumbing = member is type(None) or origin in (abc.Awaitable, abc.Coroutine, pulumi.Output) \
            or isinstance(member, typing.ForwardRef) or (inspect.isclass(member) and typing.is_typeddict(member))
        if not plumbing:
            out.append(member)
    return tuple(out)


@functools.cache
def args_class(token: str) -> type | None:
    """The SDK's input type for a type token's resource (or provider), or None for what no pinned SDK describes (our
    components, dynamic resources, the stack)."""
    if token.startswith(PROVIDER_PREFIX):
        package = SDKS.get(token[len(PROVIDER_PREFIX):])
        return importlib.import_module(package).ProviderArgs if package else None
    pkg, _, rest = token.partition(":")
    if pkg not in SDKS:
        return None
    importlib.import_module(SDKS[pkg])  # registers its resource modules
    mod = rest.rpartition(":")[0]
    module = rpc.get_resource_module(pkg, mod, "")
    class_name = module.mod_info["classes"].get(token) if module else None  # the SDK's registration JSON
    if class_name is None:
        raise KeyError(f"{token}: no such resource type in {SDKS[pkg]}")
    resource = getattr(importlib.import_module(module.mod_info["fqn"]), class_name)
    # The type of `args` in the constructor's overload that takes one: not always `<Name>Args`, which may be a
    # nested input type's name (pulumi_aws.s3.BucketVersioning takes BucketVersioningInitArgs).
    hint = next(hint for o in typing.get_overloads(resource.__init__)
                if (hint := _hints(o, vars(inspect.getmodule(resource))).get("args")))
    return next(m for m in _flatten(hint) if m is not type(None))  # Optional where no input is required


# --- Checking a value against a type ----------------------------------------------------------------------------

def _describe(hint: Any) -> str:
    """What a type allows, in words."""
    members = _members(hint)
    if len(members) != 1:
        return " or ".join(dict.fromkeys(_describe(m) for m in members))
    member = members[0]
    origin = typing.get_origin(member)
    if origin in (list, abc.Sequence):
        return f"a list of {_describe(typing.get_args(member)[0])}"
    if origin in (dict, abc.Mapping):
        return f"an object of {_describe(typing.get_args(member)[1])}"
    if member is Any or member is object:
        return "anything"
    if inspect.isclass(member) and issubclass(member, enum.Enum):
        return f"one of {', '.join(repr(m.value) for m in member)} ({member.__name__})"
    if inspect.isclass(member) and is_input_type(member):
        return f"an object ({member.__name__})"
    words = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", pulumi.Asset: "an asset",
             pulumi.Archive: "an archive"}
    return words.get(member, getattr(member, "__name__", str(member)))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plain(value: Any) -> Any:
    """A secret's value; None for a value not yet known (nothing to check)."""
    while isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        value = value.get("value")
    return None if value == UNKNOWN else value


Problems = list[tuple[str, Any, str]]  # (property path, value, what is wrong and what is allowed)


def check_value(value: Any, hint: Any, path: str, problems: Problems, *, json_strings: bool = False) -> None:
    """Append to `problems` every way `value` (as the engine got it) breaks `hint`. `json_strings`: a provider's
    inputs, which its SDK sends as JSON text when they are not strings."""
    value = _plain(value)
    if value is None:
        return
    members = _members(hint)
    if json_strings and isinstance(value, str) and str not in members:
        try:
            value = json.loads(value)
        except ValueError:
            pass  # not JSON: checked as the string it is, and refused by the type
    if len(members) == 1:
        _check_one(value, members[0], path, problems, json_strings)
        return

    # Azure's discriminated unions: only the members whose constants the value carries.
    candidates = [m for m in members if not isinstance(value, dict) or not _other_kind(value, m)]
    attempts = []
    for member in candidates:
        found: Problems = []
        _check_one(value, member, path, found, json_strings)
        if not found:
            return
        attempts.append(found)
    # Where the value has the shape of a single member (an object among scalars, or the one discriminated member
    # it names), say what is wrong inside it; else what the union allows.
    shaped = [a for a in attempts if all(p != path for p, _, _ in a)]
    kinds = _discriminator(members)
    if len(shaped) == 1:
        problems.extend(shaped[0])
    elif not candidates and kinds and isinstance(value, dict):
        key, constants = kinds
        problems.append((f"{path}.{key}", _plain(value.get(key)), f"expected one of {', '.join(constants)}"))
    else:
        problems.append((path, value, f"expected {_describe(hint)}"))


def _discriminator(members: tuple[Any, ...]) -> tuple[str, list[str]] | None:
    """The key whose constant tells a discriminated union's members apart, with their constants."""
    if not all(inspect.isclass(m) and is_input_type(m) for m in members):
        return None
    keyed = [{k: p.constant for k, p in properties(m).items() if p.constant is not None} for m in members]
    shared = set.intersection(*(set(k) for k in keyed)) if keyed else set()
    key = min(shared, default=None)
    return (key, sorted(repr(k[key]) for k in keyed)) if key else None


def _other_kind(value: dict, member: Any) -> bool:
    """Whether `value` names another member of a discriminated union than the input type `member`."""
    if not (inspect.isclass(member) and is_input_type(member)):
        return False
    return any(p.constant is not None and key in value and _plain(value[key]) != p.constant
               for key, p in properties(member).items())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_one(value: Any, member: Any, path: str, problems: Problems, json_strings: bool) -> None:
    origin = typing.get_origin(member)
    if member is Any or member is object:
        return
    if origin in (list, abc.Sequence):
        if not isinstance(value, list):
            problems.append((path, value, f"expected {_describe(member)}"))
            return
        for i, item in enumerate(value):
            check_value(item, typing.get_args(member)[0], f"{path}[{i}]", problems, json_strings=json_strings)
        return
    if origin in (dict, abc.Mapping):
        if not isinstance(value, dict):
            problems.append((path, value, f"expected {_describe(member)}"))
            return
        for key, item in value.items():
            check_value(item, typing.get_args(member)[1], f"{path}.{key}", problems, json_strings=json_strings)
        return
    if inspect.isclass(member) and is_input_type(member):
        if not isinstance(value, dict):
            problems.append((path, value, f"expected {_describe(member)}"))
            return
        check_object(value, member, path, problems, json_strings=json_strings)
        return
    if inspect.isclass(member) and issubclass(member, enum.Enum):  # alone in its union: a closed set
        if not any(value == m.value and isinstance(value, bool) == isinstance(m.value, bool) for m in member):
            problems.append((path, value, f"expected {_describe(member)}"))
        return
    fits: dict[Any, Callable[[Any], bool]] = {
        str: lambda v: isinstance(v, str),
        bool: lambda v: isinstance(v, bool),
        # The wire carries every number as a float.
        int: lambda v: _is_number(v) and float(v).is_integer(),
        float: _is_number,
        pulumi.Asset: lambda v: isinstance(v, pulumi.Asset),
        pulumi.Archive: lambda v: isinstance(v, pulumi.Archive),
    }
    if member in fits and not fits[member](value):
        problems.append((path, value, f"expected {_describe(member)}"))


def check_object(value: dict, cls: type, path: str, problems: Problems, *, json_strings: bool = False) -> None:
    """Unknown keys, missing required keys, a constant that differs, and each value against its type."""
    props = properties(cls)
    prefix = f"{path}." if path else ""
    for key, item in value.items():
        if key not in props:
            near = difflib.get_close_matches(key, props, n=1)
            problems.append((prefix + key, _plain(item), f"unknown property: {cls.__name__} has no such input"
                             + (f" (did you mean {near[0]}?)" if near else "")))
    for key, prop in props.items():
        item = _plain(value.get(key))
        if key not in value or value[key] is None:
            if prop.required:
                problems.append((prefix + key, None, f"missing: a required input of {cls.__name__}"))
        elif prop.constant is not None and item is not None and item != prop.constant:
            problems.append((prefix + key, item, f"expected {prop.constant!r}, the only value {cls.__name__} takes"))
        else:
            check_value(value[key], prop.hint, prefix + key, problems, json_strings=json_strings)


# --- What the clouds document for values we write by hand ------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A string's pattern and length, for the values at some paths of one resource type."""
    token: str
    paths: tuple[str, ...]
    """Engine names; `[]` walks every item of a list."""
    pattern: str
    max_length: int
    allowed: str
    """The rule in words, with its source."""
    min_length: int = 0


# EC2's CreateSecurityGroup (GroupDescription) and IpRange/Ipv6Range/PrefixListId/UserIdGroupPair (Description):
# "Up to 255 characters in length. Valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*". The Terraform
# AWS provider validates the same, so `pulumi up` refuses them at preview.
_AWS_SG_DESCRIPTION = (r"^[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]*$", 255,
                       "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (EC2 API: security group descriptions)")

# Azure's "Naming rules and restrictions for Azure resources" (learn.microsoft.com, resource-name-rules), for
# Microsoft.Network's loadBalancers and networkSecurityGroups/securityRules: 1 to 80 alphanumerics, underscores,
# periods and hyphens; start with an alphanumeric, end with an alphanumeric or an underscore.
_AZURE_NETWORK_NAME = (r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$", 80,
                       "alphanumerics, _ . -, starting alphanumeric, ending alphanumeric or _ (Azure naming rules)", 1)

# EC2's user data: "limited to 16 KB, in raw form, before it is base64-encoded"
# (docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html); 16 KB in base64 is 21848 characters.
_EC2_USER_DATA_BASE64 = (r"^[A-Za-z0-9+/]*={0,2}$", 21848, "base64 of up to 16 KB (EC2: user data)")

RULES: tuple[Rule, ...] = (
    Rule("aws:ec2/instance:Instance", ("userData",), r"(?s)^.*$", 16384, "up to 16 KB of text (EC2: user data)"),
    Rule("aws:ec2/instance:Instance", ("userDataBase64",), *_EC2_USER_DATA_BASE64),
    Rule("aws:ec2/launchTemplate:LaunchTemplate", ("userData",), *_EC2_USER_DATA_BASE64),
    Rule("aws:ec2/securityGroup:SecurityGroup", ("description", "ingress[].description", "egress[].description"),
         *_AWS_SG_DESCRIPTION),
    Rule("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", ("description",), *_AWS_SG_DESCRIPTION),
    Rule("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", ("description",), *_AWS_SG_DESCRIPTION),
    Rule("aws:ec2/securityGroupRule:SecurityGroupRule", ("description",), *_AWS_SG_DESCRIPTION),
    # The WAFv2 API's Rule: "Name ... Length Constraints: Minimum length of 1. Maximum length of 128. Pattern:
    # ^[\w\-]+$".
    Rule("aws:wafv2/webAcl:WebAcl", ("rules[].name",), r"^[A-Za-z0-9_-]+$", 128,
         "A-Z, a-z, 0-9, _ and - (WAFv2 API: Rule.Name)", 1),
    # pulumi-aws's WebAclVisibilityConfig.metric_name (the WAFv2 API's VisibilityConfig): "only alphanumeric
    # characters (A-Z, a-z, 0-9) hyphen(-) and underscore (_), with length from one to 128 characters. It can't
    # contain whitespace or metric names reserved for AWS WAF, for example `All` and `Default_Action`."
    Rule("aws:wafv2/webAcl:WebAcl", ("visibilityConfig.metricName", "rules[].visibilityConfig.metricName"),
         r"^(?!(All|Default_Action)$)[A-Za-z0-9_-]+$", 128,
         "A-Z, a-z, 0-9, - and _, not All or Default_Action (WAFv2 API: VisibilityConfig.MetricName)", 1),
    Rule("azure-native:network:LoadBalancer", ("loadBalancerName",), *_AZURE_NETWORK_NAME),
    Rule("azure-native:network:NetworkSecurityGroup", ("securityRules[].name",), *_AZURE_NETWORK_NAME),
    # pulumi-azure-native's SecurityRule.description: "A description for this rule. Restricted to 140 chars."
    Rule("azure-native:network:NetworkSecurityGroup", ("securityRules[].description",), r"(?s)^.*$", 140,
         "any character (the SDK: SecurityRule.description)"),
    # Azure's naming rules, Microsoft.Network frontdoorWebApplicationFirewallPolicies: 1 to 128 alphanumerics,
    # starting with a letter.
    Rule("azure-native:frontdoor:Policy", ("policyName",), r"^[A-Za-z][A-Za-z0-9]*$", 128,
         "alphanumerics, starting with a letter (Azure naming rules: Front Door WAF policies)", 1),
    # Azure's naming rules, Microsoft.Storage storageAccounts/blobServices/containers: 3 to 63 lowercase letters,
    # numbers and hyphens; start with a letter or a number; no two hyphens in a row.
    Rule("azure-native:storage:BlobContainer", ("containerName",), r"^(?!.*--)[a-z0-9]([a-z0-9-]*[a-z0-9])?$", 63,
         "a-z, 0-9 and -, not first, last or twice in a row (Azure naming rules: blob containers)", 3),
)


def _at(value: Any, path: list[str], where: str) -> Iterator[tuple[str, Any]]:
    """The values at a rule's path, each with its concrete path (`ingress[2].description`)."""
    value = _plain(value)
    if not path:
        yield where, value
        return
    step, rest = path[0], path[1:]
    if step.endswith("[]"):
        items = _plain(value.get(step[:-2])) if isinstance(value, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            yield from _at(item, rest, f"{where}{'.' if where else ''}{step[:-2]}[{i}]")
    elif isinstance(value, dict) and step in value:
        yield from _at(value[step], rest, f"{where}{'.' if where else ''}{step}")


def check_rules(token: str, inputs: dict, problems: Problems) -> None:
    for rule in RULES:
        if rule.token != token:
            continue
        for path in rule.paths:
            for where, value in _at(inputs, path.split("."), ""):
                if isinstance(value, str) and not (rule.min_length <= len(value) <= rule.max_length
                                                   and re.match(rule.pattern, value)):
                    length = f"{rule.min_length} to" if rule.min_length else "up to"
                    problems.append((where, value, f"expected {length} {rule.max_length} characters of {rule.allowed}"))


# --- One resource -------------------------------------------------------------------------------------------------

def check(token: str, name: str, inputs: dict) -> list[str]:
    """The violations of one registered resource (`inputs` as the mocks get them: engine names, secrets marked), one
    line each; none for what no pinned SDK describes."""
    cls = args_class(token)
    if cls is None:
        return []
    problems: Problems = []
    check_object(inputs, cls, "", problems, json_strings=token.startswith(PROVIDER_PREFIX))
    check_rules(token, inputs, problems)
    return [f"{token} {name!r}: {path} = {'(none)' if value is None else _shown(value)}: {message}"
            for path, value, message in problems]
