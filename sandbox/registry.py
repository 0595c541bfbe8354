"""Which sandboxes run on this machine and which ports each holds: one JSON file per sandbox in REGISTRY.

A sandbox claims its ports here before it starts a server or loads a study, under one lock, so of two
sandboxes started at once on the same ports the second is refused before it writes anything, with the
first one named. An entry whose sandbox is gone (a reboot, or its reaper killed too) is stale: its
servers (the processes whose command line names its run directory, which no other sandbox shares) are
stopped and its run directory removed, and the sandbox says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sandbox.processes import SandboxError
from sandbox.reaper import processes_naming, stop

REGISTRY = Path(tempfile.gettempdir()) / "ohif-sandboxes"


def claim(ports: Sequence[int], run_dir: Path, progress: Callable[[str], None]) -> Path:
    """Record that this process holds `ports`, or raise SandboxError naming the live sandbox that holds one."""
    with _locked():
        for entry in sorted(REGISTRY.glob("*.json")):
            other = json.loads(entry.read_text())
            if not _is_sandbox(other["pid"]):
                _clear_stale(entry, other, progress)
                continue
            if taken := sorted(set(ports) & set(other["ports"])):
                raise SandboxError(
                    f"port {taken[0]} is held by another sandbox (pid {other['pid']}, run directory "
                    f"{other['run_dir']}): stop it with Ctrl-C in its terminal or `kill {other['pid']}`, or pick "
                    "other ports")
        mine = claim_file(run_dir)
        mine.write_text(json.dumps({"pid": os.getpid(), "ports": sorted(set(ports)), "run_dir": str(run_dir)}))
        return mine


def claim_file(run_dir: Path) -> Path:
    """Where the sandbox of `run_dir` in this process records its claim (a test process may run several)."""
    return REGISTRY / f"{os.getpid()}-{run_dir.name}.json"


def release(entry: Path) -> None:
    entry.unlink(missing_ok=True)


def _is_sandbox(pid: int) -> bool:
    """Whether `pid` is still a Python process (a recycled pid is someone else's)."""
    try:
        return b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _clear_stale(entry: Path, other: dict, progress: Callable[[str], None]) -> None:
    run_dir = Path(other["run_dir"])
    left = processes_naming(run_dir)
    stop(set(), left)
    shutil.rmtree(run_dir, ignore_errors=True)
    entry.unlink(missing_ok=True)
    progress(f"removed a stale sandbox: pid {other['pid']} is gone; stopped {len(left)} of its processes and "
             f"deleted {run_dir}")


@contextmanager
def _locked() -> Iterator[None]:
    REGISTRY.mkdir(mode=0o700, exist_ok=True)
    with open(REGISTRY / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
