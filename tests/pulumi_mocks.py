"""The tests' view of the offline program run (program/offline.py): what it registers, by type and name."""

from __future__ import annotations

import pulumi

from program.offline import SYNCED, Program, Resource, run_program

__all__ = ["SYNCED", "Program", "Resource", "run_program", "synced_objects"]


def synced_objects(program: Program, name_prefix: str = "") -> dict[str, dict]:
    """The objects the program's synced file sets (components/sync) publish, by key, as a per-file S3 object's
    inputs would show them (key, contentType, cacheControl, contentEncoding, source), with the set's own inputs
    (bucket, or account_url and container)."""
    found = {}
    for synced in program.of_type(SYNCED):
        if not synced.name.startswith(name_prefix):
            continue
        where = {k: v for k, v in synced.inputs.items() if k in ("bucket", "account_url", "container")}
        for i in synced.inputs["items"]:
            found[i["key"]] = {**where, "key": i["key"], "contentType": i["content_type"],
                               "cacheControl": i["cache_control"], "source": pulumi.FileAsset(i["path"]),
                               **({"contentEncoding": i["content_encoding"]} if i.get("content_encoding") else {})}
    return found
