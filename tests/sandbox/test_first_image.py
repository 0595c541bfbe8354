"""What the viewer route gets before its first image, in headless Chromium: HTTP/2 over HTTPS, as from the CDNs, and
preload hints (viewer/preload.json) that name exactly what the route has run by then, each file fetched once."""

from __future__ import annotations

import json

from bench.study import find_phantom
from components.render.viewer_build import PRELOAD_FILE
from sandbox.viewport import LIT_PIXELS_JS


def open_study(sandbox, page) -> tuple[list[str], dict[str, str], list[str]]:
    """Open the phantom study, up to its first drawn image: the URL of every request, the protocol each answer came
    over (DevTools' own view: the page's Resource Timing hides it for another origin's answers), and the browser's
    warnings about preloads."""
    phantom = find_phantom(sandbox.urls.dicomweb, {"Origin": sandbox.viewer_origin})
    requested: list[str] = []
    protocols: dict[str, str] = {}
    warnings: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: "preload" in m.text and warnings.append(m.text))
    devtools = page.context.new_cdp_session(page)

    devtools.on("Network.responseReceived",
                lambda e: protocols.__setitem__(e["response"]["url"], e["response"].get("protocol", "")))
    devtools.send("Network.enable")
    page.goto(f"{sandbox.urls.viewer}viewer?StudyInstanceUIDs={phantom.study}")
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=90_000)
    return requested, protocols, warnings


def test_the_viewer_comes_over_http2_with_its_route_preloaded(sandbox, page):
    requested, protocols, warnings = open_study(sandbox, page)
    other = {url: p for url, p in protocols.items() if url.startswith("https://") and p != "h2"}
    assert protocols and other == {}, f"every answer should come over HTTP/2: {other}"
    assert any(url.startswith(sandbox.urls.dicomweb) for url in protocols), "the proxy's answers were not seen"

    viewer = sandbox.urls.viewer
    # What the route has run by its first image, after the app bundle: its chunks, and their styles in the page.
    ran = set(page.evaluate("(globalThis.rspackChunk || []).flatMap(entry => entry[0])"))
    styles = {href.removeprefix(viewer) for href in
              page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href)")}
    chunk_files = {int(path.split(".")[0]): path for path in {url.removeprefix(viewer) for url in requested}
                   if path.split(".")[0].isdigit() and path.endswith(".js")}
    needed = {"scripts": sorted(chunk_files[i] for i in ran), "styles": sorted(styles - {"app.bundle.css"})}
    listed = json.loads(PRELOAD_FILE.read_text())
    assert {kind: sorted(listed[kind]) for kind in needed} == needed, \
        f"the pinned build runs another set by its first image; put these in {PRELOAD_FILE.name}: {json.dumps(needed)}"
    # A hint the page cannot use (a crossorigin mismatch, say) is fetched twice, and the browser says so.
    assert warnings == [], warnings
