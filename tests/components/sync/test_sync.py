"""A study set published as one resource, against real storage servers here (moto's S3 server, Azurite): the first
run puts every file, a run with one file changed puts that file and its manifest and removes the old one, a destroy
removes what the resource published and leaves the viewer's objects, and every object carries its headers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import components.aws.object_sync as object_sync
import components.azure.blob_sync as blob_sync
from components import sync
from components.render.viewer_build import stored_files
from settings import PROJECT
from tests.storage_servers import StorageServer, start_azurite, start_moto

PREFIX = "/studies/"
FILES = 40


class Backend:
    """One cloud's store, its provider, and a direct look at what the server holds."""

    def __init__(self, cloud: str, server: StorageServer) -> None:
        self.cloud, self.server = cloud, server
        if cloud == "s3":
            import boto3
            self.client = boto3.client("s3", region_name="eu-west-1", endpoint_url=server.env["AWS_ENDPOINT_URL_S3"],
                                       aws_access_key_id="testing", aws_secret_access_key="testing")
            self.client.create_bucket(Bucket="viewer", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            self.provider, self.props = object_sync._Provider(), {"bucket": "viewer", "region": "eu-west-1"}
            self.store_class = object_sync.S3Store
        else:
            from azure.storage.blob import BlobServiceClient
            service = BlobServiceClient.from_connection_string(server.env["AZURE_STORAGE_CONNECTION_STRING"])
            self.container = service.create_container("viewer")
            self.provider, self.store_class = blob_sync._Provider(), blob_sync.BlobStore
            self.props = {"account_url": "https://unused.blob.core.windows.net/", "container": "viewer"}

    def write(self, key: str, body: bytes) -> None:
        if self.cloud == "s3":
            self.client.put_object(Bucket="viewer", Key=key, Body=body)
        else:
            self.container.upload_blob(key, body)

    def objects(self) -> dict[str, tuple[str, str, str, str | None]]:
        """key: (sha256 of the bytes, Content-Type, Cache-Control, Content-Encoding) of everything in the bucket."""
        found = {}
        if self.cloud == "s3":
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket="viewer"):
                for o in page.get("Contents", []):
                    got = self.client.get_object(Bucket="viewer", Key=o["Key"])
                    found[o["Key"]] = (hashlib.sha256(got["Body"].read()).hexdigest(), got.get("ContentType"),
                                       got.get("CacheControl"), got.get("ContentEncoding"))
        else:
            for blob in self.container.list_blobs():
                data = self.container.download_blob(blob.name)
                s = data.properties.content_settings
                found[blob.name] = (hashlib.sha256(data.readall()).hexdigest(), s.content_type, s.cache_control,
                                    s.content_encoding)
        return found


@pytest.fixture(params=["s3", "blob"], scope="module")
def server(request) -> Iterator[tuple[str, StorageServer]]:
    started = start_moto() if request.param == "s3" else start_azurite()
    yield request.param, started
    started.stop()


@pytest.fixture
def backend(server, monkeypatch) -> Backend:
    cloud, started = server
    for key, value in started.env.items():
        monkeypatch.setenv(key, value)
    b = Backend(cloud, started)
    yield b
    if cloud == "s3":
        for key in b.objects():
            b.client.delete_object(Bucket="viewer", Key=key)
        b.client.delete_bucket(Bucket="viewer")
    else:
        b.container.delete_container()


@pytest.fixture
def counted(backend, monkeypatch) -> dict[str, list]:
    """Every put and delete the provider's store sends to the server."""
    calls: dict[str, list] = {"put": [], "delete": []}
    put, delete = backend.store_class.put, backend.store_class.delete
    monkeypatch.setattr(backend.store_class, "put", lambda self, item: (calls["put"].append(item.key), put(self, item)))
    monkeypatch.setattr(backend.store_class, "delete",
                        lambda self, keys: (calls["delete"].extend(keys), delete(self, keys)))
    return calls


def study_set(folder: Path, changed: int | None = None) -> list[sync.SyncItem]:
    """FILES content-named files and a manifest naming them all, as the dicom-json recipe publishes them."""
    folder.mkdir(exist_ok=True)
    entries = []
    for n in range(FILES):
        body = f"instance {n}{' (replaced)' if n == changed else ''}".encode() * 50
        path = folder / f"{n}-{changed}.dcm"
        path.write_bytes(body)
        entries.append((f"{hashlib.sha256(body).hexdigest()}.dcm", path))
    manifest = folder / f"studies-{changed}.json"
    manifest.write_text(json.dumps({"files": sorted(key for key, _ in entries)}) * 20)
    entries.append(("studies.json", manifest))
    return sync.items_of(stored_files(entries), PREFIX)


def test_first_run_puts_everything_with_its_headers(backend, counted, tmp_path):
    items = study_set(tmp_path / "a")
    props = {**backend.props, "prefix": PREFIX, "items": sync.as_inputs(items)}
    backend.provider.create(props)
    assert sorted(counted["put"]) == sorted(i.key for i in items) and counted["delete"] == []
    held = backend.objects()
    assert {k: v for k, v in held.items()} == {
        i.key: (i.sha256, i.content_type, i.cache_control, i.content_encoding) for i in items}
    assert {v[1] for v in held.values()} == {"application/dicom", "application/json"}


def test_a_changed_file_sends_that_file_and_its_manifest_and_removes_the_old(backend, counted, tmp_path):
    before = study_set(tmp_path / "a")
    backend.provider.create({**backend.props, "prefix": PREFIX, "items": sync.as_inputs(before)})
    after = study_set(tmp_path / "b", changed=7)
    olds = {**backend.props, "prefix": PREFIX, "items": sync.as_inputs(before)}
    news = {**olds, "items": sync.as_inputs(after)}
    assert backend.provider.diff("id", olds, news).changes
    counted["put"].clear()
    backend.provider.update("id", olds, news)
    new_key = next(i.key for i in after if i.key not in {b.key for b in before})
    old_key = next(b.key for b in before if b.key not in {i.key for i in after})
    manifests = sorted(i.key for i in after if "studies.json" in i.key)
    assert sorted(counted["put"]) == sorted([new_key, *manifests]), "one file and its manifest (and its variants)"
    assert counted["delete"] == [old_key]
    assert set(backend.objects()) == {i.key for i in after}
    assert not backend.provider.diff("id", news, news).changes, "the same set again changes nothing"


def test_destroy_removes_what_it_published_and_leaves_the_viewer(backend, counted, tmp_path):
    viewer = {"index.html": b"<!doctype html>", "app-config.js": b"window.config = {};",
              "studies/README.txt": b"not ours: put here by hand"}
    for key, body in viewer.items():
        backend.write(key, body)
    items = study_set(tmp_path / "a")
    props = {**backend.props, "prefix": PREFIX, "items": sync.as_inputs(items)}
    backend.provider.create(props)
    backend.provider.delete("id", props)
    assert {k: v[0] for k, v in backend.objects().items()} == {
        k: hashlib.sha256(v).hexdigest() for k, v in viewer.items()}


@pytest.mark.parametrize("provider", [object_sync._Provider, blob_sync._Provider], ids=["s3", "blob"])
def test_the_provider_survives_pulumis_serialization(provider, tmp_path):
    """Pulumi stores a dynamic provider in the state as dill bytes and runs it in a process of its own (from the
    project's directory); there it must load and plan, with nothing of this process's imports."""
    from pulumi.dynamic.dynamic import serialize_provider

    items = sync.as_inputs(study_set(tmp_path / "a"))
    olds = {"prefix": PREFIX, "items": items, "bucket": "b", "account_url": "u", "container": "c"}
    news = {**olds, "items": items[1:]}
    script = ("import base64, dill, json, sys\n"
              "provider = dill.loads(base64.b64decode(sys.argv[1]))\n"
              "olds, news = json.loads(sys.argv[2]), json.loads(sys.argv[3])\n"
              "print(provider.diff('id', olds, olds).changes, provider.diff('id', olds, news).changes)\n")
    done = subprocess.run([sys.executable, "-c", script, serialize_provider(provider()), json.dumps(olds),
                           json.dumps(news)], cwd=PROJECT, capture_output=True, text=True, env={
                               k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"]
