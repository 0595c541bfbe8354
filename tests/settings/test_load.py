"""settings/__init__.py: load() over every example stack, from_pulumi() under `pulumi up`, and the recipes' names."""

from __future__ import annotations

import pytest

from settings import load, read_stack_file
from tests.conftest import STACKS
from tests.settings.examples import stops_before_any_resource

CASES = {
    "local stack under pulumi up": (read_stack_file(STACKS / "Pulumi.local.yaml"),
                                    'ohif:cloud = "local": this stack runs in the sandbox'),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_config_stops_before_any_resource(case):
    stops_before_any_resource(*CASES[case])


def test_example_stacks_are_valid():
    for path in STACKS.glob("Pulumi.*.yaml"):
        load(read_stack_file(path))


def test_every_allowed_recipe_is_implemented():
    import recipes
    import settings

    assert sorted(recipes.RECIPES) == sorted(settings.RECIPES)

