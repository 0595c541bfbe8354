"""What the viewer route gets before its first image, in headless Chromium: HTTP/2 over HTTPS, as from the CDNs, and
preload hints (viewer/preload.json) that name exactly what the route loads, each file fetched once."""

from __future__ import annotations

import json

from bench.study import find_phantom
from components.render.viewer_build import APP_CONFIG, PRELOAD_FILE
from sandbox.viewport import LIT_PIXELS_JS


def open_study(sandbox, page) -> list[str]:
    """Open the phantom study; the URL of every request up to its first drawn image, in order."""
    phantom = find_phantom(sandbox.urls.dicomweb, {"Origin": sandbox.viewer_origin})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{sandbox.urls.viewer}viewer?StudyInstanceUIDs={phantom.study}")
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=90_000)
    return requested


def test_the_viewer_comes_over_http2_with_its_route_preloaded(sandbox, page):
    requested = open_study(sandbox, page)
    protocols = page.evaluate("performance.getEntriesByType('resource').concat(performance.getEntriesByType("
                              "'navigation')).map(e => e.nextHopProtocol)")
    assert set(protocols) == {"h2"}, f"every request should travel over HTTP/2: {sorted(set(protocols))}"

    first_dicomweb = next(i for i, url in enumerate(requested) if url.startswith(sandbox.urls.dicomweb))
    viewer = sandbox.urls.viewer
    before = [url.removeprefix(viewer) for url in requested[:first_dicomweb] if url.startswith(viewer)]
    # What the route's code loads: chunks and their styles, not what index.html names itself (the app bundle and its
    # css), nor what workers fetch for themselves (a page's preload cannot serve a worker).
    route = {path for path in before if path.endswith((".js", ".css")) and not path.startswith("app.bundle.")
             and "-worker." not in path and path not in (APP_CONFIG, "init-service-worker.js")}
    listed = json.loads(PRELOAD_FILE.read_text())
    hinted = set(listed["scripts"]) | set(listed["styles"])
    assert route <= hinted, (f"the pinned build's viewer route loads what {PRELOAD_FILE.name} does not name: "
                             f"{sorted(route - hinted)}")
    # And every hint is used: the chunk loader has run each listed chunk, and each listed style is in the page.
    chunks = set(page.evaluate("(globalThis.rspackChunk || []).flatMap(entry => entry[0])"))
    styles = set(page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href)"))
    unused = [name for name in listed["scripts"] if int(name.split(".")[0]) not in chunks]
    unused += [name for name in listed["styles"] if viewer + name not in styles]
    assert unused == [], f"preloaded but not used by the viewer route: {unused}"
    # A hint the page cannot use (a crossorigin mismatch, say) makes the browser fetch the file a second time.
    twice = sorted(path for path in set(before) if before.count(path) > 1)
    assert twice == [], f"fetched twice before the first DICOMweb request: {twice}"
