"""python -m sandbox up --stack local [--port N]: run a stack's recipe on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import settings
from sandbox import Sandbox
from sandbox.processes import SandboxError

STACKS = Path(__file__).resolve().parent.parent / "stacks"


def stack_names(cloud: str | None = None) -> list[str]:
    """The stacks in stacks/, or those of one `ohif:cloud`."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml")
                  if cloud is None or settings.read_stack_file(p).get("ohif:cloud") == cloud)


def trust_hint(sandbox: Sandbox) -> str:
    """How to open the HTTPS viewer without a certificate warning: this run's CA is trusted by nobody by default."""
    return (f"-- open the viewer in Chromium, trusting this run's certificate and nothing else:\n"
            f"   chromium --user-data-dir=$(mktemp -d) {sandbox.tls.chromium_flag} {sandbox.urls.viewer}\n"
            f"-- other clients: curl --cacert {sandbox.tls.ca_file}, or REQUESTS_CA_BUNDLE={sandbox.tls.ca_file}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring the stack's servers up on 127.0.0.1 and stay in the foreground")
    up.add_argument("--stack", default="local", help="the stack file stacks/Pulumi.<stack>.yaml (default: local)")
    up.add_argument("--port", type=int, default=3000, help="the viewer's port; the DICOMweb proxy takes the next one")
    args = parser.parse_args(argv)

    stack_file = STACKS / f"Pulumi.{args.stack}.yaml"
    if not stack_file.exists():
        print(f"error: no stack {args.stack!r}; stacks: {', '.join(stack_names())}", file=sys.stderr)
        return 2
    # Ctrl-C, SIGTERM and SIGHUP (a closed terminal) take one way out, through the context manager's teardown.
    # SIGINT's handler is installed too: Python leaves SIGINT ignored when it starts so (a command run with `&`
    # from a script), and the sandbox would then never stop on it. SIGKILL takes none: then the reaper
    # (sandbox/reaper.py) stops the servers.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    try:
        stack = settings.load(settings.read_stack_file(stack_file))
        if stack.cloud != "local":
            print(f"error: stack {args.stack!r} deploys to {stack.cloud} (pulumi up --stack {args.stack}); the sandbox "
                  f"runs stacks with ohif:cloud local: {', '.join(stack_names('local'))}", file=sys.stderr)
            return 2
        with Sandbox(stack, port=args.port, progress=lambda step: print(f"-- {step}", flush=True)) as sandbox:
            print(sandbox.urls.as_json(), flush=True)
            print(trust_hint(sandbox), flush=True)
            sandbox.watch()  # returns only by raising: a server died, or a signal
    except settings.ConfigError as e:
        print(f"error: {stack_file.name}: {e}", file=sys.stderr)
        return 2
    except SandboxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("-- stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
