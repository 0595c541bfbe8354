"""The CloudFront Function's code, run in Node.js the way CloudFront calls it (event in, request out)."""

from __future__ import annotations

import json
import subprocess

import pytest

from components.render.headers import cors_preflight_function, spa_fallback_function
from tests.conftest import require_tool

CASES = [
    ("/", "/", "/index.html"),
    ("/", "/viewer", "/index.html"),
    ("/", "/viewer/dicomjson", "/index.html"),
    ("/", "/callback", "/index.html"),
    ("/", "/viewer/1.2.840.10008.5", "/index.html"),
    ("/", "/app.bundle.0f6159c501addfe9.js", "/app.bundle.0f6159c501addfe9.js"),
    ("/", "/ort/ort-wasm-simd.wasm", "/ort/ort-wasm-simd.wasm"),
    ("/", "/assets/favicon.ico", "/assets/favicon.ico"),
    ("/ohif/", "/ohif/", "/ohif/index.html"),
    ("/ohif/", "/ohif", "/ohif/index.html"),
    ("/ohif/", "/ohif/viewer", "/ohif/index.html"),
    ("/ohif/", "/ohif/app-config.js", "/ohif/app-config.js"),
    ("/ohif/", "/dicom-web/studies", "/dicom-web/studies"),
]


@pytest.mark.parametrize("base_path,uri,expected", CASES)
def test_cloudfront_function(base_path, uri, expected):
    node = require_tool("node", "nodejs")
    script = spa_fallback_function(base_path) + f"""
const event = {{version: '1.0', context: {{eventType: 'viewer-request'}},
               request: {{method: 'GET', uri: {json.dumps(uri)}, querystring: {{}}, headers: {{}}, cookies: {{}}}}}};
process.stdout.write(handler(event).uri);
"""
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True).stdout
    assert out == expected


def test_both_functions_fit_cloudfront_functions_size_limit():
    """CloudFront Functions take at most 10 KB of code (the CloudFront quotas page)."""
    origins = [f"https://host-{i}.example-hospital.org" for i in range(20)]
    for code in (spa_fallback_function("/a/long/base/path/"), cors_preflight_function(origins)):
        assert len(code.encode()) <= 10 * 1024
