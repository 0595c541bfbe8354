"""python -m bench scale: DICOMweb throughput with two proxies behind the site's balancer against one, on a workload
whose bottleneck is meant to be the proxy (frames and metadata from the proxy's cache, 16 client threads), runs
alternating; and where this machine's two cores went, by server, which says whether a second proxy can help here.
"""

from __future__ import annotations

import statistics

from sandbox.load_restart import run

RUNS = 3
REQUESTS = 4000


def measure(progress) -> dict:
    results: dict[int, list[dict]] = {1: [], 2: []}
    for n in range(RUNS):
        for proxies in (1, 2):
            progress(f"scale: run {n + 1} of {RUNS}, {proxies} proxy(ies)")
            results[proxies].append(run(REQUESTS, fault="none", proxies=proxies))
    rates = {p: [r["requests_per_second"] for r in rs] for p, rs in results.items()}
    median = {p: statistics.median(r) for p, r in rates.items()}
    return {"requests": REQUESTS, "runs": RUNS, "requests_per_second": rates,
            "ratio": round(median[2] / median[1], 2),
            "cpu_seconds": {p: rs[-1]["cpu_seconds"] for p, rs in results.items()},
            "errors": sum(r["requests"] - r["status_200"] + r["wrong_bodies"] for rs in results.values() for r in rs)}


def format_scale(r: dict) -> str:
    lines = ["proxies | requests/s (each run) | median", "---|---|---"]
    for p in (1, 2):
        rates = r["requests_per_second"][p]
        lines.append(f"{p} | {', '.join(map(str, rates))} | {statistics.median(rates):g}")
    lines.append(f"two proxies / one: {r['ratio']} (goal: > 1 where the proxy is the bottleneck); errors: {r['errors']}")
    for p in (1, 2):
        lines.append(f"CPU seconds with {p} (last run): " + ", ".join(f"{k} {v}" for k, v in r["cpu_seconds"][p].items()))
    return "\n".join(lines)
