"""One table of routing cases, checked against every target's rendered routing.

    CloudFront   the SPA function's code as the AWS program registers it, run in Node.js, then the bucket's keys
    Front Door   the rule set as the Azure program registers it, evaluated (tests/frontdoor_rules.py), then the blobs
    sandbox      real requests to the sandbox's nginx, which runs the same function through njs

Deep links get index.html, real files themselves, and a missing file stays a 404 (S3 answers 404, not 403,
because the distribution may list the bucket; a blob that does not exist is a 404), at the root and under a
sub-path. A file with precompressed variants is sent as the variant the request's Accept-Encoding prefers, with its
Content-Encoding; any other request gets the file as it is.
"""

from __future__ import annotations

import functools
import gzip
import json
import subprocess

import brotli
import pytest
import requests

from components.render.viewer_build import ENCODINGS, ENTRY_FILES, content_type, precompressed
from settings import read_stack_file
from tests.conftest import STACKS, require_tool
from tests.frontdoor_rules import evaluate
from tests.frontdoor_rules import route as front_door_route
from tests.pulumi_mocks import Program, run_program

INDEX, SELF, MISSING = "index.html", "itself", "404"
# (path under the base path, what is served)
CASES = [
    ("", INDEX),
    ("viewer", INDEX),
    ("viewer?StudyInstanceUIDs=1.2.840.113619.2.5", INDEX),
    ("viewer/1.2.840.10008.5.1.4", INDEX),  # a UID is a route, not a file with extension "4"
    ("viewer/dicomjson", INDEX),
    ("callback", INDEX),
    ("index.html", SELF),
    ("app-config.js", SELF),
    ("100.bundle.cb02411ce321d4e4.js", SELF),
    ("0ddf166f7a343eda.wasm", SELF),
    ("1602.css", SELF),
    ("assets/android-chrome-144x144.png", SELF),
    ("app.bundle.0000000000000000.js", MISSING),
    ("missing.wasm", MISSING),
    ("ort/missing.wasm", MISSING),
    ("assets/missing.png", MISSING),
]
BASE_PATHS = ["/", "/ohif/"]
# (Accept-Encoding, the variant it gets of a file that has variants: None for the file as it is)
ACCEPT_ENCODINGS = [
    (None, None),
    ("gzip, deflate, br, zstd", "br"),  # Chromium
    ("gzip, deflate", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("BR", "br"),
    ("gzip;q=0.0, identity", None),
    ("identity", None),
]


def cases(base: str) -> list[tuple[str, str, str]]:
    """The table under `base`, plus the sub-path without its slash: (path, outcome, the object served for it)."""
    table = [(base + tail, outcome) for tail, outcome in CASES] + ([(base.rstrip("/"), INDEX)] if base != "/" else [])
    return [(path, outcome, (base + INDEX if outcome == INDEX else path.split("?")[0]).lstrip("/"))
            for path, outcome in table]


def encoded_cases(base: str) -> list[tuple[str, str | None, str, str | None]]:
    """Every existing file's case with every Accept-Encoding: (path, Accept-Encoding, the object served, its
    Content-Encoding)."""
    return [(path, accept, (ENCODINGS[encoding] if encoding else "") + key, encoding)
            for path, outcome, key in cases(base) if outcome != MISSING
            for accept, variant in ACCEPT_ENCODINGS
            for encoding in [variant if precompressed(key) else None]]


def test_the_table_has_files_with_and_without_variants():
    keys = {key for base in BASE_PATHS for _, outcome, key in cases(base) if outcome == SELF}
    assert {precompressed(k) for k in keys} == {True, False}


@functools.cache  # one run per stack and base for every test that reads it (here and tests/sandbox/test_delivery.py)
def program_for(cloud_stack: str, base: str) -> Program:
    config = read_stack_file(STACKS / f"Pulumi.{cloud_stack}.yaml")
    config["ohif:viewer"] = json.dumps({**json.loads(config["ohif:viewer"]), "base_path": base})
    return run_program(config, stack=f"routing-{cloud_stack}-{base.strip('/') or 'root'}")


@pytest.mark.parametrize("base", BASE_PATHS)
def test_cloudfront_function_and_bucket(base):
    node = require_tool("node", "nodejs")
    program = program_for("prod", base)
    code = program.one("aws:cloudfront/function:Function").inputs["code"]
    keys = {o.inputs["key"] for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    paths = [path for path, _, _ in cases(base)]
    # CloudFront hands the function the path without the query string (event.request.querystring holds it).
    served = run_viewer_request(node, code, [(p.split("?")[0], None) for p in paths])
    for (path, outcome, expected), uri in zip(cases(base), served, strict=True):
        key = uri.lstrip("/")
        assert key == expected, path
        assert (key in keys) == (outcome != MISSING), f"{path}: S3 has {key}: {key in keys}"


@pytest.mark.parametrize("base", BASE_PATHS)
def test_cloudfront_function_picks_the_stored_variant(base):
    node = require_tool("node", "nodejs")
    program = program_for("prod", base)
    code = program.one("aws:cloudfront/function:Function").inputs["code"]
    objects = {o.inputs["key"]: o.inputs for o in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    table = encoded_cases(base)
    served = run_viewer_request(node, code, [(path.split("?")[0], accept) for path, accept, _, _ in table])
    for (path, accept, expected, encoding), uri in zip(table, served, strict=True):
        key = uri.lstrip("/")
        assert key == expected, (path, accept)
        assert objects[key].get("contentEncoding") == encoding, (path, accept)
        identity = objects[expected.removeprefix(ENCODINGS[encoding]) if encoding else expected]
        assert objects[key]["contentType"] == identity["contentType"], (path, accept)


def run_viewer_request(node: str, code: str, requests_: list[tuple[str, str | None]]) -> list[str]:
    """The URI the viewer-request function `code` makes of each (uri, Accept-Encoding), called as CloudFront calls it:
    the path without the query string (event.request.querystring holds it), headers by lower-case name."""
    events = [{"request": {"method": "GET", "uri": uri, "querystring": {},
                           "headers": {"accept-encoding": {"value": accept}} if accept is not None else {}}}
              for uri, accept in requests_]
    script = code + f"""
process.stdout.write(JSON.stringify({json.dumps(events)}.map(event => handler(event).uri)));
"""
    return json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)


def front_door_site(base: str) -> tuple[list[dict], str, dict[str, dict]]:
    """What the Azure program registers for the viewer under `base`: its rules, its route's origin path, its blobs."""
    program = program_for("prod-azure", base)
    rules = [r.inputs for r in program.of_type("azure-native:cdn:Rule")]
    [viewer_route] = [r.inputs for r in program.of_type("azure-native:cdn:Route")
                      if r.inputs["patternsToMatch"] == ["/*"]]
    blobs = {b.inputs["blobName"]: b.inputs for b in program.of_type("azure-native:storage:Blob")}
    return rules, viewer_route["originPath"], blobs


@pytest.mark.parametrize("base", BASE_PATHS)
def test_front_door_rule_set_and_blobs(base):
    rules, origin_path, blobs = front_door_site(base)
    for path, outcome, expected in cases(base):
        at_origin, _ = front_door_route(rules, path, origin_path)
        assert at_origin.startswith(origin_path + "/"), path
        blob = at_origin[len(origin_path) + 1:]
        assert blob == expected, path
        assert (blob in blobs) == (outcome != MISSING), f"{path}: the container has {blob}: {blob in blobs}"


@pytest.mark.parametrize("base", BASE_PATHS)
def test_front_door_rules_pick_the_stored_variant(base):
    rules, origin_path, blobs = front_door_site(base)
    for path, accept, expected, encoding in encoded_cases(base):
        result = evaluate(rules, path, origin_path, headers={"Accept-Encoding": accept} if accept else {})
        blob = result.path[len(origin_path) + 1:]
        assert blob == expected and blob in blobs, (path, accept)
        assert result.headers.get("Content-Encoding") == encoding, (path, accept)
        # A variant is not compressed again; whatever else the edge may compress.
        assert (result.edge_cache or {}).get("isCompressionEnabled") == ("Disabled" if encoding else
                                                                          (result.edge_cache or {}).get(
                                                                              "isCompressionEnabled")), (path, accept)


@pytest.fixture(params=BASE_PATHS)
def running(request, sandbox, sandbox_same_origin_subpath):
    return sandbox if request.param == "/" else sandbox_same_origin_subpath


def test_sandbox_nginx(running):
    base = running.settings.viewer.base_path
    origin = running.viewer_origin
    index = requests.get(f"{origin}{base}index.html")
    assert index.status_code == 200 and "window.PUBLIC_URL" in index.text
    for path, outcome, expected in cases(base):
        r = requests.get(origin + path, allow_redirects=False)
        if outcome == MISSING:
            assert r.status_code == 404, path
        elif outcome == INDEX:
            assert (r.status_code, r.content) == (200, index.content), path
        else:
            on_disk = running.run_dir / "site" / "viewer" / expected
            assert (r.status_code, r.content) == (200, on_disk.read_bytes()), path


def test_sandbox_sends_the_stored_variant(running):
    base = running.settings.viewer.base_path
    root = running.run_dir / "site" / "viewer"
    for path, accept, expected, encoding in encoded_cases(base):
        # As sent: requests would decode gzip, and add an Accept-Encoding of its own.
        r = requests.get(running.viewer_origin + path, headers={"Accept-Encoding": accept or "identity"}, stream=True)
        raw = r.raw.read(decode_content=False)
        assert r.status_code == 200, (path, accept)
        if expected.rsplit("/", 1)[-1] in ENTRY_FILES:  # no variants: the CDN compresses it itself
            assert decoded(raw, r.headers.get("Content-Encoding")) == (root / expected).read_bytes(), (path, accept)
            continue
        assert r.headers.get("Content-Encoding") == encoding, (path, accept)
        assert raw == (root / expected).read_bytes(), (path, accept)
        assert decoded(raw, encoding) == (root / expected.removeprefix(ENCODINGS.get(encoding, ""))).read_bytes()
        assert r.headers["Content-Type"].split(";")[0] == content_type(expected).split(";")[0], (path, accept)


def decoded(raw: bytes, encoding: str | None) -> bytes:
    return {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](raw)
