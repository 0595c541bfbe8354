"""python -m sandbox.load_restart [--requests N] [--fault archive|proxy]: a bounded load on the DICOMweb proxy,
a server restarted in the middle; prints its figures as one JSON line.

It starts the local stack's sandbox (on free ports), reads the answers of a few DICOMweb reads (QIDO, a
series' metadata, the phantom's frames) once, then sends N of them from 16 threads while a server is down
for a moment:

    archive  Orthanc is stopped and started again. Every 200 must carry the same body as before, and every
             other answer must be the proxy's 503 with Retry-After, inside the window the archive was down.
    proxy    two proxies behind the viewer's site (archive.scale, same-origin), and one of them is killed
             (SIGKILL, as a VM that dies) and started again. The site's nginx, standing in for the cloud's
             balancer, sends a request the dead proxy refused to the other one; the client never retries, so any
             error it saw is counted as such. The balancer's log says how many requests nginx retried.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import re
import threading
import time
from dataclasses import replace
from typing import NamedTuple

import requests

from components.render.dicomweb_proxy.interface import RETRY_AFTER_SECONDS
from sandbox import Sandbox
from sandbox.__main__ import STACKS
from sandbox.processes import free_ports
from settings import load, read_stack_file

THREADS = 16
BROKEN = 0  # the status recorded for a transfer the server broke off


class Answer(NamedTuple):
    started: float
    ended: float
    status: int
    right_body: bool
    """A 200 carries the body it carried before the load; any other answer has none to compare."""
    proxy_503: bool
    """The proxy's own 503: Retry-After, CORS and its JSON."""


def reads(client: requests.Session, dicomweb: str) -> list[str]:
    """QIDO, the phantom series' metadata, and its 64 frames: what a viewer opening it asks for."""
    study = client.get(f"{dicomweb}/studies", params={"PatientID": "PHANTOM-001"}).json()[0]["0020000D"]["Value"][0]
    series = client.get(f"{dicomweb}/studies/{study}/series").json()[0]["0020000E"]["Value"][0]
    base = f"{dicomweb}/studies/{study}/series/{series}"
    instances = [i["00080018"]["Value"][0] for i in client.get(f"{base}/instances").json()]
    return [f"{dicomweb}/studies", f"{base}/metadata", *(f"{base}/instances/{i}/frames/1" for i in instances)]


def accept(url: str) -> str:
    """What the viewer asks for: frames as multipart octet streams, the rest as DICOM JSON."""
    if "/frames/" in url:
        return 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
    return "application/dicom+json"


def payload(r: requests.Response) -> str:
    """What the answer says: its body, or a multipart answer's parts without the boundary Orthanc draws anew
    for every answer."""
    boundary = re.search(r'boundary="?([^";]+)', r.headers.get("Content-Type", ""))
    parts = [r.content] if boundary is None else [
        part.split(b"\r\n\r\n", 1)[-1].removesuffix(b"\r\n")
        for part in r.content.split(b"--" + boundary[1].encode())[1:-1]]
    return hashlib.sha256(b"".join(parts)).hexdigest()


PROXIES = 2  # behind the site, for the proxy fault


def run(requests_total: int, fault: str = "archive") -> dict:
    archive_port, viewer_port, proxy_port = free_ports(3)
    settings = load(read_stack_file(STACKS / "Pulumi.local.yaml"))
    archive = replace(settings.archive, upstream_url=f"http://127.0.0.1:{archive_port}/dicom-web/")
    if fault == "proxy":
        archive = replace(archive, topology="same-origin",
                          scale=replace(archive.scale, min_instances=PROXIES, max_instances=PROXIES))
    settings = replace(settings, archive=archive)
    with Sandbox(settings, port=viewer_port, proxy_port=proxy_port) as sandbox:
        origin, dicomweb = sandbox.viewer_origin, sandbox.urls.dicomweb

        def client() -> requests.Session:
            session = requests.Session()
            session.verify = str(sandbox.tls.ca_file)  # this run's own CA,
            session.trust_env = False  # which REQUESTS_CA_BUNDLE would otherwise override
            return session

        urls = reads(client(), dicomweb)
        golden = {url: payload(client().get(url, headers={"Accept": accept(url)})) for url in urls}
        local = threading.local()  # one keep-alive session per thread
        window: dict[str, float] = {}

        def one(i: int) -> Answer:
            if not hasattr(local, "session"):
                local.session = client()
            url = urls[i % len(urls)]
            started = time.monotonic()
            try:
                r = local.session.get(url, headers={"Origin": origin, "Accept": accept(url)})
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                # The archive stopped in the middle of an answer the proxy had begun: the client sees the
                # connection break, never a short body passed off as whole.
                return Answer(started, time.monotonic(), BROKEN, right_body=True, proxy_503=False)
            right_body = r.status_code != 200 or payload(r) == golden[url]
            proxy_503 = (r.status_code == 503 and r.headers.get("Retry-After") == str(RETRY_AFTER_SECONDS) and
                         r.headers.get("Access-Control-Allow-Origin") == origin and "error" in r.json())
            return Answer(started, time.monotonic(), r.status_code, right_body, proxy_503)

        def restart() -> None:
            time.sleep(1.0)
            window["down"] = time.monotonic()
            if fault == "proxy":
                sandbox.restart(sandbox.proxy_instances["proxy"][0], down_seconds=1.0, kill=True)
            else:
                sandbox.restart("orthanc", down_seconds=1.0)
            window["up"] = time.monotonic()

        begun = time.monotonic()
        restarter = threading.Thread(target=restart)
        restarter.start()
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(one, range(requests_total)))
        restarter.join()
        elapsed = time.monotonic() - begun
        retried = nginx_retries(sandbox) if fault == "proxy" else None
    latencies = sorted(a.ended - a.started for a in answers)
    non_200 = [a for a in answers if a.status != 200]
    other = [a for a in non_200 if not a.proxy_503 and a.status != BROKEN]
    return {
        "fault": fault, "requests": len(answers), "threads": THREADS, "seconds": round(elapsed, 2),
        "requests_per_second": round(len(answers) / elapsed),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
        "down_seconds": round(window["up"] - window["down"], 2),
        "status_200": len(answers) - len(non_200),
        "status_503": sum(a.status == 503 for a in answers),
        "broken_transfers": sum(a.status == BROKEN for a in answers),
        "wrong_bodies": sum(not a.right_body for a in answers),
        "other_errors": len(other),
        "other_statuses": sorted({a.status for a in other}),
        # Errors are right only while the archive was down (a request begun before it stopped may end in it).
        "errors_outside_the_window": sum(a.ended < window["down"] or a.started > window["up"] for a in non_200),
        **({"nginx_retries": retried, "client_retries": 0} if retried is not None else {}),
    }


def nginx_retries(sandbox: Sandbox) -> int:
    """The requests the site's balancer sent to a second proxy after the first failed: "a, b" upstreams in its log
    (sandbox/nginx.py, upstream.log)."""
    log = next(sandbox.run_dir.glob("site-*/upstream.log"))
    return sum(", " in line for line in log.read_text().splitlines())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.load_restart", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--fault", choices=("archive", "proxy"), default="archive")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.requests, args.fault)))


if __name__ == "__main__":
    main()
