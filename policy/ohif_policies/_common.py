"""What several rules share: reading engine-shaped (camelCase) props, and the production setting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import PolicyConfigSchema

DOCS = "README.md#policy-pack"

# The stack-level setting: is this stack production? Set per stack with --policy-pack-config.
PRODUCTION_SCHEMA = PolicyConfigSchema(properties={
    "production": {"type": "boolean", "default": True,
                   "description": "The stack is production (the recipe's ohif:production)."}})


# Who may read: a production stack's statement that it serves de-identified data to anyone (the recipe's
# ohif:access.public). Set per stack with --policy-pack-config, as production is.
ACCESS_SCHEMA = PolicyConfigSchema(properties={
    **PRODUCTION_SCHEMA.properties,
    "public": {"type": "boolean", "default": False,
               "description": "The stack serves de-identified data to anyone (the recipe's ohif:access.public)."}})


# Whether losing one VM must lose no reader (the recipe's ohif:highly_available). Set per stack with
# --policy-pack-config, as production is.
HA_SCHEMA = PolicyConfigSchema(properties={
    "highly_available": {"type": "boolean", "default": False,
                         "description": "The stack is highly available (the recipe's ohif:highly_available)."}})


def is_highly_available(args: Any) -> bool:
    return bool(args.get_config().get("highly_available", False))


def is_public(args: Any) -> bool:
    return bool(args.get_config().get("public", False))


def is_production(args: Any) -> bool:
    return bool(args.get_config().get("production", True))


def get(props: Any, *path: str, default: Any = None) -> Any:
    """props[a][b]…, or `default` where a step is missing."""
    for key in path:
        if not isinstance(props, dict) and not hasattr(props, "get"):
            return default
        props = props.get(key)
        if props is None:
            return default
    return props


def resources_of(args: Any, token: str) -> Iterable[Any]:
    return (r for r in args.resources if r.resource_type == token)


def buckets_lacking(args: Any, token: str, ok: Any) -> Iterable[Any]:
    """The stack's buckets that no `token` resource (naming the bucket, with props passing `ok`) covers."""
    covered = {get(r.props, "bucket") for r in resources_of(args, token) if ok(r.props)}
    return (b for b in resources_of(args, "aws:s3/bucket:Bucket") if b.props.get("bucket") not in covered)
