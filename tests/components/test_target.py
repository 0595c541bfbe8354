"""Target.run: the one way a recipe runs, finishing the target whatever the recipe does."""

from __future__ import annotations

import pytest

from components.target import Target


class Recording(Target):
    """A target that counts how often it is finished; the recipes here call none of its operations."""

    def __init__(self) -> None:
        self.finished = 0

    def static_site(self, name, spec):
        raise AssertionError("not called here")

    def static_files(self, name, spec, *, on_site=None):
        raise AssertionError("not called here")

    def dicomweb_proxy(self, name, spec, *, on_site=None):
        raise AssertionError("not called here")

    def identity_provider(self, name, spec):
        raise AssertionError("not called here")

    def publish(self, site, key, content):
        raise AssertionError("not called here")

    def finish(self):
        self.finished += 1
        return {"bucket_name": "b"}


def test_a_recipe_that_returns_is_finished_once():
    target = Recording()
    assert target.run(lambda t, s: ("result", s), settings="the settings") == (("result", "the settings"),
                                                                               {"bucket_name": "b"})
    assert target.finished == 1


def test_a_recipe_that_fails_is_finished_and_its_error_raised():
    target = Recording()

    def failing(t, s):
        raise ValueError("a fork's mistake")

    with pytest.raises(ValueError, match="a fork's mistake"):
        target.run(failing, settings=None)
    assert target.finished == 1
