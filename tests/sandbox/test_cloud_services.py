"""Cloud DICOM services as the archive, end to end on this machine: the real proxy config in nginx, signing (SigV4) or
carrying a managed identity's token, in front of stand-ins for HealthImaging and Azure's DICOM service and for the
metadata endpoints that hand out rotating credentials (sandbox/cloud_standins.py); the real viewer in Chromium."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from components.render.archive_service import ArchiveCredentialFiles
from components.render.dicomweb_proxy.archive import ARCHIVE_CREDENTIALS_MODULE, ArchiveAccess
from components.render.dicomweb_proxy.conf import ProxyConf
from components.render.dicomweb_proxy.interface import HEALTH_PATH
from components.render.dicomweb_proxy.render import render_proxy_conf
from components.render.dicomweb_proxy.study_scope import BAD_QUERY
from sandbox import AUDIT_LOG, Sandbox, worker_dir
from sandbox.cloud_standins import service_root
from sandbox.nginx import nginx_service
from sandbox.processes import free_port, free_ports
from sandbox.sample_data import PHANTOM_PATIENT
from sandbox.servers import standin_url
from sandbox.viewport import LIT_PIXELS_JS
from tests.conftest import local_sandbox, require_servers, require_tool
from tests.sandbox.archive_named import assert_only_the_proxy_is_named
from tests.sandbox.edge import INSIDE, fetch_from
from tests.sandbox.test_user_account_control import (
    BAD_QUERIES,
    FORGERIES,
    add_realm_key,
    forgeries,
    get_studies,
    log_in,
)

LIFETIME = 20
"""Seconds each stand-in credential lasts: the first expires within the test."""


def seen(sandbox: Sandbox) -> list[dict]:
    """Every request the stand-in service received."""
    if not sandbox.standin_log.exists():
        return []
    return [json.loads(line) for line in sandbox.standin_log.read_text().splitlines()]


def draw_phantom(page, sandbox: Sandbox, artifacts, shot: str) -> list[str]:
    """List the studies, open the phantom and wait until its first slice is drawn; the DICOMweb URLs the viewer
    asked for."""
    asked: list[str] = []
    page.on("request", lambda r: r.url.startswith(sandbox.urls.dicomweb) and asked.append(r.url))
    patient = page.get_by_text(PHANTOM_PATIENT.replace("^", ", "), exact=True)
    patient.wait_for(timeout=60_000)
    patient.click()
    page.get_by_role("button", name="Basic Viewer").click()
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    page.screenshot(path=str(artifacts / f"{shot}.png"))
    return asked


def search_until_rotated(sandbox: Sandbox, headers: dict[str, str]) -> list[int]:
    """Searches (never cached by the proxy, so each reaches the service) until the first credential has expired and
    a second has been used; their statuses."""
    started, statuses = time.time(), []
    while time.time() - started < LIFETIME + 5 or len({e["credential"] for e in seen(sandbox)}) < 2:
        statuses.append(requests.get(f"{sandbox.urls.dicomweb}/studies?limit={5 + len(statuses)}",
                                     headers=headers).status_code)
        assert time.time() - started < 3 * LIFETIME, "the credential never rotated"
        time.sleep(1)
    return statuses


@pytest.fixture(scope="module")
def healthimaging() -> Iterator[Sandbox]:
    require_servers()
    with local_sandbox("local-healthimaging", credential_lifetime=LIFETIME) as running:
        yield running


def test_healthimaging_the_viewer_draws_through_signed_requests_across_a_rotation(healthimaging, page, artifacts):
    sandbox = healthimaging
    page.goto(sandbox.urls.viewer)
    asked = draw_phantom(page, sandbox, artifacts, "healthimaging-viewer")
    assert any("/frames/" in url for url in asked)
    requests_seen = seen(sandbox)
    assert any("/frames/" in e["path"] for e in requests_seen), "the frames came from the stand-in"
    # Every request the service saw was signed with an issued credential, and none was refused.
    assert all(e["credential"] and e["status"] in (200, 204) for e in requests_seen), requests_seen
    assert all(e["path"].startswith("/datastore/0123456789abcdef0123456789abcdef/") for e in requests_seen)

    statuses = search_until_rotated(sandbox, {"Accept": "application/dicom+json"})
    assert set(statuses) == {200}, statuses
    after = seen(sandbox)
    assert len({e["credential"] for e in after}) >= 2
    assert all(e["credential"] and e["status"] in (200, 204) for e in after)


def test_an_empty_search_answered_204_shows_an_empty_study_list(healthimaging, page):
    """Both services answer a search that matches nothing with 204 and no body, which broke older OHIF study lists
    (microsoft/dicom-ohif#16); 3.13 shows an empty list."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(healthimaging.urls.viewer + "?patientName=NoSuchPatient")
    page.get_by_text("No studies available").wait_for(timeout=60_000)
    assert errors == []
    assert any(e["status"] == 204 and "NoSuchPatient" in e["query"] for e in seen(healthimaging))


def test_healthimaging_refuses_what_the_proxy_did_not_sign(healthimaging):
    """The stand-in is a real check: unsigned, badly signed or stale requests straight to it get 403."""
    service = standin_url(healthimaging.plan.proxies[0])
    good = seen(healthimaging)[-1]
    asked = [requests.get(service + "studies"),
             requests.get(service + "studies", headers={"Authorization": good["authorization"],
                                                        "X-Amz-Date": "20261206T000000Z"}),
             requests.get(service + "studies?limit=6", headers={"Authorization": good["authorization"]})]
    assert [r.status_code for r in asked] == [403, 403, 403]


def test_healthimaging_the_proxy_refuses_a_bad_request_before_the_service(healthimaging):
    before = len(seen(healthimaging))
    answers = [requests.get(f"{healthimaging.urls.dicomweb}/studies?limit=-1"),
               requests.get(f"{healthimaging.urls.dicomweb}/instances/../tools/reset"),
               requests.delete(f"{healthimaging.urls.dicomweb}/studies")]
    assert [a.status_code for a in answers] == [400, 404, 405]
    assert all(a.headers["Content-Type"].startswith("application/json") for a in answers)
    assert len(seen(healthimaging)) == before


MARK = "bad-query-check"
"""Names the bad queries' searches: the viewer's own searches (a patient name among them) reach the service too."""


def test_healthimaging_a_query_that_does_not_decode_gets_400_and_never_reaches_the_service(healthimaging):
    """Such a query would have been forwarded unsigned (the signer could not decode it) and refused as unsigned."""
    answers = [fetch_from(INSIDE, f"{healthimaging.urls.dicomweb}/studies?PatientID={MARK}&PatientName={bad}",
                          headers={"Origin": healthimaging.viewer_origin}) for bad in BAD_QUERIES]
    # This proxy shares the viewer's origin: its answers need no CORS.
    assert [(a.status, json.loads(a.body)) for a in answers] == [(400, {"error": BAD_QUERY})] * len(BAD_QUERIES)
    assert not [e for e in seen(healthimaging) if MARK in e["query"]]


def test_healthimaging_no_answer_names_the_service(healthimaging):
    """The stand-in names its own root, as the service does; the proxy puts its public root in its place."""
    service = urlsplit(standin_url(healthimaging.plan.proxies[0])).netloc
    assert_only_the_proxy_is_named(healthimaging.urls.dicomweb, service, {"Origin": healthimaging.viewer_origin})


@pytest.mark.parametrize("metadata", ["the stand-in", "nowhere"])
def test_the_vms_health_check_signs_its_search_too(healthimaging, metadata):
    """A cloud VM's balancer asks /healthz on the health port: 200 only while the service answers the proxy's own
    signed search; without a credential (no metadata endpoint), 503."""
    proxy = healthimaging.plan.proxies[0]
    port, health = free_ports(2)
    metadata_url = f"http://127.0.0.1:{proxy.standin.metadata_port if metadata == 'the stand-in' else free_port()}"
    # In the sandbox's run directory, which nginx's workers (nobody) may enter.
    run_dir = healthimaging.run_dir / f"health-check-{metadata.replace(' ', '-')}"
    run_dir.mkdir()
    credentials_file = str(worker_dir(run_dir / "credential") / "credential.json")
    conf = render_proxy_conf(ProxyConf(
        listen=f"127.0.0.1:{port}", upstream_url=standin_url(proxy), allowed_origins=[],
        cache_dir=str(run_dir / "cache"), health_listen=f"127.0.0.1:{health}",
        upstream_ca_file=str(healthimaging.tls.ca_file),
        archive=ArchiveAccess(proxy.spec.archive_service.auth, ArchiveCredentialFiles(
            module_path=str(ARCHIVE_CREDENTIALS_MODULE), metadata_url=metadata_url,
            credentials_file=credentials_file))))
    (run_dir / "proxy.conf").write_text(conf)
    service = nginx_service(run_dir, [run_dir / "proxy.conf"], ports=[port, health],
                            ready_url=f"http://127.0.0.1:{health}/")
    before = len(seen(healthimaging))
    try:
        service.start()
        answer = requests.get(f"http://127.0.0.1:{health}{HEALTH_PATH}")
    finally:
        service.stop()
    if metadata == "the stand-in":
        assert answer.status_code == 200
        [search] = seen(healthimaging)[before:]
        assert (search["path"].endswith("/studies"), search["query"], search["status"]) == (True, "limit=1", 200)
        assert search["credential"]
    else:
        assert answer.status_code == 503
        assert len(seen(healthimaging)) == before, "nothing unsigned reached the service"


# With login: the DICOM service's own stack, and HealthImaging's with the user-account-control recipe.
LOGIN_STACKS = {"dicom-service": ("local-dicom-service", {}),
                "healthimaging": ("local-healthimaging", {"recipe": "user-account-control",
                                                          "auth": {"realm": "ohif",
                                                                   "keycloak_url": "https://127.0.0.1:8080"}})}


@pytest.fixture(scope="module", params=LOGIN_STACKS)
def with_login(request) -> Iterator[Sandbox]:
    require_servers()
    require_tool("mvn", "maven")
    require_tool("/usr/lib/postgresql/15/bin/postgres", "postgresql")
    stack, changes = LOGIN_STACKS[request.param]
    with local_sandbox(stack, credential_lifetime=LIFETIME, config=changes) as running:
        yield running


@pytest.fixture(scope="module")
def logged_in(with_login, browser, artifacts) -> str:
    """A person logs in and the phantom draws; the user's token."""
    sandbox = with_login
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    tokens: list[str] = []
    page.on("request", lambda r: r.url.startswith(sandbox.urls.dicomweb) and r.method != "OPTIONS"
            and tokens.append(r.headers.get("authorization", "")))
    log_in(page, sandbox, sandbox.urls.username, sandbox.urls.password)
    draw_phantom(page, sandbox, artifacts, f"{sandbox.settings.archive.kind}-login-viewer")
    context.close()
    assert tokens and all(t.startswith("Bearer ey") for t in tokens)
    return tokens[-1].removeprefix("Bearer ")


def test_with_login_the_service_sees_the_proxys_credential_only(with_login, logged_in):
    requests_seen = seen(with_login)
    service = with_login.settings.archive.service
    assert any("/frames/" in e["path"] for e in requests_seen)
    assert all(e["path"].startswith(service_root(service.kind, service.datastore_id)) for e in requests_seen)
    # Only credentials the stand-in metadata endpoint issued; the user's token never went past the proxy.
    assert all(e["credential"] and e["status"] in (200, 204) for e in requests_seen), requests_seen
    assert not any(logged_in in e["authorization"] or "Bearer ey" in e["authorization"] for e in requests_seen)


def test_with_login_the_proxy_logs_who_read_what(with_login, logged_in):
    """The service's own audit log sees the VM's identity alone: the proxy's names the reader of each request."""
    [audit] = with_login.run_dir.glob(f"proxy-*/{AUDIT_LOG}")
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    claims = json.loads(base64.urlsafe_b64decode(logged_in.split(".")[1] + "=="))
    frames = [line for line in lines if "/frames/" in line["path"] and line["status"] == 200]
    assert frames and all(line["reader"] == f"{claims['sub']} {with_login.urls.username}" for line in frames)
    assert all(logged_in not in json.dumps(line) for line in lines), "no token in the log"


def test_with_login_forged_tokens_get_401_and_never_reach_the_service(with_login, logged_in):
    key = add_realm_key(with_login, "forged-token-suite")
    forged = forgeries(with_login, realm_of(with_login), key)
    # Each forgery asks a search of its own, so a late search of the viewer's (logged when it completes) is not
    # counted as a forgery that got through.
    statuses = {name: get_studies(with_login, forged[name], f"?PatientID=forged-{i}").status_code
                for i, name in enumerate(FORGERIES)}
    assert set(statuses.values()) == {401}, statuses
    assert not [e for e in seen(with_login) if "forged-" in e["query"]]


def test_with_login_a_query_that_does_not_decode_gets_400_and_never_reaches_the_service(with_login, logged_in):
    answers = [fetch_from(INSIDE, f"{with_login.urls.dicomweb}/studies?PatientID={MARK}&PatientName={bad}",
                          headers={"Origin": with_login.viewer_origin, "Authorization": f"Bearer {logged_in}"})
               for bad in BAD_QUERIES]
    assert [a.status for a in answers] == [400] * len(BAD_QUERIES)
    assert not [e for e in seen(with_login) if MARK in e["query"]]


def test_with_login_no_answer_names_the_service(with_login, logged_in):
    service = urlsplit(standin_url(with_login.plan.proxies[0])).netloc
    assert_only_the_proxy_is_named(with_login.urls.dicomweb, service, {"Origin": with_login.viewer_origin,
                                                                       "Authorization": f"Bearer {logged_in}"})


def test_with_login_requests_succeed_after_the_credential_rotates(with_login, logged_in):
    statuses = search_until_rotated(with_login, {"Accept": "application/dicom+json", "Origin": with_login.viewer_origin,
                                                 "Authorization": f"Bearer {logged_in}"})
    assert set(statuses) == {200}, statuses


def realm_of(sandbox: Sandbox):
    from components.render.realm import realm_model
    return realm_model(sandbox.settings.auth, sandbox.settings.viewer, sandbox.viewer_origin)
