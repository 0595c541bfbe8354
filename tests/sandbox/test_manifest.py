"""The dicom-json recipe for real: the sandbox writes the sample studies, the recipe generates their manifests,
and headless Chromium opens each study's link and draws every display set, the multi-frame RGB one frame by frame."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from components.render.edge import REFUSED
from sandbox import Sandbox
from sandbox.viewport import VIEWPORT_JS
from tests.conftest import local_sandbox, require_servers
from tests.sandbox.edge import INSIDE, OUTSIDE, fetch_from

THUMBNAIL = "[data-cy='study-browser-thumbnail']"


@pytest.fixture(scope="module")
def studies() -> Iterator[Sandbox]:
    require_servers()
    with local_sandbox("local-manifest") as running:
        yield running


@pytest.fixture(scope="module")
def studies_cross_origin() -> Iterator[Sandbox]:
    """The files on an origin of their own: every DICOM file then costs the image loader a CORS preflight."""
    require_servers()
    sandbox = local_sandbox("local-manifest")
    sandbox.settings = replace(sandbox.settings, studies=replace(sandbox.settings.studies, topology="cross-origin"))
    with sandbox as running:
        yield running


def query(link: str, name: str) -> str:
    return parse_qs(urlsplit(link).query)[name][0]


def manifest_of(link: str) -> str:
    return query(link, "url")


def shown(page) -> dict:
    page.wait_for_function(f"(() => {{ const v = ({VIEWPORT_JS})(); return v && v.lit > 500; }})()", timeout=60_000)
    return page.evaluate(VIEWPORT_JS)


def test_every_display_set_of_the_sample_set_draws(studies, page, artifacts):
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    drawn = []
    for n, link in enumerate(studies.urls.study_urls):
        page.goto(link)
        page.locator(THUMBNAIL).first.wait_for(timeout=60_000)
        seen = {shown(page)["imageId"]}
        thumbnails = page.locator(THUMBNAIL)
        for i in range(thumbnails.count()):
            thumbnails.nth(i).dblclick()
            # A display set other than the one shown replaces it; the one shown stays.
            page.wait_for_timeout(500)
            page.wait_for_function(f"(() => {{ const v = ({VIEWPORT_JS})(); return v && v.lit > 500; }})()",
                                   timeout=60_000)
            seen.add(page.evaluate(VIEWPORT_JS)["imageId"])
            drawn.append(page.evaluate(VIEWPORT_JS))
        page.screenshot(path=str(artifacts / f"manifest-study-{n}.png"))
        assert len(seen) == thumbnails.count(), f"{link}: {thumbnails.count()} display sets, drawn {sorted(seen)}"
    assert len(drawn) == 5, "the sample set has five display sets (CT, MR, phantom, two RGB)"
    assert any(d["coloured"] > 500 for d in drawn), "no RGB image drew in colour"
    assert failed == [], failed


def test_a_multi_frame_image_draws_every_frame(studies, page):
    rgb_link = next(link for link in studies.urls.study_urls
                    if requests.get(manifest_of(link)).text.count("?frame=") == 2)
    page.goto(rgb_link)
    thumbnails = page.locator(THUMBNAIL)
    thumbnails.first.wait_for(timeout=60_000)
    for i in range(thumbnails.count()):
        thumbnails.nth(i).dblclick()
        page.wait_for_timeout(500)
        if "?frame=" in shown(page)["imageId"]:
            break
    first = shown(page)
    assert first["imageId"].endswith("?frame=1") and first["coloured"] > 500, first
    page.locator(".cornerstone-canvas").first.hover()
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"({VIEWPORT_JS})().imageId.endsWith('?frame=2')", timeout=30_000)
    second = shown(page)
    assert second["coloured"] > 500, second


def test_the_links_and_manifests_are_served_as_the_cdn_would(studies):
    whole = requests.get(studies.urls.manifest)
    assert whole.status_code == 200 and whole.headers["Cache-Control"] == "no-cache"
    uids = {s["StudyInstanceUID"] for s in whole.json()["studies"]}
    assert len(studies.urls.study_urls) == len(uids) == 4
    for link in studies.urls.study_urls:
        answer = requests.get(manifest_of(link))
        assert answer.headers["Cache-Control"].endswith("immutable"), "a study's manifest is named by its content"
        document = answer.json()
        assert [s["StudyInstanceUID"] for s in document["studies"]] == [query(link, "StudyInstanceUIDs")]
        url = document["studies"][0]["series"][0]["instances"][0]["url"]
        dicom = requests.get(url.removeprefix("dicomweb:").split("?")[0])
        assert dicom.headers["Content-Type"] == "application/dicom"
        assert dicom.headers["Cache-Control"].endswith("immutable")
        assert dicom.content[128:132] == b"DICM"


def test_studies_on_their_own_origin_answer_every_preflight_and_draw(studies_cross_origin, page):
    sandbox = studies_cross_origin
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    link = sandbox.urls.study_urls[-1]
    assert not query(link, "url").startswith(sandbox.urls.viewer), "the manifest should be on the files' origin"
    page.goto(link)
    drawn = shown(page)
    assert drawn["imageId"].startswith(f"dicomweb:{sandbox.urls.manifest.rsplit('/studies/', 1)[0]}/studies/")
    # The image loader's preflight for each file succeeded, or the viewport would have stayed black (NOTES).
    assert failed == [], failed
    files = sandbox.urls.manifest.rsplit("/", 1)[0] + "/"
    answer = requests.options(drawn["imageId"].removeprefix("dicomweb:").split("?")[0], headers={
        "Origin": sandbox.viewer_origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept"})
    assert answer.status_code == 204 and answer.headers["Access-Control-Allow-Origin"] == sandbox.viewer_origin
    assert "Accept" in answer.headers["Access-Control-Allow-Headers"]
    refused = requests.options(files + "studies.json", headers={"Origin": "http://127.0.0.1:1",
                                                                "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers


def test_the_files_host_refuses_an_address_outside_the_allow_list(studies_cross_origin):
    files = studies_cross_origin.urls.manifest
    assert not files.startswith(studies_cross_origin.urls.viewer), "the files should be on an origin of their own"
    refused = fetch_from(OUTSIDE, files, headers={"Origin": studies_cross_origin.viewer_origin})
    assert refused.status == 403 and json.loads(refused.body) == {"error": REFUSED}
    assert fetch_from(INSIDE, files, headers={"Origin": studies_cross_origin.viewer_origin}).status == 200
