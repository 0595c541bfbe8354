"""Named compositions, each written once against components.target.Target; `ohif:recipe` picks one."""

from __future__ import annotations

import dataclasses
from typing import Callable

import pulumi

from components.target import Target
from recipes import dicom_json, embedded, standalone, user_account_control
from settings import StackSettings

RECIPES: dict[str, Callable[[Target, StackSettings], object]] = {
    "standalone": standalone.deploy, "user-account-control": user_account_control.deploy,
    "embedded": embedded.deploy, "dicom-json": dicom_json.deploy}


def realise(target: Target, settings: StackSettings, recipe: Callable | None = None) -> dict[str, pulumi.Output]:
    """Run the stack's recipe (or `recipe`, a fork) on `target`; its outputs, then the target's own."""
    try:
        result = (recipe or RECIPES[settings.recipe])(target, settings)
    except BaseException:
        # Release what waits on the recipe's end (AWS's deferred routes), or the failure would hang the program.
        target.finish()
        raise
    # A mode a stack does not use leaves its outputs None (the embedded recipe's script or iframe).
    outputs = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if getattr(result, f.name) is not None}
    return {**outputs, **target.finish()}
