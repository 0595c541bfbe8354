"""settings/errors.py: a bad stack is one ConfigError, one line per bad value, printed without a traceback."""

from __future__ import annotations

import pulumi
import pytest

from settings import ConfigError, load
from tests.settings.examples import archive, prod


def test_a_config_error_is_one_line_per_value_and_no_traceback():
    with pytest.raises(ConfigError) as raised:
        load(prod(recipe="nope", archive=archive(topology="sideways")))
    lines = str(raised.value).splitlines()
    assert len(lines) == 2 and all(line.startswith("invalid stack config: ohif:") for line in lines), lines
    # Pulumi prints a RunError's message alone, without the program's traceback.
    assert isinstance(raised.value, pulumi.RunError)

