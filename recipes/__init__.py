"""Named compositions of the components; `ohif:recipe` picks one."""

from __future__ import annotations

import dataclasses

import pulumi

from recipes import standalone, user_account_control
from settings import StackSettings

RECIPES = {"standalone": standalone.deploy, "user-account-control": user_account_control.deploy}


def run(settings: StackSettings) -> dict[str, pulumi.Output]:
    """Deploy the stack's recipe and export its outputs (also returned, for tests)."""
    result = RECIPES[settings.recipe](settings)
    outputs = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs
