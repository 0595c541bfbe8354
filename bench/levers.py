"""python -m bench levers: what each choice for the first image is worth, measured alone.

Beside the sandbox's viewer as it ships, the bench serves one variant per lever, on a port of its own, with that one
lever flipped: a lever we ship switched off (back to what OHIF's recipe does), a lever we tried and left out switched
on. Everything else is the same: the files, the rendered nginx config, the proxy behind it, the Orthanc. The throttled
visits then go round all of them and the reference in turn (bench/browser.py: throttled_runs), so each lever's effect
is the variant's time against the shipped viewer's, in one run on one machine.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from components.render.viewer_build import APP_CONFIG
from sandbox import Sandbox
from sandbox.nginx import nginx_service
from sandbox.processes import free_port


def _changed(text: str, old: str, new: str, what: str) -> str:
    """`text` with `old` replaced; a variant that silently changed nothing would measure the shipped viewer twice."""
    if old not in text:
        raise ValueError(f"{what} has no {old!r} to change")
    return text.replace(old, new)


def _no_http2(conf: str) -> str:
    return _changed(conf, " ssl http2;", " ssl;", "the viewer's nginx config")


def _no_preload(root: Path) -> None:
    _rewrite(root / "index.html", lambda html: re.sub(r'<link rel="preload"[^>]*>', "", _changed(
        html, '<link rel="preload"', '<link rel="preload"', "index.html")))


def _fetch_priority(root: Path) -> None:
    """The app bundle asked for first (`high`), the preloaded chunks after it (`low`)."""
    def edit(html: str) -> str:
        html = _changed(html, '<script defer src="/app.bundle.', '<script defer fetchpriority="high" src="/app.bundle.',
                        "index.html")
        return _changed(html, '<link rel="preload"', '<link rel="preload" fetchpriority="low"', "index.html")
    _rewrite(root / "index.html", edit)


def _app_config(old: str, new: str) -> Callable[[Path], None]:
    """A data-source setting changed in app-config.js (as render_app_config writes it)."""
    return lambda root: _rewrite(root / APP_CONFIG, lambda text: _changed(text, old, new, APP_CONFIG))


def _rewrite(path: Path, change: Callable[[str], str]) -> None:
    """Change a file of the variant's tree, whose files are hard links to the shipped tree's: a new file, not the
    shared one."""
    text = change(path.read_text())
    path.unlink()
    path.write_text(text)


@dataclass(frozen=True)
class Lever:
    name: str
    shipped: bool
    """True: ours has it, the variant goes without; False: tried and left out, the variant has it."""
    flip_conf: Callable[[str], str] = field(default=lambda conf: conf)
    """The viewer host's nginx config with the lever flipped."""
    flip_files: Callable[[Path], None] = field(default=lambda root: None)
    """Flips the lever in a copy of the served tree."""

    @property
    def variant(self) -> str:
        return f"{'without' if self.shipped else 'with'} {self.name}"


LEVERS = (
    # HTTP/2 to the browser, as both CDNs speak it (the recipe's nginx: HTTP/1.1).
    Lever("http2", True, flip_conf=_no_http2),
    # Preload hints for the chunks the viewer route always loads (viewer/preload.json).
    Lever("preload", True, flip_files=_no_preload),
    Lever("fetchpriority", False, flip_files=_fetch_priority),
    # The data source's work in the browser: fewer decode workers on 2 cores; 16-bit textures instead of float.
    Lever("1 web worker", False, flip_files=_app_config('"maxNumberOfWebWorkers": 3', '"maxNumberOfWebWorkers": 1')),
    Lever("norm16 textures", False, flip_files=_app_config('"showLoadingIndicator": true',
                                                          '"showLoadingIndicator": true, "useNorm16Texture": true')),
)


@dataclass(frozen=True)
class Variant:
    lever: Lever
    viewer_url: str


def serve_variants(sb: Sandbox, work: Path, running: ExitStack) -> list[Variant]:
    """One viewer host per lever, each with that lever flipped; they stop when `running` closes."""
    # The sandbox's first site, where Sandbox keeps it: its served tree and its rendered config.
    site_root, site_conf = sb.run_dir / "site" / "viewer", sb.run_dir / "site-viewer" / "site.conf"
    conf = site_conf.read_text()
    variants = []
    for number, lever in enumerate(LEVERS):
        port, run_dir = free_port(), work / f"lever-{number}"  # nginx paths take no spaces
        root = run_dir / "site"
        shutil.copytree(site_root, root, copy_function=os.link)
        origin = f"https://127.0.0.1:{port}"
        # The variant is the same deployment at another address: its app-config names its own origin.
        _rewrite(root / APP_CONFIG, lambda text, origin=origin: _changed(text, sb.viewer_origin, origin, APP_CONFIG))
        lever.flip_files(root)
        variant_conf = run_dir / "site.conf"
        moved = _changed(_changed(conf, f"root {site_root};", f"root {root};", "the viewer's nginx config"),
                         f"127.0.0.1:{sb.port} ", f"127.0.0.1:{port} ", "the viewer's nginx config")
        variant_conf.write_text(lever.flip_conf(moved))
        service = nginx_service(run_dir, [variant_conf], ports=[port], ready_url=origin + "/", tls=sb.tls)
        running.callback(service.stop)
        service.start()
        variants.append(Variant(lever, origin + "/"))
    return variants
