"""python -m bench: start the sandbox and the reference side by side, measure, print the table and a JSON line.
python -m bench levers: the first image and the whole series with each of our levers switched off alone
(bench/levers.py), beside ours as shipped and the reference.
python -m bench scale: DICOMweb throughput with two proxies behind the balancer against one (bench/scale.py).

Progress goes to stderr; stdout has the table, then `{"bench": {...}}` (or `{"levers": {...}}`) on one line. The exit
code is 0 whether or not the goals are met: the table says which are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import requests
from playwright.sync_api import sync_playwright

import settings
from bench.browser import Deployment, run_browser, throttled_runs
from bench.levers import serve_variants
from bench.load import Target, run_load, workloads
from bench.proxy import SHARE, token_proxy
from bench.reference import PACS_PATH, reference_site
from bench.report import format_levers, format_table, json_line, rows
from bench.scale import format_scale
from bench.scale import measure as measure_scale
from bench.study import find_phantom
from bench.tokens import realm_server
from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from sandbox import Sandbox
from sandbox.processes import free_ports
from sandbox.share_store import start_store

STACK_FILE = Path(__file__).resolve().parent.parent / "stacks" / "Pulumi.local.yaml"
SKIPPED = {"redeploy": "not measured: running the prod stack's program under Pulumi mocks takes tests/pulumi_mocks.py, "
                       "which bench does not import"}


def progress(step: str) -> None:
    print(f"-- {step}", file=sys.stderr, flush=True)


def _dir(work: Path, name: str) -> Path:
    path = work / name
    path.mkdir()
    return path


def measure(work: Path, levers: bool = False) -> dict:
    viewer_port, proxy_port, orthanc_port = free_ports(3)
    stack = settings.load(settings.read_stack_file(STACK_FILE))
    orthanc_root = f"http://127.0.0.1:{orthanc_port}/dicom-web"
    # The recipes' default topology, as the reference's: the proxy behind the viewer's own host (no CORS preflights).
    stack = replace(stack, archive=replace(stack.archive, upstream_url=orthanc_root + "/", topology="same-origin"))
    with Sandbox(stack, port=viewer_port, proxy_port=proxy_port, progress=progress) as sb, ExitStack() as running:
        origin = {"Origin": sb.viewer_origin}
        # The load tool asks the proxy itself; the browser, the viewer's host (the CDN's stand-in) in front of it, which
        # forwards the viewer's Host: the mounted proxy serves that host's own origin and refuses any other.
        forwarded = {**origin, "Host": urlsplit(sb.viewer_origin).netloc}
        proxy_root = f"http://127.0.0.1:{proxy_port}{DICOMWEB_PATH}"
        phantom = find_phantom(proxy_root, forwarded)
        progress(f"the phantom: study {phantom.study}, {len(phantom.instances)} instances")
        reference_port, realm_port, token_port = free_ports(3)
        progress(f"starting the reference (OHIF's nginx recipe) on {reference_port}")
        reference_url = running.enter_context(reference_site(_dir(work, "reference"), reference_port,
                                                             orthanc_port=orthanc_port, tls=sb.tls))
        realm = running.enter_context(realm_server(_dir(work, "realm"), realm_port))
        store = start_store(_dir(work, "share-store"), sb.tls, lambda s: running.callback(s.start().stop), progress)
        progress(f"starting our proxy with the token check on {token_port}")
        token_root = running.enter_context(token_proxy(_dir(work, "proxy"), token_port, upstream_url=orthanc_root + "/",
                                                       viewer_origin=sb.viewer_origin, auth=realm.token_check,
                                                       store=store))

        instances = tuple(phantom.instances)
        deployments = [Deployment("ours", sb.urls.viewer, sb.urls.dicomweb, phantom.study, instances),
                       Deployment("reference", reference_url, reference_url.rstrip("/") + PACS_PATH + "/",
                                  phantom.study, instances)]
        if levers:
            variants = serve_variants(sb, work, running)
            deployments[1:1] = [Deployment(v.lever.variant, v.viewer_url, v.viewer_url + DICOMWEB_PATH[1:],
                                           phantom.study, instances) for v in variants]
            with sync_playwright() as playwright:
                return throttled_runs(playwright, deployments, _dir(work, "profiles"), sb.tls.chromium_flag, progress)
        with sync_playwright() as playwright:
            browser = run_browser(playwright, deployments, _dir(work, "profiles"), sb.tls.chromium_flag, progress)

        targets = [Target("orthanc", orthanc_root, {}),
                   Target("proxy", proxy_root, forwarded),
                   Target("proxy_token", token_root, {**origin, "Authorization": f"Bearer {realm.token()}"}),
                   Target("proxy_scoped", token_root,
                          {**origin, "Authorization": f"Bearer {realm.token(studies=(phantom.study,))}"}),
                   Target("proxy_share", token_root, {**origin, "Authorization": "Bearer "
                                                      + share_token(realm, token_root, origin, phantom.study)},
                          workloads=("metadata", "frames", "frame_repeat"))]
        load, notes = run_load(targets, workloads(phantom.study, phantom.series, phantom.instances),
                               _dir(work, "wrk"), progress)
    return {"browser": browser, "load": load, "notes": notes}


def share_token(realm, token_root: str, origin: dict, study: str) -> str:
    """A share link's token for `study`, made by the proxy for a sharer (POST /shares), as a person would get one."""
    sharer = realm.token(roles=(SHARE.sharer_role,))
    answer = requests.post(f"{token_root}/shares", json={"study": study}, timeout=10,
                           headers={**origin, "Authorization": f"Bearer {sharer}"})
    answer.raise_for_status()
    return answer.json()["token"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["levers", "scale"],
                        help="measure each lever alone, or one proxy against two, instead")
    args = parser.parse_args(argv)
    if args.what == "scale":
        raw = measure_scale(progress)
        print(format_scale(raw))
        print(json.dumps({"scale": raw}), flush=True)
        return 0
    # SIGTERM and SIGHUP (`timeout`, a closed terminal) take Ctrl-C's way out, through every `finally`.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    work = Path(tempfile.mkdtemp(prefix="ohif-bench-"))
    work.chmod(0o755)  # nginx workers run as an unprivileged user and must read the reference's site
    try:
        raw = measure(work, levers=args.what == "levers")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.what == "levers":
        print(format_levers(raw))
        print(json.dumps({"levers": raw}), flush=True)
        return 0
    for note in raw["notes"]:
        progress(f"note: {note}")
    table = rows(raw["browser"], raw["load"])
    print(format_table(table))
    print(json_line(table, {**raw, "skipped": SKIPPED}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
