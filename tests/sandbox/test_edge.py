"""Who may read, on real servers: the local stacks admit 127.0.0.1/32 alone (stacks/Pulumi.local*.yaml), and the
sandbox's nginx stands in for the CDN's firewall in front of every host a browser reaches. A request from 127.0.0.2
gets 403 from each before anything else of it runs; the same request from 127.0.0.1 is served. The viewer itself
drawing the study from 127.0.0.1 is tests/sandbox/test_browser.py; Keycloak's edge is in test_user_account_control.py,
the files host's in test_manifest.py."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import requests

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.edge import REFUSED
from sandbox import Sandbox
from sandbox.viewport import VIEWPORT_JS
from settings import AccessSettings
from tests.conftest import local_sandbox, require_servers
from tests.sandbox.edge import INSIDE, OUTSIDE, fetch_from

PHANTOM_SLICES = 64
RADIOLOGIST_SLICES = 2000
"""The study the default rate limit is sized for: one radiologist scrolling a 2,000-slice CT."""


@pytest.fixture(params=["cross-origin", "same-origin-subpath"])
def running(request, sandbox) -> Sandbox:
    return sandbox if request.param == "cross-origin" else request.getfixturevalue("sandbox_same_origin_subpath")


def hosts(sandbox: Sandbox) -> dict[str, str]:
    """A URL of each host the browser reaches: the viewer's page, a build file, and a DICOMweb search."""
    return {"viewer page": sandbox.urls.viewer, "build file": sandbox.urls.viewer + "app-config.js",
            "DICOMweb": sandbox.urls.dicomweb + "/studies"}


def test_an_address_outside_the_allow_list_gets_403_everywhere(running):
    assert running.settings.access.allowed_networks == ("127.0.0.1/32",)
    for what, url in hosts(running).items():
        refused = fetch_from(OUTSIDE, url, headers={"Origin": running.viewer_origin})
        assert refused.status == 403, f"{what} from {OUTSIDE}: {refused.status}"
        assert json.loads(refused.body) == {"error": REFUSED}, f"{what}: {refused.body[:200]!r}"
        served = fetch_from(INSIDE, url, headers={"Origin": running.viewer_origin})
        assert served.status == 200, f"{what} from {INSIDE}: {served.status}"


def test_the_edge_refuses_before_the_proxy_answers_a_preflight(sandbox):
    # The proxy answers a preflight with a `return 204` of nginx's rewrite phase; the edge must come first, as a WAF.
    preflight = {"Origin": sandbox.viewer_origin, "Access-Control-Request-Method": "GET"}
    assert fetch_from(INSIDE, sandbox.urls.dicomweb + "/studies", "OPTIONS", preflight).status == 204
    refused = fetch_from(OUTSIDE, sandbox.urls.dicomweb + "/studies", "OPTIONS", preflight)
    assert refused.status == 403
    # From the proxy's own URL, the refusal still tells the browser why (CORS on every answer).
    assert refused.headers["Access-Control-Allow-Origin"] == sandbox.viewer_origin


@pytest.fixture(scope="module")
def scaled_sandbox():
    """The local stack with the default rate limit scaled to the phantom: if the viewer scrolling 64 slices stays
    under DEFAULT × 64 / 2,000, a 2,000-slice CT stays under the default (the requests grow with the slices)."""
    require_servers()
    default = AccessSettings.rate_limit
    scaled = math.floor(default * PHANTOM_SLICES / RADIOLOGIST_SLICES)
    box = local_sandbox()
    box.settings = replace(box.settings, access=replace(box.settings.access, rate_limit=scaled))
    with box as running:
        yield running


def test_the_viewer_scrolling_the_phantom_end_to_end_never_meets_the_rate_limit(scaled_sandbox, page, artifacts):
    sandbox = scaled_sandbox
    uid = requests.get(f"{sandbox.urls.archive}/dicom-web/studies", params={"PatientID": "PHANTOM-001"}).json()
    uid = uid[0]["0020000D"]["Value"][0]
    sent, limited = [], []
    page.on("request", lambda r: r.url.startswith(sandbox.urls.dicomweb) and sent.append(r.method))
    page.on("response", lambda r: r.url.startswith(sandbox.urls.dicomweb) and r.status == 429 and limited.append(r.url))
    page.goto(f"{sandbox.urls.viewer}viewer?StudyInstanceUIDs={uid}")
    page.wait_for_function(f"(() => {{ const v = ({VIEWPORT_JS})(); return v && v.lit > 500; }})()", timeout=60_000)
    page.locator(".cornerstone-canvas").first.hover()
    seen = {page.evaluate(VIEWPORT_JS)["imageId"]}
    for _ in range(PHANTOM_SLICES - 1):
        page.keyboard.press("ArrowDown")
        page.wait_for_function(f"({VIEWPORT_JS})().imageId !== {json.dumps(sorted(seen)[-1])}", timeout=30_000)
        seen.add(page.evaluate(VIEWPORT_JS)["imageId"])
    # What the edge counts, from its own log: the browser's requests and their CORS preflights (which a WAF counts,
    # while Playwright does not show them, and nginx answers them before its rate limit runs).
    log = (sandbox.run_dir / "proxy-proxy" / "nginx-access.log").read_text().splitlines()
    at_edge = [line for line in log if f" {DICOMWEB_PATH}/" in line]
    preflights = sum(1 for line in at_edge if '"OPTIONS ' in line)
    per_slice = len(at_edge) / len(seen)
    (artifacts / "rate-limit-phantom.json").write_text(json.dumps({
        "slices": len(seen), "requests_at_the_edge": len(at_edge), "of_which_preflights": preflights,
        "requests_the_page_sent": len(sent), "per_slice": round(per_slice, 2),
        "at_2000_slices": math.ceil(per_slice * RADIOLOGIST_SLICES), "default_limit": AccessSettings.rate_limit,
        "scaled_limit": sandbox.settings.access.rate_limit}, indent=1))
    assert len(seen) == PHANTOM_SLICES, f"scrolled through {len(seen)} slices"
    assert limited == [], f"{len(limited)} requests were rate limited"
    assert len(at_edge) >= len(sent), "the edge's log misses requests the page sent"
    assert len(at_edge) <= sandbox.settings.access.rate_limit, \
        f"{len(at_edge)} requests for {PHANTOM_SLICES} slices: the default would not hold {RADIOLOGIST_SLICES}"


def test_a_proxy_mounted_on_the_site_serves_the_sites_origin_alone(sandbox_same_origin_subpath):
    box = sandbox_same_origin_subpath
    studies = box.urls.dicomweb + "/studies"
    assert studies.startswith(box.viewer_origin), "the proxy should be mounted on the viewer's site"
    assert requests.get(studies, headers={"Origin": box.viewer_origin}).status_code == 200
    assert requests.get(studies).status_code == 200
    refused = requests.get(studies, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json() == {"error": "origin not allowed"}
