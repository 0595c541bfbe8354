"""`python -m manifest DIR --base-url URL [--content-addressed] [-o FILE]`: write a dicomjson manifest.

Warnings, progress and a summary go to stderr. Exit status: 0 when the manifest lists at least one instance
(skipped and unreadable files are reported but do not fail the run); 1 when DIR holds no usable DICOM
instance, and nothing is written; 2 for bad arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from manifest import build_manifest


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        # One line, not argparse's usage block: the message is what a CI log needs.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _report(message: str) -> None:
    print(f"manifest: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m manifest", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, metavar="DIR", help="folder of DICOM files (read recursively)")
    parser.add_argument("--base-url", required=True,
                        help="URL the files are served under, ending with '/'")
    parser.add_argument("--content-addressed", action="store_true",
                        help="serve each file as <sha256 of its bytes>.dcm instead of under its path")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        manifest = build_manifest(args.folder, args.base_url, keys="content" if args.content_addressed else "path",
                                  warn=_report, progress=_report)
    except (ValueError, NotADirectoryError) as error:
        parser.error(str(error))
    if not manifest.files:
        _report(f"no DICOM instances in {args.folder}; nothing written")
        return 1
    text = manifest.to_json() + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
