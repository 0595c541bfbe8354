"""What our DICOMweb proxy costs, and saves, against Orthanc asked directly: requests per second under `wrk`.

Four workloads, each run against Orthanc's DICOMweb root, our proxy without the token check (the sandbox's) and our
proxy with it (bench/proxy.py, a signed token on every request: a reader's, a reader's limited to the study, a share
link's, which reads its study and searches nothing):
    qido            a study search, which the proxy never caches
    metadata        a series' metadata, each URL unique (`?bench=`), so the proxy's cache (keyed by the query too)
                    never answers: the proxy's cost on a miss
    frames          the 64 phantom frames in turn, each URL unique: the same, for image data
    frame repeat    one frame URL, again and again: the proxy's cache answers after the first
Every answer's status is counted (bench/load.lua); anything but 200 is reported, as a rate of errors is no rate.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import requests

WRK = "/usr/bin/wrk"
LUA = Path(__file__).with_name("load.lua")
# Bounded: one thread, 8 connections, 4 s a run (a 2-core machine, shared with the browser's servers).
WRK_ARGS = ["-t1", "-c8", "-d3s", "--timeout", "10s"]
ROUNDS = 3
FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
JSON_ACCEPT = "application/dicom+json"


@dataclass(frozen=True)
class Target:
    name: str
    root: str
    """A DICOMweb root URL, without its trailing slash."""
    headers: dict[str, str]
    workloads: tuple[str, ...] | None = None
    """The workloads run against it; None: every one (a share link's token searches nothing but its study)."""


@dataclass(frozen=True)
class Workload:
    name: str
    paths: list[str]
    """Relative to a DICOMweb root; requests take them in turn."""
    accept: str
    unique: bool
    """Whether each request's URL gets a query of its own (a cache miss at the proxy)."""


def workloads(study: str, series: str, instances: list[str]) -> list[Workload]:
    frames = [f"studies/{study}/series/{series}/instances/{sop}/frames/1" for sop in instances]
    return [
        Workload("qido", ["studies"], JSON_ACCEPT, unique=False),
        Workload("metadata", [f"studies/{study}/series/{series}/metadata"], JSON_ACCEPT, unique=True),
        Workload("frames", frames, FRAME_ACCEPT, unique=True),
        Workload("frame_repeat", frames[:1], FRAME_ACCEPT, unique=False),
    ]


def _get(target: Target, workload: Workload, query: str = "") -> int:
    url = f"{target.root}/{workload.paths[0]}{query}"
    return requests.get(url, headers={**target.headers, "Accept": workload.accept}, timeout=30).status_code


def run_wrk(target: Target, workload: Workload, run_dir: Path, nonce: str) -> dict:
    """One wrk run: requests/s, the count of each status, socket errors."""
    root = urlsplit(target.root)
    paths = run_dir / f"paths-{workload.name}.txt"
    paths.write_text("".join(f"{root.path}/{p}\n" for p in workload.paths))
    headers = [arg for name, value in {**target.headers, "Accept": workload.accept}.items()
               for arg in ("-H", f"{name}: {value}")]
    argv = [WRK, *WRK_ARGS, *headers, "-s", str(LUA), f"{root.scheme}://{root.netloc}/", "--",
            str(paths), nonce if workload.unique else ""]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    statuses = {int(k): v for k, v in _json_line(out).items()}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "statuses": statuses, "not_200": sum(v for k, v in statuses.items() if k != 200),
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def _json_line(out: str) -> dict:
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    return json.loads(line.removeprefix("BENCH "))


def run_load(targets: list[Target], loads: list[Workload], run_dir: Path,
             progress: Callable[[str], None]) -> tuple[dict, list[str]]:
    """{workload: {target: result}} and notes on what could not be run as planned."""
    results, notes = {}, []
    direct = targets[0]
    for workload in loads:
        # Orthanc must take the extra query as the same request, or the direct side would measure errors.
        if workload.unique and (status := _get(direct, workload, "?bench=probe")) != 200:
            notes.append(f"{workload.name}: Orthanc answers {status} with ?bench=, so its URLs are not unique")
            workload = replace(workload, unique=False)
        measured = [t for t in targets if t.workloads is None or workload.name in t.workloads]
        for target in measured:
            # Each must read the study (a wrong token would measure 401s); for `frame repeat` this also fills the
            # proxy's cache, so the runs measure its hits.
            if (status := _get(target, workload)) != 200:
                raise RuntimeError(f"{target.name} answers {status} to {workload.name} ({workload.paths[0]})")
        # Rounds in turn (Orthanc, proxy, proxy with token, Orthanc, ...), and the median round of each: a slow spell
        # of the shared 2 cores then falls on every side alike.
        runs = {target.name: [] for target in measured}
        for round_ in range(1, ROUNDS + 1):
            for target in measured:
                progress(f"wrk: {workload.name} against {target.name}, round {round_} of {ROUNDS}")
                runs[target.name].append(run_wrk(target, workload, run_dir, nonce=str(time.time_ns())))
        results[workload.name] = {name: _median(rounds) for name, rounds in runs.items()}
    return results, notes


def _median(rounds: list[dict]) -> dict:
    """The median round's requests/s; the statuses and socket errors of all rounds."""
    statuses = sum((Counter(r["statuses"]) for r in rounds), Counter())
    return {"requests_per_s": statistics.median(r["requests_per_s"] for r in rounds),
            "rounds_requests_per_s": [r["requests_per_s"] for r in rounds], "statuses": dict(statuses),
            "not_200": sum(r["not_200"] for r in rounds), "socket_errors": sum(r["socket_errors"] for r in rounds)}
