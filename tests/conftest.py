"""Shared fixtures. The repository root is on sys.path (pytest's rootdir conftest), as for `pulumi up`."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from sandbox import Sandbox
from sandbox.processes import SandboxError, check_port_free
from settings import StackSettings, load, read_stack_file

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


def free_port_pair() -> int:
    """A port p with p and p + 1 free: the sandbox puts the viewer on p and the proxy on p + 1."""
    from sandbox.processes import free_port

    for _ in range(50):
        port = free_port()
        try:
            check_port_free("test", port + 1)
            return port
        except SandboxError:
            continue
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def local_settings(stack: str = "local", **archive_changes) -> StackSettings:
    """A local stack with its Orthanc (and Keycloak) on free ports, so tests never meet a running sandbox."""
    from sandbox.processes import free_port

    settings = load(read_stack_file(STACKS / f"Pulumi.{stack}.yaml"))
    upstream = f"http://127.0.0.1:{free_port()}/dicom-web/"
    settings = replace(settings, archive=replace(settings.archive, upstream_url=upstream, **archive_changes))
    if settings.auth is not None:
        settings = replace(settings, auth=replace(settings.auth, keycloak_url=f"http://127.0.0.1:{free_port()}"))
    return settings


def require_servers() -> None:
    require_tool("nginx", "nginx libnginx-mod-http-js")
    require_tool("Orthanc", "orthanc orthanc-dicomweb")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The local stack's servers (real Orthanc, real nginx), up once for the whole session."""
    require_servers()
    with Sandbox(local_settings(), port=free_port_pair()) as running:
        yield running
