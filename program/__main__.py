"""`python3 -m program render --stack prod --out DIR`: write what a stack would deploy, without deploying
(program/render.py). `--all` renders every example stack that `pulumi up` deploys, each in `DIR/<stack>`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from program.provider_types import ProviderInputError
from program.render import STACKS, cloud_stacks, render
from settings import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m program", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render_args = commands.add_parser("render", help="write each VM's cloud-init and nginx config, the CDN's "
                                                     "functions and rules, app-config.js and every resource's inputs")
    which = render_args.add_mutually_exclusive_group(required=True)
    which.add_argument("--stack", help="a stack of stacks/, such as prod")
    which.add_argument("--all", action="store_true", help="every example stack, each in OUT/<stack>")
    render_args.add_argument("--out", type=Path, required=True, help="the folder to write (replaced)")
    args = parser.parse_args(argv)
    if args.stack and not (STACKS / f"Pulumi.{args.stack}.yaml").is_file():
        parser.error(f"no stack file stacks/Pulumi.{args.stack}.yaml")
    failed = False
    for stack in cloud_stacks() if args.all else [args.stack]:
        out = args.out / stack if args.all else args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            render(stack, out)
        except (ConfigError, ProviderInputError) as error:  # one stack's refusal leaves the others' standing
            print(f"{stack}: {error}", file=sys.stderr)
            failed = True
            continue
        print(f"{stack}: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
