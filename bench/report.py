"""The bench's verdict: one row per goal, ours against the reference (or our proxy against Orthanc direct), as a
table for people and one JSON line with every raw number for tools."""

from __future__ import annotations

import json
import operator
from dataclasses import asdict, dataclass

GOALS = {"≤": operator.le, "≥": operator.ge}
PROXIES = (("proxy_token", "with token check"), ("proxy_scoped", "with a token limited to the study"),
           ("proxy_share", "with a share link's token"), ("proxy", "without token check"))
CHECKED = ("proxy_token", "proxy_scoped", "proxy_share")
"""The proxies with a goal: the token check, the scope check after it and a share link's check, must cost little
against Orthanc."""
LOADS = (("qido", "QIDO search", 0.9), ("metadata", "series metadata, cache miss", 0.9),
         ("frames", "frames, cache miss", 0.9), ("frame_repeat", "one frame repeated, cache hit", 3.0))


@dataclass(frozen=True)
class Row:
    goal: str
    ours: float | None
    reference: float | None
    unit: str
    """"bytes", "s" or "req/s"."""
    target: tuple[str, float] | None
    """("≤", 0.8): what the ratio ours/reference must be; None for a row shown for information."""
    errors: int = 0
    """Answers other than 200 (and socket errors) in the runs behind the row: a rate of errors proves nothing."""

    @property
    def ratio(self) -> float | None:
        return None if self.ours is None or not self.reference else self.ours / self.reference

    @property
    def met(self) -> str:
        if self.target is None:
            return "-"
        if self.errors:
            return f"NO ({self.errors} errors)"
        return "yes" if self.ratio is not None and GOALS[self.target[0]](self.ratio, self.target[1]) else "NO"


def _bytes(result: dict, *kinds: str) -> int:
    return sum(result["bytes"].get(kind, 0) for kind in kinds)


def rows(browser: dict, load: dict) -> list[Row]:
    ours, ref = browser["ours"], browser["reference"]
    table = [
        Row("cold open, static bytes on the wire", _bytes(ours["cold"], "static"), _bytes(ref["cold"], "static"),
            "bytes", ("≤", 0.8)),
        Row("repeat visit, all bytes on the wire", _bytes(ours["repeat"], "static", "dicomweb"),
            _bytes(ref["repeat"], "static", "dicomweb"), "bytes", ("≤", 0.05)),
        Row("first image at 20 Mbit/s, 40 ms (median)", ours["first_image_median_s"],
            ref["first_image_median_s"], "s", ("≤", 0.8)),
        Row("whole series at 20 Mbit/s, 40 ms (median)", ours["series_median_s"], ref["series_median_s"], "s",
            ("≤", 1.0)),
    ]
    for proxy, proxy_label in PROXIES:
        for workload, label, goal in LOADS:
            runs = load[workload]
            if proxy not in runs:
                continue  # not run against this proxy (a share link's token searches nothing)
            errors = sum(r["not_200"] + r["socket_errors"] for r in (runs[proxy], runs["orthanc"]))
            # A scoped study search names one study where Orthanc's lists them all: shown, with no goal.
            goal_met = proxy in CHECKED and not (proxy == "proxy_scoped" and workload == "qido")
            table.append(Row(f"{label}, proxy {proxy_label} ÷ Orthanc", runs[proxy]["requests_per_s"],
                             runs["orthanc"]["requests_per_s"], "req/s", ("≥", goal) if goal_met else None, errors))
    return table


def _quantity(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "bytes":
        return f"{value / 1e6:.2f} MB" if value >= 1e6 else f"{value / 1e3:.1f} kB"
    return f"{value:.2f} s" if unit == "s" else f"{value:.0f} req/s"


def format_table(table: list[Row]) -> str:
    lines = [("goal", "ours", "reference", "ratio", "goal", "met")]
    for row in table:
        lines.append((row.goal, _quantity(row.ours, row.unit), _quantity(row.reference, row.unit),
                      "n/a" if row.ratio is None else f"{row.ratio:.3g}",
                      f"{row.target[0]} {row.target[1]:g}" if row.target else "-", row.met))
    return _columns(lines)


def _columns(lines: list[tuple[str, ...]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def json_line(table: list[Row], raw: dict) -> str:
    goals = [{**asdict(row), "ratio": row.ratio, "met": row.met} for row in table]
    return json.dumps({"bench": {"goals": goals, **raw}})


def format_levers(results: dict) -> str:
    """One line per deployment of `python -m bench levers`: its medians, and each against ours as shipped."""
    ours = results["ours"]
    lines = [("deployment", "first image", "÷ ours", "whole series", "÷ ours")]
    for name, r in results.items():
        cells = [name]
        for key in ("first_image_median_s", "series_median_s"):
            value, base = r[key], ours[key]
            cells += [_quantity(value, "s"), "n/a" if value is None or not base else f"{value / base:.3g}"]
        lines.append(tuple(cells))
    return _columns(lines)

