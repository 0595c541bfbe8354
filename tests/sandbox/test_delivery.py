"""The sandbox sends what the cloud would: for the viewer's bundle, the bytes a browser gets from the sandbox are the
bytes of the object that CloudFront's function, or Front Door's rules, pick from what each program stores, with the
same Content-Encoding. Local measurements (python -m bench) then predict the cloud's."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from components.render.dicomweb_proxy.interface import INSTANCE_CACHE_CONTROL
from components.render.viewer_build import COMPRESSIBLE_TYPES, content_type, fetch_build, precompressed
from tests.components.render.test_proxy_nginx import FRAME_ACCEPT, INSTANCE_PATH
from tests.conftest import require_tool
from tests.frontdoor_rules import evaluate
from tests.test_routing import front_door_site, program_for, run_viewer_request

CHROMIUM = "gzip, deflate, br, zstd"
# CloudFront compresses objects of 1,000 bytes to 10 MB itself, Front Door 1 KB to 8 MB; nginx has no upper limit.
FRONT_DOOR_LIMIT = 8 * 1024 * 1024


@pytest.fixture(scope="module")
def bundle() -> str:
    [name] = [p.name for p in fetch_build().glob("app.bundle.*.js")]
    return name


@pytest.mark.parametrize("accept", [CHROMIUM, "gzip, deflate", "identity"])
def test_the_bundle_is_sent_as_each_cloud_sends_it(sandbox, bundle, accept):
    node = require_tool("node", "nodejs")
    r = requests.get(f"{sandbox.viewer_origin}/{bundle}", headers={"Accept-Encoding": accept}, stream=True)
    local = (r.raw.read(decode_content=False), r.headers.get("Content-Encoding"))

    aws = program_for("prod", "/")
    code = aws.one("aws:cloudfront/function:Function").inputs["code"]
    [uri] = run_viewer_request(node, code, [(f"/{bundle}", accept)])
    objects = {o.inputs["key"]: o.inputs for o in aws.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    stored = objects[uri.lstrip("/")]
    assert local == (Path(stored["source"].path).read_bytes(), stored.get("contentEncoding")), "CloudFront"

    rules, origin_path, blobs = front_door_site("/")
    result = evaluate(rules, f"/{bundle}", origin_path, headers={"Accept-Encoding": accept})
    blob = blobs[result.path.removeprefix(origin_path + "/")]
    assert local == (Path(blob["source"].path).read_bytes(), result.headers.get("Content-Encoding")), "Front Door"
    if accept == CHROMIUM:
        assert local[1] == "br" and len(local[0]) < len((fetch_build() / bundle).read_bytes()) / 5


def test_nothing_the_cdn_compresses_itself_is_over_its_limit():
    """What has no variant and a compressible type, the CDN compresses on the fly; the sandbox's nginx, which has no
    upper limit, sends the same only while every such file is under the lower of the CDNs' limits."""
    dist = fetch_build()
    for path in (p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        if content_type(key).split(";")[0] in COMPRESSIBLE_TYPES and not precompressed(key):
            assert path.stat().st_size < FRONT_DOOR_LIMIT, key


def test_the_proxy_behind_the_viewers_host_keeps_its_own_headers(sandbox_same_origin_subpath):
    """As on the CDN, whose behaviour for /dicom-web/* has no response headers policy: a frame fetched through the
    viewer's host carries the proxy's Cache-Control alone, so the browser keeps it."""
    running = sandbox_same_origin_subpath
    r = requests.get(f"{running.urls.dicomweb}{INSTANCE_PATH}/frames/1", headers={"Accept": FRAME_ACCEPT})
    assert r.status_code == 200
    assert r.raw.headers.getlist("Cache-Control") == [INSTANCE_CACHE_CONTROL]
