"""python -m livecheck OUTPUTS.json | - | --viewer URL --dicomweb URL [--keycloak URL --realm NAME]
[--outside-address ADDRESS | --outside-proxy URL]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from livecheck import Stack, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m livecheck", description=__doc__)
    parser.add_argument("outputs", nargs="?", help="`pulumi stack output --json` as a file, or - for standard input")
    for key in ("viewer", "dicomweb", "keycloak", "realm", "script"):
        parser.add_argument(f"--{key}", help=f"the stack's {key} output, given by hand")
    outside = parser.add_mutually_exclusive_group()
    outside.add_argument("--outside-address", help="a source address of this machine outside the allowed networks")
    outside.add_argument("--outside-proxy", help="an HTTP proxy (http://host:port) that leaves from outside them")
    args = parser.parse_args(argv)
    try:
        if args.outputs:
            outputs = json.loads(sys.stdin.read() if args.outputs == "-" else Path(args.outputs).read_text())
        else:
            outputs = {k: v for k, v in vars(args).items() if k not in ("outputs", "outside_address", "outside_proxy")
                       and v}
        stack = Stack.from_outputs(outputs, args.outside_address, args.outside_proxy)
    except (OSError, ValueError) as e:
        parser.error(str(e))
    failed = False
    for result in run(stack):
        print(result.line(), flush=True)
        failed |= result.outcome == "FAIL"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
