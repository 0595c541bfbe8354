"""What a browser downloads and waits for: headless Chromium opening the phantom study on each deployment.

    cold open       a fresh profile: the bytes of the viewer itself (static) and of the study (DICOMweb)
    repeat visit    the same profile again, its disk cache warm: all it still downloads
    first image     a fresh profile on a throttled line (20 Mbit/s, 40 ms): from navigation to the first
                    drawn viewport
    whole series    the same visit, on until every slice of the series has arrived: from navigation to the last
                    of its frames (a lever that hurries the first image must not delay the rest)

Bytes are DevTools' own count of what crossed the wire per request (`encodedDataLength`, headers included), so a
compressed answer counts compressed, a 304 counts its headers, and an answer from the browser's cache counts 0.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Playwright, Request
from playwright.sync_api import Error as PlaywrightError

from sandbox.viewport import LIT_PIXELS_JS

CHROMIUM = "/usr/bin/chromium"
# No traffic of Chromium's own (updates, sync, field trials) in the counts, and no QUIC (nginx 1.22 has no HTTP/3).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 900}
VISIT_TIMEOUT_S = 90
QUIET_S = 1.0
"""A visit is over once no request has been open or begun for this long."""
POLL_S = 0.05
DRAWN_PIXELS = 500
# The modest line of the first-image scenario: 20 Mbit/s both ways, 40 ms added to each request.
THROTTLED = {"offline": False, "latency": 40, "downloadThroughput": 20e6 / 8, "uploadThroughput": 20e6 / 8}
FIRST_IMAGE_RUNS = 3

@dataclass(frozen=True)
class Deployment:
    name: str
    viewer_url: str
    """The viewer's root URL, ending in `/`."""
    dicomweb_root: str
    """The URL prefix of its DICOMweb requests."""
    study: str
    instances: tuple[str, ...]
    """The SOP Instance UIDs of the series the viewer opens first, whose frames the whole-series time waits for."""

    @property
    def study_url(self) -> str:
        return f"{self.viewer_url}viewer?StudyInstanceUIDs={self.study}"

    def classify(self, url: str) -> str:
        if url.startswith(self.dicomweb_root):
            return "dicomweb"
        viewer = urlsplit(self.viewer_url)
        return "static" if url.startswith(f"{viewer.scheme}://{viewer.netloc}/") else "other"


class WireMeter:
    """Bytes on the wire by class (static, dicomweb, other), from the page's DevTools Network events.

    A page's DevTools session does not see what its dedicated workers load (their scripts' bodies and their own
    fetches are reported to the worker, the scripts' encoded size nowhere): those requests are listed as `unseen`,
    uncounted. Whether the network is busy is Playwright's view, which follows workers too.
    """

    def __init__(self, context: BrowserContext, page: Page, deployment: Deployment) -> None:
        self.deployment = deployment
        self._url: dict[str, str] = {}
        self._cached: set[str] = set()
        self.open: set[Request] = set()
        self.reset()
        page.on("request", self._began)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        self.cdp = context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", lambda e: self._url.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.requestServedFromCache", lambda e: self._cached.add(e["requestId"]))
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", lambda e: self._url.pop(e["requestId"], None))
        self.cdp.send("Network.enable")

    def reset(self) -> None:
        self.bytes: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.from_cache: Counter[str] = Counter()
        self._counted: Counter[str] = Counter()
        self._ended_urls: Counter[str] = Counter()
        self.last_event = time.monotonic()

    def _began(self, request: Request) -> None:
        self.open.add(request)
        self.last_event = time.monotonic()

    def _ended(self, request: Request) -> None:
        self.open.discard(request)
        self._ended_urls[request.url] += 1
        self.last_event = time.monotonic()

    def _received(self, event: dict) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache") or response.get("fromServiceWorker"):
            self._cached.add(event["requestId"])

    def _finished(self, event: dict) -> None:
        request_id = event["requestId"]
        url = self._url.pop(request_id, "")
        if not url.startswith("http"):
            return  # data: and blob: URLs never reach the network
        kind = self.deployment.classify(url)
        self._counted[url] += 1
        self.requests[kind] += 1
        if request_id in self._cached:
            self._cached.discard(request_id)
            self.from_cache[kind] += 1
        else:
            self.bytes[kind] += int(event["encodedDataLength"])

    def quiet(self) -> bool:
        return not self.open and time.monotonic() - self.last_event >= QUIET_S

    def counts(self) -> dict:
        unseen = [url for url in (self._ended_urls - self._counted).elements() if url.startswith("http")]
        return {"bytes": dict(self.bytes), "requests": dict(self.requests), "from_cache": dict(self.from_cache),
                "unseen": sorted(unseen)}


def _launch(playwright: Playwright, profile: Path, trust: str) -> tuple[BrowserContext, Page]:
    """A browser on a fresh `profile`, trusting the certificate `trust` (sandbox/tls.py's Chromium flag)."""
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile), executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, trust], headless=True,
        viewport=VIEWPORT)
    return context, (context.pages[0] if context.pages else context.new_page())


def _wait_drawn(page: Page, deadline: float) -> float | None:
    """When (perf_counter) the first viewport first shows the image, or None if not before `deadline`."""
    while time.monotonic() < deadline:
        try:
            if page.evaluate(LIT_PIXELS_JS) > DRAWN_PIXELS:
                return time.perf_counter()
        except PlaywrightError:
            pass  # the document is still being replaced
        page.wait_for_timeout(POLL_S * 1000)
    return None


def _visit(page: Page, meter: WireMeter, url: str) -> dict:
    """Open `url`, wait for the first image and then for the network to fall quiet; what that cost."""
    deadline = time.monotonic() + VISIT_TIMEOUT_S
    start = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=VISIT_TIMEOUT_S * 1000)
    drawn = _wait_drawn(page, deadline)
    # Playwright's events arrive while it waits, so waiting is how the meter sees them.
    while not meter.quiet() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return {"drawn_s": None if drawn is None else drawn - start, "quiet": meter.quiet(), **meter.counts()}


def cold_and_repeat(playwright: Playwright, deployment: Deployment, profile: Path, trust: str) -> dict:
    """The cold open on a fresh profile, then the repeat visit on the same one."""
    context, page = _launch(playwright, profile, trust)
    try:
        meter = WireMeter(context, page, deployment)
        cold = _visit(page, meter, deployment.study_url)
        # Away and back, as a user returns: navigating a page to its own URL would be a reload, which revalidates.
        page.goto("about:blank")
        meter.reset()
        repeat = _visit(page, meter, deployment.study_url)
    finally:
        context.close()
    return {"cold": cold, "repeat": repeat}


def first_image(playwright: Playwright, deployment: Deployment, profile: Path, trust: str) -> dict:
    """On the throttled line, with a fresh profile: seconds from navigation to the first drawn viewport
    (`drawn_s`), and to the last frame of the series (`series_s`); None for what did not happen in time."""
    context, page = _launch(playwright, profile, trust)
    frames = {f"/instances/{uid}/frames/": uid for uid in deployment.instances}
    arrived: dict[str, float] = {}

    def finished(request: Request) -> None:
        uid = next((uid for part, uid in frames.items() if part in request.url), None)
        if uid is not None and request.url.startswith(deployment.dicomweb_root):
            arrived.setdefault(uid, time.perf_counter())

    try:
        page.on("requestfinished", finished)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", THROTTLED)
        deadline = time.monotonic() + VISIT_TIMEOUT_S
        start = time.perf_counter()
        page.goto(deployment.study_url, wait_until="commit", timeout=VISIT_TIMEOUT_S * 1000)
        drawn = _wait_drawn(page, deadline)
        while len(arrived) < len(frames) and time.monotonic() < deadline:
            page.wait_for_timeout(100)  # Playwright delivers the events while it waits
    finally:
        context.close()
    return {"drawn_s": None if drawn is None else drawn - start,
            "series_s": max(arrived.values()) - start if len(arrived) == len(frames) else None,
            "frames_arrived": len(arrived)}


def _median(values: list[float | None]) -> float | None:
    """The median, or None if any run missed its mark: a median of the runs that made it would flatter."""
    return None if not values or None in values else statistics.median(values)


def throttled_runs(playwright: Playwright, deployments: list[Deployment], work: Path, trust: str,
                   progress: Callable[[str], None], runs: int = FIRST_IMAGE_RUNS) -> dict:
    """`runs` throttled visits per deployment, alternately (a, b, a, b, ...), so that a slow spell of the shared
    machine falls on every side alike: {name: {"first_image_s": [...], "first_image_median_s", "series_s": [...],
    "series_median_s"}}."""
    visits = {d.name: [] for d in deployments}
    for run in range(runs):
        for d in deployments:
            progress(f"browser: first image on a throttled line, {d.name}, run {run + 1}")
            visits[d.name].append(first_image(playwright, d, Path(tempfile.mkdtemp(prefix=f"{d.name}-", dir=work)),
                                              trust))
    results = {}
    for name, values in visits.items():
        drawn, series = [v["drawn_s"] for v in values], [v["series_s"] for v in values]
        results[name] = {"first_image_s": drawn, "first_image_median_s": _median(drawn),
                         "series_s": series, "series_median_s": _median(series),
                         "frames_arrived": [v["frames_arrived"] for v in values]}
    return results


def run_browser(playwright: Playwright, deployments: list[Deployment], work: Path, trust: str,
                progress: Callable[[str], None]) -> dict:
    """Every scenario on every deployment: {name: {"cold", "repeat", "first_image_s", "first_image_median_s",
    "series_s", "series_median_s"}}."""
    results = {d.name: {} for d in deployments}
    for d in deployments:
        progress(f"browser: cold open and repeat visit on {d.name}")
        results[d.name].update(cold_and_repeat(playwright, d, Path(tempfile.mkdtemp(prefix=f"{d.name}-", dir=work)),
                                               trust))
    for name, throttled in throttled_runs(playwright, deployments, work, trust, progress).items():
        results[name].update(throttled)
    return results
