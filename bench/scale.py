"""python -m bench scale: DICOMweb throughput with two proxies behind the site's balancer against one, on a workload
meant to make the proxy the bottleneck (one frame again and again: the proxy's cache answers, the archive rests),
under wrk, rounds alternating; and where this machine's cores went during each run, by server (CPU seconds from
/proc), which says whether a second proxy can help here.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import Target, run_wrk, workloads
from bench.study import find_phantom
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from sandbox import Sandbox
from sandbox.__main__ import STACKS
from sandbox.processes import free_ports, group_cpu_seconds
from settings import RATE_LIMIT_RANGE, load, read_stack_file

ROUNDS = 3


def _sandbox(proxies: int) -> Sandbox:
    archive_port, viewer_port, proxy_port = free_ports(3)
    settings = load(read_stack_file(STACKS / "Pulumi.local.yaml"))
    archive = replace(settings.archive, upstream_url=f"http://127.0.0.1:{archive_port}/dicom-web/",
                      topology="same-origin",
                      scale=replace(settings.archive.scale, min_instances=proxies, max_instances=proxies))
    # The edge's rate limit would answer most of a load test with 429: lifted to its ceiling here.
    access = replace(settings.access, rate_limit=RATE_LIMIT_RANGE[1])
    return Sandbox(replace(settings, archive=archive, access=access), port=viewer_port, proxy_port=proxy_port)


def _cpu(sandbox: Sandbox) -> dict[str, float]:
    return {("archive" if s.name == "orthanc" else s.log.parent.name): group_cpu_seconds(s.proc.pid)
            for s in sandbox.services}


def measure(progress: Callable[[str], None]) -> dict:
    rates: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, dict[str, float]] = {}
    errors = 0
    with tempfile.TemporaryDirectory() as work:
        for round_ in range(1, ROUNDS + 1):
            # One sandbox at a time: two side by side would share the two cores, and each other's numbers.
            for proxies in (1, 2):
                progress(f"scale: round {round_} of {ROUNDS}, {proxies} proxy(ies)")
                with _sandbox(proxies) as sandbox:
                    # Found through a proxy itself (plain HTTP, the site's Host), then asked through the balancer.
                    forwarded = {"Host": urlsplit(sandbox.viewer_origin).netloc, "Origin": sandbox.viewer_origin}
                    phantom = find_phantom(f"http://127.0.0.1:{sandbox.proxy_port}{DICOMWEB_PATH}", forwarded)
                    repeat = next(w for w in workloads(phantom.study, phantom.series, phantom.instances)
                                  if w.name == "frame_repeat")
                    before = _cpu(sandbox)
                    result = run_wrk(Target(f"{proxies}", sandbox.urls.dicomweb, {}), repeat, Path(work), nonce="")
                    after = _cpu(sandbox)
                rates[proxies].append(result["requests_per_s"])
                errors += result["not_200"] + result["socket_errors"]
                cpu[proxies] = {k: round(after[k] - before[k], 2)
                                for k in sorted(after, key=lambda k: before[k] - after[k])}
    median = {p: statistics.median(r) for p, r in rates.items()}
    return {"workload": "frame_repeat", "rounds": ROUNDS, "requests_per_second": rates,
            "ratio": round(median[2] / median[1], 2), "cpu_seconds_last_round": cpu, "errors": errors}


def format_scale(r: dict) -> str:
    lines = ["proxies | requests/s (each round) | median", "---|---|---"]
    for p in (1, 2):
        rates = r["requests_per_second"][p]
        lines.append(f"{p} | {', '.join(f'{x:.0f}' for x in rates)} | {statistics.median(rates):.0f}")
    lines.append(f"two proxies / one: {r['ratio']} (errors: {r['errors']})")
    for p in (1, 2):
        lines.append(f"CPU seconds in the last round with {p}: " + ", ".join(
            f"{k} {v}" for k, v in r["cpu_seconds_last_round"][p].items() if v))
    return "\n".join(lines)
