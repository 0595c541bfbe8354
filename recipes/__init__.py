"""Named compositions, each written once against components.target.Target; `ohif:recipe` picks one."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable

import pulumi

import settings
from components.target import Target
from settings import StackSettings

# The settings own the recipes' names (settings.RECIPES); each is the `deploy` of the module named after it here:
# user-account-control is recipes/user_account_control.py.
RECIPES: dict[str, Callable[[Target, StackSettings], object]] = {
    name: importlib.import_module(f"recipes.{name.replace('-', '_')}").deploy for name in settings.RECIPES}


def realise(target: Target, settings: StackSettings, recipe: Callable | None = None) -> dict[str, pulumi.Output]:
    """Run the stack's recipe (or `recipe`, a fork) on `target`; its outputs, then the target's own."""
    result, target_outputs = target.run(recipe or RECIPES[settings.recipe], settings)
    # A mode a stack does not use leaves its outputs None (the embedded recipe's script or iframe).
    outputs = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)
               if getattr(result, f.name) is not None}
    return {**outputs, **target_outputs}
