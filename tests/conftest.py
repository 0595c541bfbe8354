"""Shared fixtures. The repository root is on sys.path (pytest's rootdir conftest), as for `pulumi up`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "stacks"
ARTIFACTS = REPO / "artifacts"


def require_tool(path: str, package: str) -> str:
    """A server or browser binary; in CI (CI=true) its absence fails the test instead of skipping it."""
    found = shutil.which(path)
    if found:
        return found
    message = f"{path} not found (apt-get install {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
