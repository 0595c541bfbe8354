"""`python -m sandbox up` run from a test as a person runs it, and ended whatever happens, so that no later test
meets its ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.processes import SandboxError, check_port_free, free_port
from sandbox.registry import REGISTRY
from tests.conftest import REPO

LOCAL_ARCHIVE_PORT = 8042  # stacks/Pulumi.local.yaml's upstream_url
STOP_SECONDS = 30
"""How long a sandbox gets to stop on a signal (its teardown stops each server within 10 s) before the next one, and
its reaper to stop what a killed sandbox left."""


def free_port_pair() -> int:
    """A port p with p and p + 1 free: the CLI puts the viewer on --port and the proxy on the next."""
    for _ in range(50):
        port = free_port()
        try:
            check_port_free("test", port + 1)
            return port
        except SandboxError:
            continue
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


@contextmanager
def sandbox_cli(*args: str, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """`python -m sandbox up ARGS`, in a process group of its own so that `end` can stop it all; ended on the way
    out if it still runs."""
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "up", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield proc
    finally:
        end(proc)


def end(proc: subprocess.Popen, sig: int = signal.SIGTERM, times: int = 1) -> None:
    """Stop a sandbox with `sig` (sent `times` times, as an impatient user presses Ctrl-C again), and fail if that is
    not what stopped it. Whatever happens it ends: after STOP_SECONDS SIGTERM goes to its process group, then SIGKILL,
    and then its reaper has STOP_SECONDS to stop its servers and drop its port claim."""
    if proc.poll() is not None:
        return
    for _ in range(times):
        proc.send_signal(sig)
        time.sleep(0.05)
    forced = []
    for escalation in (signal.SIGTERM, signal.SIGKILL):
        try:
            proc.wait(STOP_SECONDS)
            break
        except subprocess.TimeoutExpired:
            forced.append(escalation.name)
            try:
                os.killpg(proc.pid, escalation)
            except ProcessLookupError:
                pass  # it ended meanwhile
    proc.wait()
    deadline = time.monotonic() + STOP_SECONDS
    while claimed(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not forced, (f"the sandbox (pid {proc.pid}) did not stop within {STOP_SECONDS} s of "
                        f"{signal.Signals(sig).name}; sent {' then '.join(forced)} to its process group")
    assert not claimed(proc.pid), f"the sandbox (pid {proc.pid}) still claims ports {STOP_SECONDS} s after it ended"


def claimed(pid: int) -> bool:
    """Whether the sandbox of `pid` still claims its ports (sandbox/registry.py): its reaper drops the claim once it has
    stopped the servers."""
    return any(REGISTRY.glob(f"{pid}-*.json"))


def claim_of(pid: int) -> dict:
    [entry] = REGISTRY.glob(f"{pid}-*.json")
    return json.loads(entry.read_text())


def read_json_line(proc: subprocess.Popen, timeout: float = 180) -> tuple[dict, list[str]]:
    progress, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"exited {proc.wait()}: {proc.stderr.read()}")
        if line.startswith("{"):
            return json.loads(line), progress
        progress.append(line.strip())
    raise AssertionError(f"no JSON line after {timeout} s: {progress}")


def nothing_listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
