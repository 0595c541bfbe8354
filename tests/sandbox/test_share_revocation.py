"""A share link's revocation reaches every proxy: the sandbox with login and two proxies behind the viewer's site, as a
highly available stack runs them, with one share store (moto's S3, as the stack's bucket) for both. Real Keycloak,
nginx, Orthanc and Chromium.

The link is revoked through the site (one proxy answers), then each proxy is asked directly, once a second, until it
refuses the link; both must within 60 seconds. The figures go to artifacts/share-revocation.json."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH
from components.render.dicomweb_proxy.share_store import SHARE_CHECK_SECONDS
from sandbox import Sandbox
from sandbox.sample_data import PHANTOM_PATIENT
from settings.model import ScaleSettings
from tests.conftest import local_sandbox, require_servers, require_tool
from tests.sandbox.test_user_account_control import create_share, logged_in, revoke_share

PROXIES = 2
LIMIT_SECONDS = 60


@pytest.fixture(scope="module")
def two_proxies() -> Iterator[Sandbox]:
    require_servers()
    require_tool("mvn", "maven")
    require_tool("/usr/lib/postgresql/15/bin/postgres", "postgresql")
    with local_sandbox("local-uac", topology="same-origin",
                       scale=ScaleSettings(min_instances=PROXIES, max_instances=PROXIES)) as running:
        yield running


def read_at(sandbox: Sandbox, port: int, token: str, path: str) -> int:
    """A read from one proxy instance itself, as the site's balancer sends it (the viewer's Host)."""
    return requests.get(f"http://127.0.0.1:{port}{DICOMWEB_PATH}/{path}", timeout=30, headers={
        "Host": sandbox.urls.viewer.split("/")[2], "Accept": "application/dicom+json",
        "Authorization": f"Bearer {token}"}).status_code


def test_a_revocation_reaches_both_proxies_within_60_seconds(two_proxies, browser, artifacts):
    sandbox = two_proxies
    [proxy] = sandbox.plan.proxies
    assert len(proxy.ports) == PROXIES
    realm, share = sandbox.settings.auth, sandbox.settings.share
    person = sandbox.keycloak.create_user("sharer", roles=(realm.required_role, share.sharer_role))
    context, page, tokens = logged_in(browser, sandbox, person)
    context.close()
    sharer = tokens[-1]
    studies = requests.get(f"{sandbox.urls.dicomweb}/studies", headers={"Authorization": f"Bearer {sharer}"}).json()
    [study] = [s["0020000D"]["Value"][0] for s in studies
               if s.get("00100010", {}).get("Value", [{}])[0].get("Alphabetic") == PHANTOM_PATIENT]
    link = create_share(sandbox, sharer, {"study": study, "minutes": 60}).json()
    path = f"studies/{study}/metadata"
    # Each proxy has read with the link just now: its verdict and the store's answer are both in its caches.
    assert [read_at(sandbox, port, link["token"], path) for port in proxy.ports] == [200] * PROXIES

    assert revoke_share(sandbox, sharer, link["id"]).status_code == 204
    revoked_at, refused_after = time.monotonic(), {}
    while len(refused_after) < PROXIES and time.monotonic() - revoked_at < LIMIT_SECONDS + 5:
        for port in proxy.ports:
            if port not in refused_after and read_at(sandbox, port, link["token"], path) == 401:
                refused_after[port] = round(time.monotonic() - revoked_at, 1)
        time.sleep(1)
    (artifacts / "share-revocation.json").write_text(json.dumps({
        "proxies": PROXIES, "limit_seconds": LIMIT_SECONDS, "cache_seconds": SHARE_CHECK_SECONDS,
        "refused_after_seconds": sorted(refused_after.values())}, indent=2))
    assert len(refused_after) == PROXIES, f"refused by {len(refused_after)} of {PROXIES} proxies only"
    assert max(refused_after.values()) <= LIMIT_SECONDS, refused_after
