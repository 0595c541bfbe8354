"""The sandbox's reaper: it outlives the sandbox by a moment, whatever ends it, and takes its servers along.

    python -m sandbox up ──pipe──> python sandbox/reaper.py RUN_DIR   (its own session: a closed terminal,
                                                                     SIGHUP or SIGINT do not reach it)

The sandbox writes to the pipe each server's process group as it starts it (`group N`) and its port claim
(`claim PATH`, sandbox/registry.py). When the pipe closes (the sandbox exited, was killed with SIGKILL, or
lost its terminal) the reaper stops those groups and every process whose command line names RUN_DIR (a
server started in the instant before its group was written), SIGTERM then SIGKILL, deletes the claim, and
with --remove deletes RUN_DIR. After a clean teardown there is nothing left to do.

A parent-death signal (PR_SET_PDEATHSIG) would not do: nginx's workers drop it when they change user, and it
fires when the starting thread ends, not the process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path


def processes_naming(path: Path) -> set[int]:
    """The processes whose command line holds `path` (as nginx -p, Orthanc's config and Keycloak's copy do)."""
    needle, found = str(path).encode(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                pass  # gone meanwhile
    return found


def stop(groups: set[int], pids: set[int], grace: float = 10.0) -> None:
    """SIGTERM to the groups and pids, then SIGKILL to what is left after `grace` seconds."""
    def send(sig: int) -> None:
        for group in groups:
            try:
                os.killpg(group, sig)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (any(map(_alive_group, groups)) or any(map(_alive, pids))):
        time.sleep(0.1)
    send(signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        # A zombie is dead for our purposes: it holds no port and its parent is gone.
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _alive_group(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sandbox/reaper.py", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--remove", action="store_true", help="delete RUN_DIR once its servers are stopped")
    args = parser.parse_args(argv)
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    groups, claims = set(), []
    for line in sys.stdin:  # until the sandbox is gone
        kind, _, value = line.strip().partition(" ")
        if kind == "group":
            groups.add(int(value))
        elif kind == "claim":
            claims.append(Path(value))
    stop(groups, processes_naming(args.run_dir))
    for claim in claims:
        claim.unlink(missing_ok=True)
    if args.remove:
        shutil.rmtree(args.run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
