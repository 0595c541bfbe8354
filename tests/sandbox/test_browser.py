"""End to end in headless Chromium: the real OHIF build lists the sandbox's study and draws it."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from sandbox.sample_data import PHANTOM_PATIENT
from sandbox.viewport import LIT_PIXELS_JS


@pytest.fixture(params=["cross-origin", "same-origin-subpath"])
def running(request, sandbox) -> Sandbox:
    return sandbox if request.param == "cross-origin" else request.getfixturevalue("sandbox_same_origin_subpath")


def test_viewer_lists_the_study_and_draws_it(running, page, artifacts, request):
    sandbox, shot = running, request.node.callspec.params["running"]
    dicomweb_requests = []
    page.on("request", lambda r: r.url.startswith(sandbox.urls.dicomweb) and dicomweb_requests.append(r.url))
    failed = []
    page.on("response", lambda r: r.url.startswith(sandbox.urls.dicomweb) and r.status >= 400 and failed.append(r.url))

    page.goto(sandbox.urls.viewer)
    patient = page.get_by_text(PHANTOM_PATIENT.replace("^", ", "), exact=True)
    patient.wait_for(timeout=60_000)
    assert page.evaluate("crossOriginIsolated") is True, "COOP/COEP must make the page cross-origin isolated"
    page.screenshot(path=str(artifacts / f"study-list-{shot}.png"))

    patient.click()
    page.get_by_role("button", name="Basic Viewer").click()
    page.wait_for_url("**/viewer?**StudyInstanceUIDs=**", timeout=30_000)
    page.locator(".cornerstone-canvas").first.wait_for(timeout=60_000)
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    lit = page.evaluate(LIT_PIXELS_JS)
    page.screenshot(path=str(artifacts / f"viewer-{shot}.png"))

    assert lit > 500, f"the viewport drew {lit} lit pixels"
    assert any("/frames/" in url for url in dicomweb_requests), "no frame was fetched through the proxy"
    assert failed == [], failed
