"""The sandbox runs the recipe file itself: a fork of recipes/standalone.py shows up in the running sandbox."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator

import pytest
import requests

from sandbox import Sandbox
from tests.conftest import REPO, local_sandbox, require_servers

RESEARCH_PORTAL = "https://research.example-hospital.org"


def fork_of_standalone(tmp_path) -> object:
    """What a user's fork might do: a second proxy, at its own URL, for a research portal's origin."""
    source = (REPO / "recipes" / "standalone.py").read_text()
    edits = {
        "    dicomweb_url: pulumi.Output[str]\n":
            "    dicomweb_url: pulumi.Output[str]\n    research_dicomweb_url: pulumi.Output[str]\n",
        "    return Outputs(viewer_url=site.url, dicomweb_url=dicomweb_url)\n":
            "    research = target.dicomweb_proxy('research', ProxySpec(\n"
            "        upstream_url=settings.archive.upstream_url, allowed_origins=[" + repr(RESEARCH_PORTAL) + "]))\n"
            "    return Outputs(viewer_url=site.url, dicomweb_url=dicomweb_url, research_dicomweb_url=research.url)\n",
    }
    for old, new in edits.items():
        assert source.count(old) == 1, f"the recipe changed; the fork no longer applies: {old!r}"
        source = source.replace(old, new)
    path = tmp_path / "standalone_fork.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("standalone_fork", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def forked(tmp_path_factory) -> Iterator[Sandbox]:
    require_servers()
    fork = fork_of_standalone(tmp_path_factory.mktemp("fork"))
    with local_sandbox(recipe=fork.deploy) as running:
        yield running
    sys.modules.pop("standalone_fork", None)


def test_the_fork_runs_its_second_proxy(forked):
    research = forked.urls.research_dicomweb
    assert research.startswith("https://127.0.0.1:") and research != forked.urls.dicomweb
    r = requests.get(f"{research}/studies", headers={"Origin": RESEARCH_PORTAL})
    assert r.status_code == 200 and r.json(), "the fork's proxy reaches the archive"
    assert r.headers["Access-Control-Allow-Origin"] == RESEARCH_PORTAL
    # The stack's own proxy is as the unforked recipe makes it: the portal is not on its allow-list, so it is refused
    # outright (issue 15: what CORS refuses, the proxy refuses).
    r = requests.get(f"{forked.urls.dicomweb}/studies", headers={"Origin": RESEARCH_PORTAL})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers


def test_the_fork_keeps_the_viewer(forked):
    app_config = requests.get(f"{forked.urls.viewer}app-config.js").text
    assert f'"qidoRoot": "{forked.urls.dicomweb}"' in app_config


def test_an_archive_named_localhost():
    """upstream_url: http://localhost:… used to crash the sandbox with a traceback (nginx needed a resolver)."""
    require_servers()
    with local_sandbox(archive_host="localhost") as running:
        assert running.settings.archive.upstream_url.startswith("http://localhost:")
        r = requests.get(f"{running.urls.dicomweb}/studies", headers={"Origin": running.viewer_origin})
        assert r.status_code == 200 and r.json()
