"""python -m bench levers: what each of our choices for the first image is worth, measured alone.

Beside the sandbox's viewer as it ships (every lever on), the bench serves one variant per lever with that lever
alone switched back to what OHIF's recipe does, on a port of its own: the same files, the same rendered nginx config,
the same proxy behind it, the same Orthanc. The throttled visits then go round all of them and the reference in turn
(bench/browser.py: throttled_runs), so each lever's effect is the variant's time against the shipped one's, in one run
on one machine.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from components.render.viewer_build import APP_CONFIG
from sandbox import Sandbox
from sandbox.nginx import nginx_service
from sandbox.processes import free_port


def _no_http2(conf: str) -> str:
    return conf.replace(" ssl http2;", " ssl;")


def _no_preload(root: Path) -> None:
    _rewrite(root / "index.html", lambda html: re.sub(r'<link rel="preload"[^>]*>', "", html))


def _rewrite(path: Path, change: Callable[[str], str]) -> None:
    """Change a file of the variant's tree, whose files are hard links to the shipped tree's: a new file, not the
    shared one."""
    text = change(path.read_text())
    path.unlink()
    path.write_text(text)


@dataclass(frozen=True)
class Lever:
    name: str
    what: str
    """What the lever is, as the README's table says it."""
    undo_conf: Callable[[str], str] = field(default=lambda conf: conf)
    """The viewer host's nginx config with the lever off."""
    undo_files: Callable[[Path], None] = field(default=lambda root: None)
    """Switches the lever off in a copy of the served tree."""


LEVERS = (
    Lever("http2", "HTTP/2 to the browser, as both CDNs speak it (the recipe's nginx: HTTP/1.1)", undo_conf=_no_http2),
    Lever("preload", "preload hints in index.html for the chunks the viewer route always loads",
          undo_files=_no_preload),
)


@dataclass(frozen=True)
class Variant:
    lever: Lever
    viewer_url: str


def serve_variants(sb: Sandbox, work: Path, running: ExitStack, levers=LEVERS) -> list[Variant]:
    """One viewer host per lever, each with that lever off; they stop when `running` closes."""
    # The sandbox's first site, where Sandbox keeps it: its served tree and its rendered config.
    site_root, site_conf = sb.run_dir / "site" / "viewer", sb.run_dir / "site-viewer" / "site.conf"
    conf = site_conf.read_text()
    variants = []
    for lever in levers:
        port, run_dir = free_port(), work / f"lever-{lever.name}"
        root = run_dir / "site"
        shutil.copytree(site_root, root, copy_function=os.link)
        origin = f"https://127.0.0.1:{port}"
        # The variant is the same deployment at another address: its app-config names its own origin.
        _rewrite(root / APP_CONFIG, lambda text: text.replace(sb.viewer_origin, origin))
        lever.undo_files(root)
        variant_conf = run_dir / "site.conf"
        variant_conf.write_text(lever.undo_conf(conf.replace(f"root {site_root};", f"root {root};")
                                                .replace(f"127.0.0.1:{sb.port} ", f"127.0.0.1:{port} ")))
        service = nginx_service(run_dir, [variant_conf], ports=[port], ready_url=origin + "/", tls=sb.tls)
        running.callback(service.stop)
        service.start()
        variants.append(Variant(lever, origin + "/"))
    return variants
