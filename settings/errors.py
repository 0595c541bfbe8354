"""What a bad stack config raises: every bad value, one line each, so a user fixes the whole file in one go."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from settings.model import NAMESPACE


class ConfigError(pulumi.RunError):
    """A stack config that cannot be deployed. RunError makes Pulumi print the message alone, no traceback."""


class Errors:
    """Collects one line per bad value: `<namespace>:<key> = <value>: <what is allowed>`."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, key: str, value: Any, allowed: str, namespace: str = NAMESPACE) -> None:
        """`namespace`: another than ours for the keys of Pulumi's providers (aws:region, keycloak:username)."""
        shown = "(missing)" if value is None else json.dumps(value)
        self.lines.append(f"{namespace}:{key} = {shown}: {allowed}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError("\n".join(f"invalid stack config: {line}" for line in self.lines))
