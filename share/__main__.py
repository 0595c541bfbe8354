"""python3 -m share --viewer URL create|list|revoke: a sharer's share links (see share/__init__.py).

    python3 -m share --viewer https://viewer.example.org/ create 1.2.840.113619.2.55.3 [--minutes 1440]
    python3 -m share --viewer https://viewer.example.org/ list
    python3 -m share --viewer https://viewer.example.org/ revoke Xb3k9qRz0uVw1y2A3b4C5d

Each command logs the sharer in first: it prints a URL and a code to open in any browser.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys

from share import Deployment, ShareError, create, listed, log_in, revoke


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m share", description=__doc__.splitlines()[0])
    parser.add_argument("--viewer", required=True, help="the viewer's URL (the stack's viewer_url output)")
    parser.add_argument("--ca-file", help="trust this CA bundle as well as the system's (the sandbox's run CA)")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="a link for one study, which you read yourself")
    made.add_argument("study", help="the StudyInstanceUID")
    made.add_argument("--minutes", type=int, help="how long the link works (the stack's default if left out)")
    commands.add_parser("list", help="your links, newest first")
    gone = commands.add_parser("revoke", help="a link of yours (or anyone's, with the share admin role)")
    gone.add_argument("id", help="the link's ID, as create and list show it")
    args = parser.parse_args(argv)
    tls = None
    if args.ca_file:
        tls = ssl.create_default_context()
        tls.load_verify_locations(args.ca_file)
    try:
        deployment = Deployment.of(args.viewer, tls)
        token = log_in(deployment.issuer, lambda line: print(line, file=sys.stderr, flush=True), tls)
        if args.command == "create":
            print(json.dumps(create(deployment, token, args.study, args.minutes, tls), indent=2))
        elif args.command == "list":
            print(json.dumps(listed(deployment, token, tls), indent=2))
        else:
            revoke(deployment, token, args.id, tls)
            print(f"revoked {args.id}: every proxy refuses it within a minute")
    except ShareError as error:
        print(f"python3 -m share: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
