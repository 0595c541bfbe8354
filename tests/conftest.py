"""Shared fixtures. The repository root is on sys.path (pytest's rootdir conftest), as for `pulumi up`."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.tls import RunTls, make_run_tls
from settings import load, read_stack_file

REPO = Path(__file__).resolve().parent.parent
# The policy pack runs from policy/ (pulumi preview --policy-pack policy); its rules import as `ohif_policies`, here
# too: the recipes' tests use its detectors.
sys.path.insert(0, str(REPO / "policy"))
STACKS = REPO / "stacks"
ARTIFACTS = REPO / "artifacts"


def _session_tls() -> RunTls:
    """One run CA for the whole test session, which every sandbox of the session serves with. Python's clients
    (requests, urllib) and curl in this process and its children trust it, and only it: the environment points
    them at it, as a user would point theirs (the README)."""
    tls = make_run_tls(Path(tempfile.mkdtemp(prefix="ohif-test-tls-")))
    for variable in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        os.environ[variable] = str(tls.ca_file)
    return tls


SESSION_TLS = _session_tls()


def pytest_unconfigure(config) -> None:
    shutil.rmtree(SESSION_TLS.ca_file.parent, ignore_errors=True)


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


def local_sandbox(stack: str = "local", viewer: dict | None = None, archive_host: str = "127.0.0.1",
                  recipe=None, credential_lifetime: float | None = None, config: dict | None = None,
                  **archive_changes) -> Sandbox:
    """A local stack's Sandbox on free ports (viewer, proxy, Orthanc, Keycloak, the embedded recipe's host page),
    so tests never meet a running one; `recipe` runs a fork instead of the stack's recipe; `credential_lifetime`,
    how long the stand-in cloud credentials last; `config`, top-level `ohif:` keys replaced (objects as dicts)."""
    from sandbox.processes import free_ports

    viewer_port, proxy_port, archive_port, keycloak_port, host_port = free_ports(5)
    raw = read_stack_file(STACKS / f"Pulumi.{stack}.yaml")
    raw.update({f"ohif:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()})
    settings = load(raw)
    settings = replace(settings, viewer=replace(settings.viewer, **(viewer or {})))
    if settings.archive.upstream_url:
        settings = replace(settings, archive=replace(
            settings.archive, upstream_url=f"http://{archive_host}:{archive_port}/dicom-web/", **archive_changes))
    if settings.auth is not None:
        settings = replace(settings, auth=replace(settings.auth, keycloak_url=f"https://127.0.0.1:{keycloak_port}"))
    if settings.embed is not None:
        settings = replace(settings, embed=replace(settings.embed, host_origins=(f"https://127.0.0.1:{host_port}",)))
    options = {"credential_lifetime": credential_lifetime} if credential_lifetime else {}
    return Sandbox(settings, port=viewer_port, proxy_port=proxy_port, recipe=recipe, tls=SESSION_TLS, **options)


def require_servers() -> None:
    require_tool("nginx", "nginx libnginx-mod-http-js")
    require_tool("Orthanc", "orthanc orthanc-dicomweb")


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The local stack's servers (real Orthanc, real nginx), up once for the whole session."""
    require_servers()
    with local_sandbox() as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_same_origin_subpath() -> Iterator[Sandbox]:
    """The other shape: the viewer under /ohif/ and the proxy behind the viewer's own host."""
    require_servers()
    with local_sandbox(viewer={"base_path": "/ohif/"}, topology="same-origin") as running:
        yield running


def nginx_syntax_ok(conf: str, run_dir: Path) -> None:
    """`nginx -t` passes on one rendered http-context file."""
    from sandbox.nginx import nginx_test

    (run_dir / "site.conf").write_text(conf)
    result = nginx_test(run_dir, [run_dir / "site.conf"])
    assert result.returncode == 0, result.stderr
