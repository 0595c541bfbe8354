"""`python3 -m program render`: what a stack would deploy, as files, without deploying (as `helm template` and
`cdk synth` do). The program runs offline (program/offline.py); each resource's inputs are written as JSON, and the
documents a VM or a CDN runs (cloud-init and the files it installs, such as the proxy's nginx config; CloudFront
functions; published objects such as `app-config.js`) are written out as the files they become. A fork can then be
diffed against what it forked before `pulumi up`. Values a cloud would compute are placeholders, and secrets show
as `[secret]`."""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pulumi
import yaml

from program.offline import SECRET_SIG, Program, run_program

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "stacks"
SECRET = "[secret]"


def cloud_stacks() -> list[str]:
    """The example stacks `pulumi up` deploys (the sandbox's run with `python3 -m sandbox up` instead)."""
    from settings import NAMESPACE
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml")
                  if (yaml.safe_load(p.read_text()) or {}).get("config", {}).get(f"{NAMESPACE}:cloud") != "local")


def render(stack: str, out: Path) -> None:
    """Write what `stack` would deploy under `out` (made anew): `resources/<type>/<name>.json`, `files/…` and
    `outputs.json`. Raises ConfigError for a stack whose settings are refused, having written nothing."""
    from settings import read_stack_file
    program = run_program(read_stack_file(STACKS / f"Pulumi.{stack}.yaml"), stack=stack, program=Program())
    staging = Path(tempfile.mkdtemp(prefix=f"render-{stack}-", dir=out.parent))
    try:
        seen: set[Path] = set()
        for resource in program.resources:
            inputs = _plain(resource.wire_inputs)
            where = staging / "resources" / re.sub(r"[:/]+", "-", resource.type) / f"{resource.name}.json"
            if where in seen:  # the same name under two parents
                where = where.with_name(f"{resource.name}-{sum(p.parent == where.parent for p in seen)}.json")
            seen.add(where)
            options = {k: v for k, v in (("protect", resource.protect), ("provider", resource.provider),
                                         ("dependsOn", resource.depends_on)) if v}
            _write(where, json.dumps({"inputs": inputs, **options}, indent=2, sort_keys=True) + "\n")
            for path, content in _documents(resource.type, resource.name, inputs):
                _write(staging / "files" / path, content)
        outputs = {name: SECRET if name in program.secret_outputs else _plain(value)
                   for name, value in program.outputs.items()}
        _write(staging / "outputs.json", json.dumps(outputs, indent=2, sort_keys=True) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _plain(value: Any) -> Any:
    """An input as JSON: secrets hidden, assets by their text or their path in the repository."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return SECRET
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        return {"path": _repo_path(str(value.path))}
    if isinstance(value, str):
        return _repo_path(value)
    return value


def _repo_path(text: str) -> str:
    """Paths into this checkout (the viewer build's cache, the sample studies) named from its root, so that two
    checkouts render alike."""
    return text.replace(f"{REPO}/", "<repo>/")


def _documents(token: str, name: str, inputs: dict) -> list[tuple[PurePosixPath, str]]:
    """The files a resource's inputs carry: cloud-init and what it installs, function code, published objects."""
    found = []
    for text in _strings(inputs):
        cloud_init = _cloud_init(text)
        if cloud_init is None:
            continue
        found.append((PurePosixPath(name, "cloud-init.yaml"), cloud_init))
        for entry in (yaml.safe_load(cloud_init) or {}).get("write_files", []):
            found.append((PurePosixPath(name, entry["path"].lstrip("/")), entry.get("content", "")))
    if token == "aws:cloudfront/function:Function":
        found.append((PurePosixPath(f"{name}.js"), inputs["code"]))
    source = inputs.get("source")
    text = inputs.get("content") or (source.get("text") if isinstance(source, dict) else None)
    key = inputs.get("key") or inputs.get("blobName")
    if isinstance(text, str) and key:
        found.append((PurePosixPath(name, key.lstrip("/")), text))
    return found


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _cloud_init(text: str) -> str | None:
    """`text` as cloud-init, whether plain (EC2 user data) or base64 (a launch template's, Azure's custom data)."""
    if text.startswith("#cloud-config"):
        return text
    if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9+/]+=*", text):
        return None
    try:
        decoded = base64.b64decode(text, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded.startswith("#cloud-config") else None


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
