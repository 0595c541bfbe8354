"""python -m bench.large_sets: a dicom-json study set of 10,000 files, published as one synced resource
(components/sync) against one resource per file as before.

    program   the dicom-json program under Pulumi's mocks, in a process of its own: wall time and peak memory,
              this tree beside an earlier commit's (default: the last one with one resource per file)
    sync      the same files put into moto's S3 server and Azurite: the first run, then a run with one file changed

Progress goes to stderr, the table to stdout, then `{"large_sets": {...}}` on one line. It makes the files, the
earlier tree (a git worktree) and the servers in a temporary directory, and removes them all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from components import sync
from components.render.viewer_build import stored_files
from settings import PROJECT

BEFORE = "f5e4ccf"  # the last commit that published one resource per file
# Runs in the tree under test: the dicom-json example stack with the generated folder, under mocks.
PROGRAM = """
import json, resource, sys, time
from pathlib import Path
from settings import read_stack_file
from tests.pulumi_mocks import run_program
config = read_stack_file(Path("stacks/Pulumi.prod-dicom-json.yaml"))
config["ohif:studies"] = json.dumps({"folder": sys.argv[1], "topology": "same-origin"})
start = time.perf_counter()
program = run_program(config, stack="large-sets")
print(json.dumps({"seconds": time.perf_counter() - start, "resources": len(program.resources),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_files(folder: Path, count: int) -> None:
    """`count` MR slices of one study (pydicom's MR_small, each with its own SOP Instance UID), 100 per series."""
    folder.mkdir(parents=True)
    template = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    study = generate_uid()
    series = [generate_uid() for _ in range((count + 99) // 100)]
    for n in range(count):
        template.StudyInstanceUID, template.SeriesInstanceUID = study, series[n // 100]
        template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        template.InstanceNumber = n % 100 + 1
        template.save_as(folder / f"{n:05}.dcm")


def run_program(tree: Path, folder: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(folder)], cwd=tree, env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def earlier_tree(work: Path, commit: str) -> Path:
    tree = work / f"tree-{commit}"
    subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(tree), commit], check=True,
                   capture_output=True)
    # The same pinned build and its compressed variants: no second download.
    (tree / ".cache").symlink_to(PROJECT / ".cache")
    return tree


def _items(folder: Path) -> list[sync.SyncItem]:
    """The folder's files as the dicom-json recipe publishes them: each named by its content."""
    return sync.items_of(stored_files((f"{hashlib.sha256(p.read_bytes()).hexdigest()}.dcm", p)
                                      for p in sorted(folder.iterdir())), "/studies/")


def time_sync(store: sync.Store, folder: Path) -> dict:
    items = _items(folder)
    start = time.perf_counter()
    first = sync.apply(store, {}, items)
    first_seconds = time.perf_counter() - start
    changed = sorted(folder.iterdir())[0]
    data = pydicom.dcmread(changed)
    data.InstanceNumber = 1000
    data.save_as(changed)
    again = _items(folder)
    start = time.perf_counter()
    second = sync.apply(store, {i.key: i.fingerprint for i in items}, again)
    return {"files": len(items), "first_seconds": first_seconds, "first_puts": len(first.put),
            "changed_seconds": time.perf_counter() - start, "changed_puts": len(second.put),
            "changed_deletes": len(second.delete)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.large_sets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with (default: %(default)s)")
    args = parser.parse_args()
    from tests.storage_servers import start_azurite, start_moto  # the servers the tests start

    work = Path(tempfile.mkdtemp(prefix="ohif-large-sets-"))
    result: dict = {"files": args.files, "before": args.before}
    tree = None
    try:
        log(f"-- {args.files} DICOM files")
        make_files(work / "studies", args.files)
        log("-- the program under mocks, this tree")
        result["program"] = run_program(PROJECT, work / "studies")
        tree = earlier_tree(work, args.before)
        log(f"-- the program under mocks, {args.before}")
        result["program_before"] = run_program(tree, work / "studies")
        for name, start in (("s3", start_moto), ("blob", start_azurite)):
            server = start()
            try:
                os.environ.update(server.env)
                log(f"-- sync into {name}")
                store = _store(name)
                result[f"sync_{name}"] = time_sync(store, _copy(work / "studies", work / f"sync-{name}"))
            finally:
                server.stop()
    finally:
        if tree is not None:
            subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(format_table(result))
    print(json.dumps({"large_sets": result}))


def _store(name: str) -> sync.Store:
    if name == "s3":
        import boto3

        from components.aws.object_sync import S3Store
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="viewer", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        return S3Store("viewer", "eu-west-1")
    from azure.storage.blob import BlobServiceClient

    from components.azure.blob_sync import CONNECTION_STRING, BlobStore
    BlobServiceClient.from_connection_string(os.environ[CONNECTION_STRING]).create_container("viewer")
    return BlobStore("unused", "viewer")


def _copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def format_table(r: dict) -> str:
    now, before = r["program"], r["program_before"]
    rows = [("program under mocks, seconds", f"{now['seconds']:.1f}", f"{before['seconds']:.1f}"),
            ("program under mocks, peak MB", f"{now['peak_mb']:.0f}", f"{before['peak_mb']:.0f}"),
            ("resources registered", str(now["resources"]), str(before["resources"]))]
    lines = [f"{r['files']} files | one synced resource | one resource per file ({r['before']})", "---|---|---",
             *(" | ".join(row) for row in rows)]
    for name in ("s3", "blob"):
        s = r[f"sync_{name}"]
        lines.append(f"sync into {name}: first run {s['first_seconds']:.1f} s ({s['first_puts']} puts), one file "
                     f"changed {s['changed_seconds']:.2f} s ({s['changed_puts']} put, {s['changed_deletes']} delete)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
