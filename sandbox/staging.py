"""Files laid out in a run directory as the cloud's storage keeps them, for the sandbox's nginx to serve."""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from components.render.viewer_build import SiteFile, object_key, stored_files


def server_dir(run_dir: Path, name: str) -> Path:
    """A server's own directory in the run: its config, logs and state."""
    path = run_dir / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def worker_dir(path: Path) -> Path:
    """A directory only nginx's workers may enter (as root, nginx runs them as `nobody`)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.getuid() == 0:
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    return path


def store(files: Sequence[SiteFile], path: str, root: Path) -> list[SiteFile]:
    """`files` served under the URL `path`, stored under `root` where the cloud's storage keeps them (object_key);
    SiteFiles keyed from the origin's root."""
    stored = []
    for f in files:
        key = object_key(path, f)
        dest = root / key
        if dest != f.path:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.path, dest)
        stored.append(replace(f, key=key, path=dest))
    return stored


def write_published(published: dict[str, str], root: Path) -> list[SiteFile]:
    """Published files written under `root`, with the variants their names get, as the cloud targets store them."""
    entries = []
    for url_path, content in published.items():
        key = url_path.lstrip("/")
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        entries.append((key, path))
    return store(stored_files(entries), "/", root)
