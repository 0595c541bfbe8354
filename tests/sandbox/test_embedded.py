"""The embedded recipe for real: the sandbox's demo host application pastes the recipe's snippets, and
headless Chromium shows the viewer framed by it, refused to other origins, and as OHIF v2's packaged script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox import Sandbox
from sandbox.processes import free_port
from sandbox.sample_data import PHANTOM_PATIENT
from sandbox.viewport import LIT_PIXELS_JS
from tests.conftest import local_sandbox, require_servers

SAMPLE_PATIENTS = ("CompressedSamples^CT1", "CompressedSamples^MR1", "Lestrade^G", PHANTOM_PATIENT)


@pytest.fixture(scope="module")
def embedded() -> Iterator[Sandbox]:
    require_servers()
    with local_sandbox("local-embedded") as running:
        yield running


@pytest.fixture(scope="module")
def phantom_uid(embedded) -> str:
    found = requests.get(f"{embedded.urls.archive}/dicom-web/studies", params={"PatientID": "PHANTOM-001"}).json()
    return found[0]["0020000D"]["Value"][0]


def viewer_frame(page, viewer_url: str):
    page.wait_for_function("document.querySelector('iframe') !== null")
    page.wait_for_function("() => performance.getEntriesByType('resource')"
                           f".some(e => e.name.startsWith('{viewer_url}'))", timeout=30_000)
    return next(f for f in page.frames if f.url.startswith(viewer_url))


def test_the_host_page_frames_the_viewer_and_the_study_draws(embedded, page, artifacts):
    page.goto(embedded.urls.host + "iframe.html")
    frame = viewer_frame(page, embedded.urls.viewer)
    frame.get_by_text(PHANTOM_PATIENT.replace("^", ", "), exact=True).click(timeout=60_000)
    frame.get_by_role("button", name="Basic Viewer").click()
    frame.wait_for_url("**/viewer?**StudyInstanceUIDs=**", timeout=30_000)
    frame.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    page.screenshot(path=str(artifacts / "embedded-iframe.png"))
    # The host sends no COOP/COEP, so the framed viewer runs without isolation (and without SharedArrayBuffer).
    assert frame.evaluate("crossOriginIsolated") is False
    assert frame.evaluate("typeof SharedArrayBuffer") == "undefined"


def test_in_a_plain_host_the_viewer_still_draws_mpr(embedded, page, phantom_uid, artifacts):
    """What the README says a non-isolated host costs: no SharedArrayBuffer, yet OHIF 3.9+ still builds volumes."""
    page.goto(embedded.urls.host + "iframe.html")
    frame = viewer_frame(page, embedded.urls.viewer)
    frame.goto(f"{embedded.urls.viewer}viewer?StudyInstanceUIDs={phantom_uid}&hangingprotocolId=mpr")
    frame.wait_for_function("document.querySelectorAll('.cornerstone-canvas').length >= 3", timeout=60_000)
    frame.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    page.screenshot(path=str(artifacts / "embedded-iframe-mpr.png"))
    assert frame.evaluate("crossOriginIsolated") is False


def test_an_isolated_host_keeps_the_framed_viewer_isolated(embedded, page):
    page.goto(embedded.urls.host + "iframe-isolated.html")
    frame = viewer_frame(page, embedded.urls.viewer)
    frame.wait_for_function("document.querySelector('#root') !== null")
    assert page.evaluate("crossOriginIsolated") is True
    # CORP cross-origin lets the isolated host load the frame; allow="cross-origin-isolated" passes isolation on.
    assert frame.evaluate("crossOriginIsolated") is True
    assert frame.evaluate("typeof SharedArrayBuffer") == "function"


def test_a_page_of_another_origin_cannot_frame_the_viewer(embedded, page):
    stranger = f"https://127.0.0.1:{free_port()}/"
    page.route(stranger, lambda route: route.fulfill(
        status=200, content_type="text/html", body=f'<iframe src="{embedded.urls.viewer}"></iframe>'))
    page.goto(stranger)
    page.wait_for_function("document.querySelector('iframe') !== null")
    page.wait_for_timeout(3_000)
    # Chromium refused to show the viewer in this page (frame-ancestors); the allowed host shows it (above).
    assert [f.url for f in page.frames] == [stranger, "chrome-error://chromewebdata/"]


def test_script_mode_lists_the_sample_studies_and_draws_one(embedded, page, artifacts):
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.goto(embedded.urls.host + embedded.settings.embed.host_page_path.lstrip("/"))
    # v2 shows each patient's name and ID in one row cell.
    for patient in SAMPLE_PATIENTS:
        page.get_by_text(patient).wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "embedded-script-list.png"))
    page.get_by_text(PHANTOM_PATIENT).click()
    page.wait_for_url("**/viewer/**", timeout=30_000)
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    page.screenshot(path=str(artifacts / "embedded-script-viewer.png"))
    # The viewer ran in the host's own page, from the script on its own origin.
    assert page.url.startswith(embedded.urls.host)
    assert failed == [], failed


def test_the_live_check_passes_against_the_embedded_stack(embedded):
    from livecheck import Stack, run

    results = {r.name: r for r in run(Stack.from_outputs(embedded.urls._values))}
    assert [r.line() for r in results.values() if r.outcome == "FAIL"] == []
    assert results["script-cors"].outcome == "PASS" and results["isolation-headers"].outcome == "PASS"
    assert "frame-ancestors 'self' https://127.0.0.1:" in results["isolation-headers"].detail
