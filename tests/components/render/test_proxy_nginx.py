"""The rendered DICOMweb proxy, run by real nginx in front of real Orthanc (the sandbox's servers). Its structure, and
`nginx -t`, without servers: tests/components/render/dicomweb_proxy/."""

from __future__ import annotations

import gzip
import re
from urllib.parse import urlsplit

import pydicom
import pytest
import requests
from pydicom.data import get_testdata_file

from components.render.cloud_init import nginx_conf_of, render_cloud_init
from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.interface import (
    ERRORS,
    HEALTH_PATH,
    INSTANCE_CACHE_CONTROL,
    MAX_FRAMES,
    MAX_URI,
    RETRY_AFTER_SECONDS,
)
from components.render.dicomweb_proxy.origin import SharedSecretCheck
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.edge import RATE_RETRY_AFTER_SECONDS, render_nginx_edge
from sandbox.nginx import nginx_service
from sandbox.processes import free_port, free_ports
from sandbox.sample_data import PYDICOM_SAMPLES
from tests.conftest import require_servers
from tests.sandbox.archive_named import assert_only_the_proxy_is_named
from tests.sandbox.edge import INSIDE, fetch_from
from tests.sandbox.test_user_account_control import BAD_QUERIES

ELSEWHERE = "https://evil.example.com"
CT = pydicom.dcmread(get_testdata_file(PYDICOM_SAMPLES[0]), stop_before_pixels=True)
INSTANCE_PATH = (f"/studies/{CT.StudyInstanceUID}/series/{CT.SeriesInstanceUID}"
                 f"/instances/{CT.SOPInstanceUID}")


@pytest.fixture(scope="module")
def proxy(sandbox) -> str:
    return sandbox.urls.dicomweb


@pytest.fixture(scope="module")
def viewer_origin(sandbox) -> str:
    return sandbox.viewer_origin


def test_preflight_from_an_allowed_origin(proxy, viewer_origin):
    r = requests.options(f"{proxy}/studies", headers={
        "Origin": viewer_origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept, authorization"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == viewer_origin
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"accept", "authorization"} <= allowed
    assert r.headers["Vary"].startswith("Origin")


def test_preflight_from_a_refused_origin(proxy):
    r = requests.options(f"{proxy}/studies", headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Methods" not in r.headers
    r = requests.get(f"{proxy}/studies", headers={"Origin": ELSEWHERE})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_qido_through_the_proxy(proxy, viewer_origin):
    r = requests.get(f"{proxy}/studies", headers={"Origin": viewer_origin, "Accept": "application/dicom+json"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == viewer_origin
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    uids = {s["0020000D"]["Value"][0] for s in r.json()}
    assert CT.StudyInstanceUID in uids


def test_wado_metadata_and_frame_through_the_proxy(proxy, viewer_origin):
    r = requests.get(f"{proxy}{INSTANCE_PATH}/metadata", headers={"Origin": viewer_origin})
    assert r.status_code == 200
    assert r.json()[0]["00080018"]["Value"] == [CT.SOPInstanceUID]
    r = requests.get(f"{proxy}{INSTANCE_PATH}/frames/1", headers={
        "Origin": viewer_origin, "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("multipart/related")
    assert len(r.content) >= CT.Rows * CT.Columns * 2  # the 16-bit frame, uncompressed


def test_error_responses_carry_cors(proxy, viewer_origin):
    r = requests.get(f"{proxy}/studies/1.2.3.4/metadata", headers={"Origin": viewer_origin})
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == viewer_origin


@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST", "PATCH"])
def test_writes_are_refused(proxy, method, sandbox):
    r = requests.request(method, f"{proxy}{INSTANCE_PATH}", data=b"x")
    assert r.status_code == 405
    still_there = requests.get(f"{sandbox.urls.archive}/instances")
    assert len(still_there.json()) >= 66, "the archive lost instances"


@pytest.mark.parametrize("path", ["/instances", "/tools/reset", "/system", "/patients", "/app/explorer.html",
                                  "/dicom-web/servers", "/dicom-web/../tools/reset", "/dicom-web/%2e%2e/tools/reset",
                                  "/dicom-web/studies/../../instances", "/dicom-web/studies/1.2/series/x;y"])
def test_the_archive_api_is_not_exposed(proxy, path):
    base = proxy[: -len("/dicom-web")]
    for method in ("GET", "POST"):
        r = requests.request(method, base + path)
        assert r.status_code in (400, 404, 405), f"{method} {path} -> {r.status_code}"
        assert "OrthancRest" not in r.text and not re.search(r'"(ID|Path)"', r.text)


def test_origin_secret_is_enforced(sandbox, tmp_path):
    """The cloud VM's config (from cloud-init) refuses requests that did not come through the CDN."""
    cloud_init = render_cloud_init(render_proxy_conf(ProxyConf(
        listen="80", upstream_url=sandbox.settings.archive.upstream_url, allowed_origins=[],
        cache_dir=str(tmp_path / "cache"), origin_check=SharedSecretCheck("abcDEF123"))))
    port = free_port()
    (tmp_path / "proxy.conf").write_text(nginx_conf_of(cloud_init).replace("listen 80;", f"listen 127.0.0.1:{port};"))
    service = nginx_service(tmp_path, [tmp_path / "proxy.conf"], ports=[port],
                            ready_url=f"http://127.0.0.1:{port}/").start()
    try:
        url = f"http://127.0.0.1:{port}/dicom-web/studies"
        assert requests.get(url).status_code == 403
        assert requests.get(url, headers={"X-Origin-Verify": "wrong"}).status_code == 403
        assert requests.get(url, headers={"X-Origin-Verify": "abcDEF123"}).status_code == 200
    finally:
        service.stop()


# The proxy's edges: what a client gets when it asks for too much, in a wrong way, or while the archive is down.

def assert_our_json_error(r: requests.Response, status: int, origin: str) -> dict:
    """The proxy's own short JSON error, readable by the viewer (CORS), never the archive's body."""
    assert r.status_code == status, (r.status_code, r.text[:200])
    assert r.headers["Access-Control-Allow-Origin"] == origin, r.headers
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert list(body) == ["error"] and len(r.content) < 200, body
    assert not re.search(r"Orthanc|HttpError|OrthancError|Details", r.text), r.text
    return body


def test_head_answers_as_get_without_a_body(proxy, viewer_origin):
    for path in ("/studies", f"{INSTANCE_PATH}/metadata"):
        get = requests.get(f"{proxy}{path}", headers={"Origin": viewer_origin})
        head = requests.head(f"{proxy}{path}", headers={"Origin": viewer_origin})
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["Content-Type"] == get.headers["Content-Type"], path
        assert head.headers["Access-Control-Allow-Origin"] == viewer_origin


def test_a_frame_list_is_capped_with_a_clear_400(proxy, viewer_origin):
    accept = {"Origin": viewer_origin,
              "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'}
    at_cap = requests.get(f"{proxy}{INSTANCE_PATH}/frames/{','.join(['1'] * MAX_FRAMES)}", headers=accept)
    assert at_cap.status_code == 200
    over = requests.get(f"{proxy}{INSTANCE_PATH}/frames/{','.join(['1'] * (MAX_FRAMES + 1))}", headers=accept)
    assert assert_our_json_error(over, 400, viewer_origin) == {"error": f"at most {MAX_FRAMES} frames per request"}
    huge = requests.get(f"{proxy}{INSTANCE_PATH}/frames/{','.join(['1'] * 3500)}", headers=accept)
    assert huge.status_code in (400, 414) and len(huge.content) < 200, "a few KB of URL must not fetch 116 MB"


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "offset=-5"])
def test_bad_paging_is_a_400_not_the_archives_500(proxy, viewer_origin, query):
    assert_our_json_error(requests.get(f"{proxy}/studies?{query}", headers={"Origin": viewer_origin}), 400,
                          viewer_origin)


@pytest.mark.parametrize("bad", BAD_QUERIES)
def test_a_query_that_does_not_decode_gets_400_from_the_proxy(proxy, viewer_origin, bad):
    r = fetch_from(INSIDE, f"{proxy}/studies?PatientName={bad}", headers={"Origin": viewer_origin})
    assert (r.status, r.headers["Access-Control-Allow-Origin"]) == (400, viewer_origin)
    assert r.headers["Content-Type"] == "application/json"


def test_no_answer_names_the_archive(sandbox, proxy, viewer_origin):
    """Orthanc builds its Retrieve URLs and BulkDataURIs from the Host the proxy sends: the proxy names itself."""
    archive = urlsplit(sandbox.settings.archive.upstream_url).netloc
    assert_only_the_proxy_is_named(proxy, archive, {"Origin": viewer_origin})


def test_the_archives_error_bodies_do_not_pass_through(proxy, viewer_origin):
    # Orthanc answers an unknown study with its own JSON (its internals); the client gets ours.
    body = assert_our_json_error(requests.get(f"{proxy}/studies/1.2.3.4/metadata", headers={"Origin": viewer_origin}),
                                 404, viewer_origin)
    assert body == {"error": ERRORS[404]}


@pytest.mark.parametrize("case", ["414", "404", "405", "400-frames"])
def test_every_error_the_viewer_can_get_carries_cors(proxy, viewer_origin, case):
    request = {
        "414": ("GET", f"{proxy}/studies?PatientName={'A' * (MAX_URI + 100)}"),
        "404": ("GET", f"{proxy}/nothing-here"),
        "405": ("DELETE", f"{proxy}/studies"),
        "400-frames": ("GET", f"{proxy}{INSTANCE_PATH}/frames/{','.join(['1'] * (MAX_FRAMES + 1))}"),
    }[case]
    r = requests.request(*request, headers={"Origin": viewer_origin})
    assert_our_json_error(r, int(case[:3]), viewer_origin)


def test_archive_down_is_a_503_with_retry_after_and_cors(tmp_path):
    require_servers()
    port, nowhere = free_port(), free_port()
    viewer = "https://viewer.example.org"
    (tmp_path / "proxy.conf").write_text(render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=f"http://127.0.0.1:{nowhere}/dicom-web/", allowed_origins=[viewer],
        cache_dir=str(tmp_path / "cache"))))
    service = nginx_service(tmp_path, [tmp_path / "proxy.conf"], ports=[port],
                            ready_url=f"http://127.0.0.1:{port}/").start()
    try:
        r = requests.get(f"http://127.0.0.1:{port}/dicom-web/studies", headers={"Origin": viewer})
        assert assert_our_json_error(r, 503, viewer) == {"error": ERRORS[503]}
        assert r.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    finally:
        service.stop()


def test_the_origin_check_refuses_with_json_and_cors(sandbox, tmp_path):
    port = free_port()
    viewer = "https://viewer.example.org"
    (tmp_path / "proxy.conf").write_text(render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=sandbox.settings.archive.upstream_url, allowed_origins=[viewer],
        cache_dir=str(tmp_path / "cache"), origin_check=SharedSecretCheck("abcDEF123"))))
    service = nginx_service(tmp_path, [tmp_path / "proxy.conf"], ports=[port],
                            ready_url=f"http://127.0.0.1:{port}/").start()
    try:
        r = requests.get(f"http://127.0.0.1:{port}/dicom-web/studies", headers={"Origin": viewer})
        assert assert_our_json_error(r, 403, viewer) == {"error": "forbidden"}
    finally:
        service.stop()


# What CORS refuses, the proxy refuses (issue 15): a browser would hold the data back, a script would not.

def test_an_origin_the_proxy_does_not_serve_gets_403_and_no_data(proxy, viewer_origin):
    allowed = requests.get(f"{proxy}/studies", headers={"Origin": viewer_origin})
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == viewer_origin
    assert CT.StudyInstanceUID in allowed.text
    refused = requests.get(f"{proxy}/studies", headers={"Origin": ELSEWHERE})
    assert refused.status_code == 403 and refused.json() == {"error": "origin not allowed"}
    assert CT.StudyInstanceUID not in refused.text and "Access-Control-Allow-Origin" not in refused.headers
    for path in (f"{INSTANCE_PATH}/metadata", f"{INSTANCE_PATH}/frames/1"):
        assert requests.get(f"{proxy}{path}", headers={"Origin": ELSEWHERE}).status_code == 403, path
    # curl, or the viewer's own same-origin reads, send no Origin: served as before.
    plain = requests.get(f"{proxy}/studies")
    assert plain.status_code == 200 and CT.StudyInstanceUID in plain.text


def test_a_burst_over_the_rate_limit_gets_429_with_cors_and_retry_after(sandbox, tmp_path):
    port, viewer, limit = free_port(), "https://viewer.example.org", 100
    (tmp_path / "proxy.conf").write_text(render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=sandbox.settings.archive.upstream_url, allowed_origins=[viewer],
        cache_dir=str(tmp_path / "cache"), edge=render_nginx_edge(("127.0.0.0/30",), limit))))
    service = nginx_service(tmp_path, [tmp_path / "proxy.conf"], ports=[port],
                            ready_url=f"http://127.0.0.1:{port}/").start()
    try:
        with requests.Session() as session:
            answers = [session.get(f"http://127.0.0.1:{port}/dicom-web/studies", headers={"Origin": viewer})
                       for _ in range(limit + 30)]
        statuses = [a.status_code for a in answers]
        assert statuses[:limit] == [200] * limit, "a whole window's worth passes at once"
        limited = [a for a in answers if a.status_code == 429]
        assert len(limited) >= 25, statuses[limit:]
        for answer in limited:
            assert assert_our_json_error(answer, 429, viewer) == {"error": ERRORS[429]}
            assert answer.headers["Retry-After"] == str(RATE_RETRY_AFTER_SECONDS)
        # Counted per address: another allowed address is served meanwhile.
        assert fetch_from("127.0.0.2", f"http://127.0.0.1:{port}/dicom-web/studies").status == 200
    finally:
        service.stop()


# Caching: searches never stored, metadata kept briefly by the proxy only, an instance's data kept by both.

FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


def cache_keys(sandbox) -> set[str]:
    """The keys of the entries in the sandbox proxy's cache (nginx writes each entry's key into its file)."""
    cache = sandbox.run_dir / "proxy-proxy" / "dicomweb-cache"
    return {re.search(rb"\nKEY: ([^\n]*)\n", f.read_bytes()[:4096])[1].decode()
            for f in cache.rglob("*") if f.is_file()}


@pytest.mark.parametrize("path,accept,cache_control,proxy_keeps", [
    ("/studies", "application/dicom+json", "no-store", False),
    (f"/studies/{CT.StudyInstanceUID}/series", "application/dicom+json", "no-store", False),
    (f"{INSTANCE_PATH.rsplit('/instances', 1)[0]}/metadata", "application/dicom+json", "no-store", True),
    (f"{INSTANCE_PATH}/frames/1", FRAME_ACCEPT, INSTANCE_CACHE_CONTROL, True),
])
def test_each_read_class_is_cached_as_its_data_changes(sandbox, proxy, viewer_origin, path, accept, cache_control,
                                                        proxy_keeps):
    r = requests.get(f"{proxy}{path}", headers={"Origin": viewer_origin, "Accept": accept})
    assert r.status_code == 200 and r.headers["Cache-Control"] == cache_control
    assert "Accept" in r.headers["Vary"]
    # requests takes gzip; JSON, which the proxy rewrites, is asked for uncompressed.
    key = f"{path.lstrip('/')} {accept} {'gzip' if accept == FRAME_ACCEPT else ''}"
    assert (key in cache_keys(sandbox)) == proxy_keeps
    if proxy_keeps:  # the second answer is the cached one, byte for byte
        assert requests.get(f"{proxy}{path}", headers={"Origin": viewer_origin, "Accept": accept}).content == r.content


def test_an_error_is_never_cached(sandbox, proxy, viewer_origin):
    missing = f"{INSTANCE_PATH.rsplit('.', 1)[0]}.999/frames/1"
    for _ in range(2):
        r = requests.get(f"{proxy}{missing}", headers={"Origin": viewer_origin, "Accept": FRAME_ACCEPT})
        assert r.status_code == 404 and r.headers["Cache-Control"] == "no-store"
    assert not any(missing.lstrip("/") in key for key in cache_keys(sandbox))


def test_answers_are_compressed_and_cached_apart_by_encoding(sandbox, proxy, viewer_origin):
    """Orthanc compresses frames for a client that takes gzip; the proxy caches each encoding apart."""
    path = f"{INSTANCE_PATH}/frames/1"
    plain, compressed = (requests.get(f"{proxy}{path}", stream=True, headers={
        "Origin": viewer_origin, "Accept": FRAME_ACCEPT, "Accept-Encoding": encoding}) for encoding in ("identity",
                                                                                                        "gzip, br"))
    raw = compressed.raw.read(decode_content=False)
    assert compressed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    body = plain.raw.read()
    assert len(raw) < len(body) and gzip.decompress(raw).split(b"\r\n\r\n", 1)[1][:4096] == \
        body.split(b"\r\n\r\n", 1)[1][:4096]  # the same frame (each answer has a boundary of its own)
    assert {f"{path.lstrip('/')} {FRAME_ACCEPT} ", f"{path.lstrip('/')} {FRAME_ACCEPT} gzip"} <= cache_keys(sandbox)


@pytest.mark.parametrize("archive_up", [True, False], ids=["archive up", "archive down"])
def test_the_health_check_answers_200_only_while_the_archive_does(sandbox, tmp_path, archive_up):
    """What the cloud's balancer asks each proxy (HEALTH_PATH on its own port, no origin secret): 200 while nginx runs
    and the archive answers, 503 when the archive does not; the DICOMweb port still wants the origin secret."""
    port, health, nowhere = free_ports(3)
    upstream = sandbox.settings.archive.upstream_url if archive_up else f"http://127.0.0.1:{nowhere}/dicom-web/"
    (tmp_path / "proxy.conf").write_text(render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=upstream, allowed_origins=[], cache_dir=str(tmp_path / "cache"),
        origin_check=SharedSecretCheck("abcDEF123"), health_listen=f"127.0.0.1:{health}")))
    service = nginx_service(tmp_path, [tmp_path / "proxy.conf"], ports=[port, health],
                            ready_url=f"http://127.0.0.1:{port}/").start()
    try:
        answer = requests.get(f"http://127.0.0.1:{health}{HEALTH_PATH}")
        assert answer.status_code == (200 if archive_up else 503), answer.text[:200]
        assert requests.get(f"http://127.0.0.1:{health}/dicom-web/studies").status_code == 404, "health only"
        assert requests.get(f"http://127.0.0.1:{port}{HEALTH_PATH}").status_code == 403
    finally:
        service.stop()
