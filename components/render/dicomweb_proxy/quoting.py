"""Values placed in the rendered nginx.conf."""

from __future__ import annotations

import re


def nginx_string(value: str) -> str:
    """A value safe inside double quotes in nginx.conf."""
    if re.search(r'["\\$\s;{}]', value):
        raise ValueError(f"{value!r} cannot be placed in nginx.conf")
    return value
