"""Local server processes with certain teardown, after mirakuru and pytest-postgresql's executors.

Each service runs in its own session, so stopping it signals the whole process group; stopping
sends SIGTERM, waits, then SIGKILL. Readiness is an HTTP probe (a TCP one for a server that speaks no
HTTP) under one deadline that counts only an answer from a socket the service's own process group
listens on (another server on the port must not pass for it), and a process that exits early fails at
once with the tail of its log.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit


class SandboxError(Exception):
    """Something the sandbox cannot do; the message says what and how to fix it."""


class ServiceError(SandboxError):
    def __init__(self, service: str, problem: str, hint: str = "") -> None:
        super().__init__(f"{service}: {problem}" + (f" ({hint})" if hint else ""))


def require_binary(service: str, path: str, package: str) -> str:
    found = shutil.which(path)
    if not found:
        raise ServiceError(service, f"{path} not found", f"apt-get install {package}")
    return found


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1 (all bound at once, so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port() -> int:
    return free_ports(1)[0]


def check_port_free(service: str, port: int, hint: str = "stop what listens there") -> None:
    """A port already taken is an error: waiting on it would probe someone else's server."""
    with socket.socket() as s:
        # As servers bind: a just-closed connection in TIME_WAIT does not make the port taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise ServiceError(service, f"port {port} on 127.0.0.1 is already in use", hint) from None


class Service:
    def __init__(self, name: str, argv: Sequence[str], *, log: Path, ready_url: str,
                 ports: Sequence[int], port_hint: str = "stop what listens there",
                 env: dict[str, str] | None = None, ca_file: Path | None = None) -> None:
        """`ca_file` is what the readiness probe trusts when `ready_url` is https://."""
        self.name, self.argv, self.log, self.ready_url = name, list(argv), log, ready_url
        self.ports, self.port_hint, self.env = list(ports), port_hint, env
        self._tls = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0, on_spawn: Callable[[int], None] = lambda _: None) -> Service:
        """Start the process and wait until it is ready; `on_spawn` gets its process group first."""
        for port in self.ports:
            check_port_free(self.name, port, self.port_hint)
        with open(self.log, "ab") as log:
            try:
                self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             env=self.env, start_new_session=True)
            except OSError as e:
                raise ServiceError(self.name, f"cannot run {self.argv[0]}: {e}") from e
        on_spawn(self.proc.pid)
        self._wait_ready(timeout)
        return self

    def exited(self) -> int | None:
        """Its exit code once it has exited (and is reaped), else None."""
        return None if self.proc is None else self.proc.poll()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServiceError(self.name, f"exited with code {self.proc.returncode} before it was ready",
                                   f"log {self.log}: {self.log_tail()}")
            answered = self._answers()
            if answered and listens(self.proc.pid, urlsplit(self.ready_url).port):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(self.name, f"not ready at {self.ready_url} after {timeout:.0f} s",
                                   f"log {self.log}: {self.log_tail()}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        """An HTTP(S) answer of any status, or for a tcp:// URL (a server that speaks no HTTP) an accepted
        connection."""
        url = urlsplit(self.ready_url)
        try:
            if url.scheme == "tcp":
                socket.create_connection((url.hostname, url.port), timeout=2).close()
                return True
            with urllib.request.urlopen(self.ready_url, timeout=2, context=self._tls):
                return True
        except urllib.error.HTTPError:
            return True  # the server is up, whatever it thinks of the path
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False  # not listening yet

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """End it at once (SIGKILL to its group), as a VM that dies: no request in flight is finished."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


def group_cpu_seconds(group: int) -> float:
    """CPU time (user + system) the live processes of process group `group` have used (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split() if entry.name.isdigit() else None
        except OSError:
            continue
        if fields and int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def listens(group: int, port: int) -> bool:
    """Whether a process of process group `group` holds the listening socket on `port` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[2]) != group:
                continue
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return True
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return False
