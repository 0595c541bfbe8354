"""One table of routing cases, checked against every target's rendered routing.

    CloudFront   the SPA function's code as the AWS program registers it, run in Node.js, then the bucket's keys
    Front Door   the rule set as the Azure program registers it, evaluated (tests/frontdoor_rules.py), then the blobs
    sandbox      real requests to the sandbox's nginx, which runs the same function through njs

Deep links get index.html, real files themselves, and a missing file stays a 404 (S3 answers 404, not 403,
because the distribution may list the bucket; a blob that does not exist is a 404), at the root and under a
sub-path.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import requests

from settings import read_stack_file
from tests.conftest import STACKS, require_tool
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


def cases(base: str) -> list[tuple[str, str, str]]:
    """The table under `base`, plus the sub-path without its slash: (path, outcome, the object served for it)."""
    table = [(base + tail, outcome) for tail, outcome in CASES] + ([(base.rstrip("/"), INDEX)] if base != "/" else [])
    return [(path, outcome, (base + INDEX if outcome == INDEX else path.split("?")[0]).lstrip("/"))
            for path, outcome in table]


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
    script = code + f"""
const uris = {json.dumps([p.split("?")[0] for p in paths])};
process.stdout.write(JSON.stringify(uris.map(uri => handler({{request: {{uri: uri, querystring: {{}}}}}}).uri)));
"""
    served = json.loads(subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout)
    for (path, outcome, expected), uri in zip(cases(base), served):
        key = uri.lstrip("/")
        assert key == expected, path
        assert (key in keys) == (outcome != MISSING), f"{path}: S3 has {key}: {key in keys}"


@pytest.mark.parametrize("base", BASE_PATHS)
def test_front_door_rule_set_and_blobs(base):
    program = program_for("prod-azure", base)
    rules = [r.inputs for r in program.of_type("azure-native:cdn:Rule")]
    [viewer_route] = [r.inputs for r in program.of_type("azure-native:cdn:Route")
                      if r.inputs["patternsToMatch"] == ["/*"]]
    origin_path = viewer_route["originPath"]
    blobs = {b.inputs["blobName"] for b in program.of_type("azure-native:storage:Blob")}
    for path, outcome, expected in cases(base):
        at_origin, _ = front_door_route(rules, path, origin_path)
        assert at_origin.startswith(origin_path + "/"), path
        blob = at_origin[len(origin_path) + 1:]
        assert blob == expected, path
        assert (blob in blobs) == (outcome != MISSING), f"{path}: the container has {blob}: {blob in blobs}"


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
