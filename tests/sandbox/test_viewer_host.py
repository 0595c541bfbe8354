"""The viewer as the sandbox's nginx serves it: the headers, the SPA fallback and the types a CDN gives."""

from __future__ import annotations

import requests

from components.render.headers import VIEWER_HEADERS


def test_deep_link_gets_index_html_with_isolation_headers(sandbox):
    r = requests.get(f"{sandbox.urls.viewer}viewer?StudyInstanceUIDs=1.2.840.113619.2.1.1")
    assert r.status_code == 200
    assert 'src="/app-config.js"' in r.text
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert r.headers["Cache-Control"] == "no-cache"
    for name, value in VIEWER_HEADERS.items():
        assert r.headers[name] == value, name


def test_route_ending_in_a_uid_is_still_a_route(sandbox):
    r = requests.get(f"{sandbox.urls.viewer}viewer/1.2.840.10008")
    assert r.status_code == 200 and "window.PUBLIC_URL" in r.text


def test_wasm_is_served_as_application_wasm(sandbox):
    r = requests.get(f"{sandbox.urls.viewer}0ddf166f7a343eda.wasm")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/wasm"
    assert r.content[:4] == b"\0asm"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_missing_file_is_a_404_not_html(sandbox):
    r = requests.get(f"{sandbox.urls.viewer}app.bundle.0000000000000000.js")
    assert r.status_code == 404
    assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_app_config_names_the_proxy(sandbox):
    r = requests.get(f"{sandbox.urls.viewer}app-config.js")
    assert r.headers["Content-Type"].startswith("text/javascript")
    assert f'"qidoRoot": "{sandbox.urls.dicomweb}"' in r.text
    assert sandbox.urls.dicomweb == f"https://127.0.0.1:{sandbox.proxy_port}/dicom-web"
