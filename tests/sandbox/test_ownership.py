"""The sandbox owns its processes: whatever ends it, nothing is left; a second sandbox on its ports is refused
before it writes anything; a stale one is named and cleared; a server that dies ends the sandbox, named."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from sandbox.processes import free_port, listens
from sandbox.reaper import processes_naming
from sandbox.registry import REGISTRY
from tests.conftest import local_sandbox, require_servers
from tests.sandbox.cli import (
    LOCAL_ARCHIVE_PORT,
    claim_of,
    claimed,
    end,
    free_port_pair,
    nothing_listens,
    read_json_line,
    sandbox_cli,
)


def left_behind(claim: dict, wait: float = 15) -> list[str]:
    """What is still there of a sandbox after up to `wait` seconds: processes, listening ports, its run directory."""
    deadline = time.monotonic() + wait
    while True:
        run_dir = Path(claim["run_dir"])
        left = [f"process {pid}" for pid in processes_naming(run_dir)]
        left += [f"port {port}" for port in claim["ports"] if not nothing_listens(port)]
        left += [f"directory {run_dir}"] * run_dir.exists()
        left += [f"claim of pid {claim['pid']}"] * claimed(claim["pid"])
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
def test_nothing_outlives_the_sandbox(sig):
    require_servers()
    with sandbox_cli("--stack", "local", "--port", str(free_port_pair())) as proc:
        read_json_line(proc)
        claim = claim_of(proc.pid)
        assert processes_naming(Path(claim["run_dir"])), "the servers should be running"
        end(proc, sig)
    assert left_behind(claim) == []


def test_a_second_sandbox_on_the_same_ports_is_refused_before_it_writes():
    require_servers()
    port = free_port_pair()
    with sandbox_cli("--stack", "local", "--port", str(port)) as first:
        read_json_line(first)
        instances = requests.get(f"http://127.0.0.1:{LOCAL_ARCHIVE_PORT}/instances").json()
        started = time.monotonic()
        with sandbox_cli("--stack", "local", "--port", str(port)) as second:
            _, err = second.communicate(timeout=60)
        assert second.returncode == 1 and time.monotonic() - started < 15
        shared = min(port, LOCAL_ARCHIVE_PORT)  # the first port both would use is named
        assert err.strip().startswith(f"error: port {shared} is held by another sandbox (pid {first.pid}, run "
                                      f"directory {claim_of(first.pid)['run_dir']}): stop it"), err
        assert requests.get(f"http://127.0.0.1:{LOCAL_ARCHIVE_PORT}/instances").json() == instances, \
            "the second sandbox wrote into the first one's archive"


def test_a_stale_sandbox_is_named_and_cleared():
    require_servers()
    # A sandbox whose process and reaper are both gone: its claim, its run directory, a server still running.
    run_dir = Path(tempfile.mkdtemp(prefix="ohif-sandbox-"))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(run_dir / "nginx.conf")],
                              start_new_session=True)
    REGISTRY.mkdir(mode=0o700, exist_ok=True)
    (REGISTRY / f"{dead_pid}-{run_dir.name}.json").write_text(json.dumps(
        {"pid": dead_pid, "ports": [free_port()], "run_dir": str(run_dir)}))
    try:
        with sandbox_cli("--stack", "local", "--port", str(free_port_pair())) as proc:
            _, progress = read_json_line(proc)
            assert f"-- removed a stale sandbox: pid {dead_pid} is gone; stopped 1 of its processes and deleted " \
                   f"{run_dir}" in progress
            assert server.wait(timeout=15) is not None and not run_dir.exists()
    finally:
        server.kill()


def test_a_dead_server_ends_the_sandbox_named():
    require_servers()
    with sandbox_cli("--stack", "local", "--port", str(free_port_pair())) as proc:
        read_json_line(proc)
        claim = claim_of(proc.pid)
        [orthanc] = [pid for pid in processes_naming(Path(claim["run_dir"]))
                     if b"orthanc" in Path(f"/proc/{pid}/cmdline").read_bytes().lower()]
        os.kill(orthanc, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.startswith("error: orthanc: exited with code -9 while the sandbox ran (last lines of its log: "), err
    assert "Orthanc has started" in err, "the log's tail should say what the server last did"
    assert left_behind(claim) == []


def test_a_sandbox_never_entered_leaves_nothing():
    """Built and dropped without `with` or up(): nothing was made, as nothing would remove it."""
    runs = Path(tempfile.gettempdir())
    before = set(runs.glob("ohif-sandbox-*"))
    local_sandbox()
    assert set(runs.glob("ohif-sandbox-*")) == before


def test_readiness_counts_only_the_servers_own_socket():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while nothing_listens(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listens(server.pid, port)
        # Any other process group (here, this test's) answering on that port is not the server it started.
        assert not listens(os.getpgrp(), port)
    finally:
        server.kill()
        server.wait()
