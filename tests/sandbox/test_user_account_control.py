"""The user-account-control recipe for real: Keycloak with the rendered realm, login in Chromium, the
DICOMweb proxy's token check against forged tokens and a rotated realm key, and accounts that outlive their
Keycloak (kept in PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pydicom
import pytest
import requests
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydicom.data import get_testdata_file

from components.render.dicomweb_proxy.interface import DICOMWEB_PATH, INSTANCE_CACHE_CONTROL
from components.render.dicomweb_proxy.token_check import TokenCheck
from components.render.edge import REFUSED
from components.render.realm import realm_model, render_realm_import
from components.render.viewer_build import SHARE_LINK_EXPIRED, SHARE_LINK_REVOKED
from sandbox import Sandbox
from sandbox.sample_data import PHANTOM_PATIENT, PYDICOM_SAMPLES
from sandbox.servers import AUDIT_LOG
from sandbox.viewport import LIT_PIXELS_JS
from tests.conftest import REPO, local_sandbox, require_servers, require_tool
from tests.sandbox.edge import INSIDE, OUTSIDE, fetch_from


@pytest.fixture(scope="module")
def uac() -> Iterator[Sandbox]:
    require_servers()
    require_tool("mvn", "maven")
    require_tool("/usr/lib/postgresql/15/bin/postgres", "postgresql")
    with local_sandbox("local-uac") as running:
        yield running


@pytest.fixture(scope="module")
def realm(uac):
    return realm_model(uac.settings.auth, uac.settings.viewer, uac.viewer_origin, uac.settings.share)


def test_realm_imports_and_serves_discovery(uac, realm):
    issuer = f"{uac.keycloak.url}/realms/{realm.name}"
    discovery = requests.get(f"{issuer}/.well-known/openid-configuration").json()
    assert discovery["issuer"] == issuer
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert requests.get(discovery["jwks_uri"]).json()["keys"]


def test_client_and_realm_read_back_equal_the_model(uac, realm):
    wanted = render_realm_import(realm)
    [client] = uac.keycloak.admin("GET", f"/clients?clientId={realm.client_id}")
    for key, value in wanted["clients"][0].items():
        if key == "attributes":
            for attr, attr_value in value.items():
                assert client["attributes"].get(attr) == attr_value, attr
        elif key == "protocolMappers":
            assert [{k: m[k] for k in ("name", "protocolMapper", "config")} for m in client[key]] == \
                [{k: m[k] for k in ("name", "protocolMapper", "config")} for m in value]
        elif isinstance(value, list):
            assert sorted(client[key]) == sorted(value), key
        else:
            assert client[key] == value, key
    settings = uac.keycloak.admin("GET", "")
    for key in ("sslRequired", "bruteForceProtected", "failureFactor", "accessTokenLifespan",
                "ssoSessionIdleTimeout", "ssoSessionMaxLifespan", "registrationAllowed"):
        assert settings[key] == wanted[key], key
    roles = {r["name"] for r in uac.keycloak.admin("GET", "/roles")}
    assert set(realm.roles) <= roles
    profile = {a["name"]: a for a in uac.keycloak.admin("GET", "/users/profile")["attributes"]}
    studies = profile[realm.studies_attribute]
    assert (studies["multivalued"], studies["permissions"]) == (True, {"view": ["admin"], "edit": ["admin"]})


@dataclass
class Login:
    redirected_to: str
    dicomweb_requests: list[tuple[str, str]]
    token: str


def log_in(page, uac, username: str, password: str):
    """Open the viewer, log in at Keycloak, and wait for the study list: the URL Keycloak's login page had, and the
    phantom's row."""
    page.goto(uac.urls.viewer)
    page.wait_for_url(f"{uac.keycloak.url}/realms/**", timeout=60_000)
    login_page = page.url
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")
    patient = page.get_by_text(PHANTOM_PATIENT.replace("^", ", "), exact=True)
    patient.wait_for(timeout=60_000)
    return login_page, patient


def logged_in(browser, uac, person):
    """A fresh browser context where `person` has logged in: it, its page on the study list, and the bearer tokens of
    the page's DICOMweb requests (preflights aside) as they were sent, the list growing as the page asks for more."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    tokens: list[str] = []
    page.on("request", lambda r: r.url.startswith(uac.urls.dicomweb) and r.method != "OPTIONS"
            and tokens.append(r.headers.get("authorization", "").removeprefix("Bearer ")))
    log_in(page, uac, person.username, person.password)
    return context, page, tokens


@pytest.fixture(scope="module")
def login(uac, browser, artifacts) -> Login:
    """A person logs in: the viewer sends them to Keycloak and back, then lists the studies."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen: list[tuple[str, str]] = []
    page.on("request", lambda r: r.url.startswith(uac.urls.dicomweb) and r.method != "OPTIONS"
            and seen.append((r.url, r.headers.get("authorization", ""))))
    redirected_to, patient = log_in(page, uac, uac.urls.username, uac.urls.password)
    page.screenshot(path=str(artifacts / "uac-study-list.png"))
    patient.click()
    page.get_by_role("button", name="Basic Viewer").click()
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)  # frames came through the token check
    page.screenshot(path=str(artifacts / "uac-viewer.png"))
    context.close()
    return Login(redirected_to, seen, seen[0][1].removeprefix("Bearer ") if seen else "")


def test_login_in_chromium_shows_the_studies_with_bearer_tokens(login, uac, realm):
    assert login.redirected_to.startswith(
        f"{uac.keycloak.url}/realms/{realm.name}/protocol/openid-connect/auth?client_id={realm.client_id}")
    assert "code_challenge_method=S256" in login.redirected_to and "response_type=code" in login.redirected_to
    assert login.dicomweb_requests, "the viewer made no DICOMweb request"
    assert any("/frames/" in url for url, _ in login.dicomweb_requests), "no image frame was fetched"
    assert all(auth.startswith("Bearer ey") for _, auth in login.dicomweb_requests), login.dicomweb_requests


# Tokens of our own making: signed with a key the test adds to the realm (trusted, as a rotated-in key
# is), with the wrong key, or with no real signature at all.

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_claims(token: str) -> dict:
    """A JWT's claims, unverified."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def jwt(header: dict, claims: dict, sign) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def rs256(key: rsa.RSAPrivateKey):
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def hs256(secret: bytes):
    def sign(data: bytes) -> bytes:
        mac = hmac.HMAC(secret, hashes.SHA256())
        mac.update(data)
        return mac.finalize()
    return sign


@dataclass
class RealmKey:
    private: rsa.RSAPrivateKey
    kid: str
    public_pem: bytes


def add_realm_key(uac, name: str) -> RealmKey:
    """Add an RSA key to the realm (a key rotation, as an admin or Keycloak's key provider does it)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    realm_id = uac.keycloak.admin("GET", "")["id"]
    uac.keycloak.admin("POST", "/components", {
        "name": name, "providerId": "rsa", "providerType": "org.keycloak.keys.KeyProvider", "parentId": realm_id,
        "config": {"priority": ["10"], "enabled": ["true"], "active": ["true"], "algorithm": ["RS256"],
                   "privateKey": [pem]}})
    n = b64url(private.public_key().public_numbers().n.to_bytes(256, "big"))
    jwks = requests.get(f"{uac.keycloak.url}/realms/{uac.settings.auth.realm}/protocol/openid-connect/certs").json()
    kid = next(k["kid"] for k in jwks["keys"] if k.get("n") == n)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return RealmKey(private, kid, public_pem)


@pytest.fixture(scope="module")
def trusted_key(uac, login) -> RealmKey:
    # After the login, so the proxy has already cached the key set this key is missing from.
    return add_realm_key(uac, "forged-token-suite")


def claims(uac, realm, **changes) -> dict:
    now = int(time.time())
    base = {"iss": f"{uac.keycloak.url}/realms/{realm.name}", "aud": "account", "azp": realm.client_id,
            "sub": "f0e1d2c3", "typ": "Bearer", "iat": now, "nbf": now - 5, "exp": now + 300,
            "realm_access": {"roles": [realm.reader_role]}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def get_studies(uac, token: str | None, query: str = "") -> requests.Response:
    headers = {"Origin": uac.viewer_origin}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{uac.urls.dicomweb}/studies{query}", headers=headers)


def forgeries(uac, realm, key: RealmKey) -> dict[str, str | None]:
    header = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    good = jwt(header, claims(uac, realm), rs256(key.private))
    h, p, s = good.split(".")
    tampered = token_claims(good)
    tampered["realm_access"] = {"roles": [realm.reader_role, "admin"]}
    wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "no token": None,
        "garbage": "not.a.token",
        "alg none": jwt({**header, "alg": "none"}, claims(uac, realm), lambda _: b"unsigned"),
        "HS256 with the public key": jwt({**header, "alg": "HS256"}, claims(uac, realm), hs256(key.public_pem)),
        "wrong key": jwt(header, claims(uac, realm), rs256(wrong_key)),
        "expired": jwt(header, claims(uac, realm, exp=int(time.time()) - 120), rs256(key.private)),
        "not yet valid": jwt(header, claims(uac, realm, nbf=int(time.time()) + 600), rs256(key.private)),
        "wrong issuer": jwt(header, claims(uac, realm, iss="http://127.0.0.1:1/realms/evil"), rs256(key.private)),
        "wrong audience": jwt(header, claims(uac, realm, aud="other-app", azp="other-app"), rs256(key.private)),
        "tampered payload": f"{h}.{b64url(json.dumps(tampered).encode())}.{s}",
        "missing role": jwt(header, claims(uac, realm, realm_access={"roles": ["offline_access"]}),
                            rs256(key.private)),
    }


FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
FORGERIES = ["no token", "garbage", "alg none", "HS256 with the public key", "wrong key", "expired", "not yet valid",
             "wrong issuer", "wrong audience", "tampered payload", "missing role"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_token_gets_401_with_cors(uac, realm, trusted_key, forgery):
    token = forgeries(uac, realm, trusted_key)[forgery]
    r = get_studies(uac, token)
    assert r.status_code == 401, f"{forgery}: {r.status_code}"
    assert r.headers["Access-Control-Allow-Origin"] == uac.viewer_origin, "the viewer must be able to read the 401"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_cached_frame_still_needs_a_valid_token(uac, realm, login, trusted_key, forgery):
    """The proxy caches frames for every reader, behind the token check: a request that fails it gets 401 for a frame
    the cache holds."""
    headers = {"Origin": uac.viewer_origin, "Accept": FRAME_ACCEPT}
    [instance] = requests.get(f"{uac.urls.dicomweb}/instances?limit=1", headers={
        **headers, "Accept": "application/dicom+json", "Authorization": f"Bearer {login.token}"}).json()
    path = "studies/{}/series/{}/instances/{}/frames/1".format(
        *(instance[tag]["Value"][0] for tag in ("0020000D", "0020000E", "00080018")))
    frame = requests.get(f"{uac.urls.dicomweb}/{path}", headers={**headers, "Authorization": f"Bearer {login.token}"})
    assert frame.status_code == 200 and len(frame.content) > 1000
    assert frame.headers["Cache-Control"] == INSTANCE_CACHE_CONTROL, "browsers keep an instance's data, login or not"
    cache = uac.run_dir / "proxy-proxy" / "dicomweb-cache"
    keys = [re.search(rb"\nKEY: ([^\n]*)\n", f.read_bytes()[:4096])[1].decode()
            for f in cache.rglob("*") if f.is_file()]
    assert f"{path} {FRAME_ACCEPT} gzip" in keys, keys  # requests takes gzip
    token = forgeries(uac, realm, trusted_key)[forgery]
    r = requests.get(f"{uac.urls.dicomweb}/{path}",
                     headers={**headers, **({"Authorization": f"Bearer {token}"} if token else {})})
    assert r.status_code == 401, f"{forgery}: {r.status_code}"
    assert r.headers["Cache-Control"] == "no-store" and r.content != frame.content


def test_a_cached_verdict_ends_with_its_token(uac, realm, trusted_key):
    """The proxy caches the check's verdicts, by the token's digest, and never past the moment the check would
    refuse the token."""
    skew = TokenCheck.__dataclass_fields__["skew_seconds"].default
    token = jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid},
                claims(uac, realm, exp=int(time.time()) - skew + 3), rs256(trusted_key.private))
    assert [get_studies(uac, token).status_code for _ in range(2)] == [200, 200]
    verdicts = [f.read_bytes() for f in (uac.run_dir / "proxy-proxy" / "token-verdicts").rglob("*") if f.is_file()]
    digest = hashlib.sha256(f"Bearer {token}".encode()).hexdigest().encode()
    assert any(digest in v for v in verdicts) and not any(token.encode() in v for v in verdicts)
    time.sleep(4.5)
    assert get_studies(uac, token).status_code == 401


def test_valid_tokens_get_200(uac, realm, login, trusted_key):
    assert get_studies(uac, login.token).status_code == 200, "the viewer's own token"
    own = jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid}, claims(uac, realm), rs256(trusted_key.private))
    r = get_studies(uac, own)
    assert r.status_code == 200
    assert any(s["0020000D"]["Value"] for s in r.json())


def test_rotated_key_reaches_the_proxy_without_restart(uac, realm, login):
    """The proxy has cached the key set; a key added now is fetched the first time a token names its kid."""
    assert get_studies(uac, login.token).status_code == 200  # the cache holds the old key set
    rotated = add_realm_key(uac, "rotation")
    token = jwt({"alg": "RS256", "typ": "JWT", "kid": rotated.kid}, claims(uac, realm), rs256(rotated.private))
    assert get_studies(uac, token).status_code == 200
    unknown = jwt({"alg": "RS256", "typ": "JWT", "kid": "no-such-kid"}, claims(uac, realm), rs256(rotated.private))
    assert get_studies(uac, unknown).status_code == 401


def test_preflight_needs_no_token(uac):
    r = requests.options(f"{uac.urls.dicomweb}/studies", headers={
        "Origin": uac.viewer_origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert r.status_code == 204
    assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()


def stow_body(study_uid: str) -> tuple[bytes, str]:
    """A STOW-RS request body: pydicom's CT test file as a new instance of a new study."""
    import io

    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    from sandbox.sample_data import PYDICOM_SAMPLES

    ds = pydicom.dcmread(get_testdata_file(PYDICOM_SAMPLES[0]))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    part = io.BytesIO()
    ds.save_as(part, enforce_file_format=True)
    boundary = "ohif-stow-test"
    body = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + part.getvalue()
            + f"\r\n--{boundary}--\r\n".encode())
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def test_uploads_need_the_uploader_role(uac, realm, trusted_key):
    from pydicom.uid import generate_uid

    study_uid = generate_uid()
    body, content_type = stow_body(study_uid)
    header = {"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid}
    reader = jwt(header, claims(uac, realm), rs256(trusted_key.private))
    uploader = jwt(header, claims(uac, realm, realm_access={"roles": [realm.reader_role, realm.uploader_role]}),
                   rs256(trusted_key.private))

    def store(token: str) -> requests.Response:
        return requests.post(f"{uac.urls.dicomweb}/studies", data=body, headers={
            "Authorization": f"Bearer {token}", "Content-Type": content_type, "Accept": "application/dicom+json",
            "Origin": uac.viewer_origin})

    assert store(reader).status_code == 401, "a reader must not store"
    assert store(uploader).status_code == 200
    found = requests.get(f"{uac.urls.dicomweb}/studies?StudyInstanceUID={study_uid}",
                         headers={"Authorization": f"Bearer {reader}"})
    assert [s["0020000D"]["Value"][0] for s in found.json()] == [study_uid]


def test_the_live_check_passes_against_the_login_stack(uac):
    from livecheck import Stack, run

    results = {r.name: r for r in run(Stack.from_outputs(uac.urls._values))}
    assert [r.line() for r in results.values() if r.outcome == "FAIL"] == []
    assert results["login-pkce"].outcome == results["token-required"].outcome == "PASS"


def test_keycloak_and_every_host_refuse_an_address_outside_the_allow_list(uac, realm):
    """Login and networks combined (stacks/Pulumi.local-uac.yaml): Keycloak's login is behind the edge too; only a
    realm's public keys stay open, which the proxy VMs fetch through their NAT address (components/render/edge.py)."""
    discovery = f"{uac.keycloak.url}/realms/{realm.name}/.well-known/openid-configuration"
    keys = f"{uac.keycloak.url}/realms/{realm.name}/protocol/openid-connect/certs"
    for url in (discovery, f"{uac.keycloak.url}/realms/{realm.name}/account", uac.urls.viewer,
                uac.urls.dicomweb + "/studies"):
        refused = fetch_from(OUTSIDE, url)
        assert refused.status == 403 and json.loads(refused.body) == {"error": REFUSED}, (url, refused.status)
    served = fetch_from(INSIDE, discovery)
    assert served.status == 200 and json.loads(served.body)["issuer"] == f"{uac.keycloak.url}/realms/{realm.name}"
    for source in (OUTSIDE, INSIDE):
        answer = fetch_from(source, keys)
        assert answer.status == 200 and json.loads(answer.body)["keys"], source


def test_accounts_outlive_their_keycloak(uac, browser, artifacts):
    """A user made through the admin API logs in; Keycloak is replaced by a fresh one (a new directory, the same
    PostgreSQL, as a replaced VM on the managed database); the same user logs in again and sees the studies.
    Last in this module: the tests before it ran against the first Keycloak."""
    person = uac.keycloak.create_user("kept-reader")
    for round_ in ("before", "after"):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            log_in(page, uac, person.username, person.password)
            page.screenshot(path=str(artifacts / f"uac-study-list-{round_}-replacing-keycloak.png"))
        finally:
            context.close()
        if round_ == "before":
            first_home = uac.keycloak.run_dir
            uac.replace_keycloak()
            assert uac.keycloak.run_dir != first_home



# Who may read which study: a token whose dicom_studies claim lists study A reads A and nothing else.

def dicomweb(uac, token: str, path: str, accept: str = "application/dicom+json") -> requests.Response:
    return requests.get(f"{uac.urls.dicomweb}/{path}", headers={
        "Origin": uac.viewer_origin, "Accept": accept, "Authorization": f"Bearer {token}"})


@dataclass
class TwoStudies:
    a: str
    """The phantom's study."""
    b: str
    """Another study."""
    b_frame: str
    """A frame of one of B's instances, as a path below the DICOMweb root."""


@pytest.fixture(scope="module")
def two_studies(uac, realm, trusted_key) -> TwoStudies:
    whole = jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid}, claims(uac, realm), rs256(trusted_key.private))
    found = {s["00100010"]["Value"][0]["Alphabetic"]: s["0020000D"]["Value"][0]
             for s in dicomweb(uac, whole, "studies").json() if s.get("00100010", {}).get("Value")}
    a = found.pop(PHANTOM_PATIENT)
    b = sorted(found.values())[0]
    [instance] = dicomweb(uac, whole, f"studies/{b}/instances?limit=1").json()
    frame = "studies/{}/series/{}/instances/{}/frames/1".format(
        *(instance[tag]["Value"][0] for tag in ("0020000D", "0020000E", "00080018")))
    # A full reader reads B's frame first: the proxy's cache now holds it.
    assert dicomweb(uac, whole, frame, FRAME_ACCEPT).status_code == 200
    return TwoStudies(a, b, frame)


def scoped(uac, realm, key: RealmKey, *studies: str) -> str:
    return jwt({"alg": "RS256", "typ": "JWT", "kid": key.kid}, claims(uac, realm, dicom_studies=list(studies)),
               rs256(key.private))


def test_a_scoped_token_reads_its_study(uac, realm, trusted_key, two_studies):
    token = scoped(uac, realm, trusted_key, two_studies.a)
    assert dicomweb(uac, token, f"studies/{two_studies.a}/metadata").status_code == 200
    listed = dicomweb(uac, token, "studies?limit=101&offset=0&fuzzymatching=true")  # the viewer's study list
    assert listed.status_code == 200
    assert [s["0020000D"]["Value"][0] for s in listed.json()] == [two_studies.a]
    named = dicomweb(uac, token, f"studies?StudyInstanceUID={two_studies.a}")
    assert [s["0020000D"]["Value"][0] for s in named.json()] == [two_studies.a]
    assert dicomweb(uac, token, f"studies/{two_studies.a}/series").status_code == 200


def test_a_token_scoped_to_two_studies_lists_both(uac, realm, trusted_key, two_studies):
    """The search the proxy sends on names both (UID list matching), and the archive answers with both."""
    listed = dicomweb(uac, scoped(uac, realm, trusted_key, two_studies.a, two_studies.b), "studies")
    assert sorted(s["0020000D"]["Value"][0] for s in listed.json()) == sorted([two_studies.a, two_studies.b])


OUTSIDE_THE_SCOPE = {
    "B's metadata": lambda s: (f"studies/{s.b}/metadata", "application/dicom+json"),
    "B's frame, in the proxy's cache": lambda s: (s.b_frame, FRAME_ACCEPT),
    "a search naming B": lambda s: (f"studies?StudyInstanceUID={s.b}", "application/dicom+json"),
    "a search naming A and B": lambda s: (f"studies?StudyInstanceUID={s.a},{s.b}", "application/dicom+json"),
    "a search naming B by its tag": lambda s: (f"studies?0020000D={s.b}", "application/dicom+json"),
    "a search of B's series": lambda s: (f"studies/{s.b}/series", "application/dicom+json"),
    "A's series search naming B": lambda s: (f"studies/{s.a}/series?StudyInstanceUID={s.b}",
                                             "application/dicom+json"),
    "every study's series": lambda s: ("series", "application/dicom+json"),
    "every study's instances": lambda s: ("instances", "application/dicom+json"),
}


@pytest.mark.parametrize("request_", OUTSIDE_THE_SCOPE)
def test_a_scoped_token_gets_403_outside_its_studies(uac, realm, trusted_key, two_studies, request_):
    path, accept = OUTSIDE_THE_SCOPE[request_](two_studies)
    r = dicomweb(uac, scoped(uac, realm, trusted_key, two_studies.a), path, accept)
    assert (r.status_code, r.headers.get("Access-Control-Allow-Origin")) == (403, uac.viewer_origin), request_
    assert r.json() == {"error": "outside the studies this token may read"}


def test_a_token_with_an_empty_scope_reads_nothing(uac, realm, trusted_key, two_studies):
    token = scoped(uac, realm, trusted_key)
    assert dicomweb(uac, token, "studies").status_code == 403
    assert dicomweb(uac, token, f"studies/{two_studies.a}/metadata").status_code == 403


def test_a_forged_scope_is_still_refused_by_the_token_check(uac, realm, two_studies):
    """The scope is read before the signature is checked: a token that claims B but is not the realm's gets 401."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt({"alg": "RS256", "typ": "JWT", "kid": "not-a-realm-key"},
                claims(uac, realm, dicom_studies=[two_studies.b]), rs256(other))
    assert dicomweb(uac, token, f"studies/{two_studies.b}/metadata").status_code == 401


BAD_QUERIES = ["%E0%A4%A", "%ZZ", "%", "%C3%28"]


@pytest.mark.parametrize("bad", BAD_QUERIES)
def test_a_query_that_does_not_decode_gets_400_from_the_proxy(uac, login, bad):
    # Sent as written: requests would repair the encoding first.
    r = fetch_from(INSIDE, f"{uac.urls.dicomweb}/studies?PatientName={bad}", headers={
        "Origin": uac.viewer_origin, "Authorization": f"Bearer {login.token}"})
    assert (r.status, r.headers.get("Access-Control-Allow-Origin")) == (400, uac.viewer_origin)
    assert json.loads(r.body) == {"error": "query: not valid percent-encoded UTF-8"}


def test_a_reader_limited_to_one_study_sees_only_it(uac, realm, browser, artifacts, two_studies):
    """A real login: the admin lists study A on the user's account; the realm puts it in the token, the viewer's study
    list shows A alone, and the proxy refuses B."""
    person = uac.keycloak.create_user("scoped-reader", studies=(two_studies.a,))
    user = uac.keycloak.admin("GET", "/users?exact=true&username=scoped-reader")[0]
    assert user["attributes"][realm.studies_attribute] == [two_studies.a], "the realm's profile keeps the attribute"
    context, page, tokens = logged_in(browser, uac, person)
    page.wait_for_timeout(1000)  # the list is drawn whole
    page.screenshot(path=str(artifacts / "uac-scoped-reader-study-list.png"))
    others = [str(pydicom.dcmread(get_testdata_file(name), stop_before_pixels=True).PatientName).replace("^", ", ")
              for name in PYDICOM_SAMPLES]
    shown = [name for name in others if page.get_by_text(name, exact=True).count()]
    context.close()
    assert shown == [], "the study list shows studies outside the reader's"
    token = tokens[-1]
    assert token_claims(token)["dicom_studies"] == [two_studies.a]
    for request_ in OUTSIDE_THE_SCOPE:
        path, accept = OUTSIDE_THE_SCOPE[request_](two_studies)
        assert dicomweb(uac, token, path, accept).status_code == 403, request_
    assert dicomweb(uac, token, f"studies/{two_studies.a}/metadata").status_code == 200



# Share links: a sharer makes a link for study A; it opens A in the viewer with no login, and reads nothing else.

@dataclass
class Share:
    sharer_token: str
    """The sharer's own access token, from their login."""
    id: str
    token: str
    expires: str


def create_share(uac, token: str, body: dict) -> requests.Response:
    return requests.post(f"{uac.urls.dicomweb}/shares", json=body,
                         headers={"Origin": uac.viewer_origin, "Authorization": f"Bearer {token}"})


def share_link(uac, study: str, token: str) -> str:
    return f"{uac.urls.viewer}viewer?StudyInstanceUIDs={study}#token={token}"


@pytest.fixture(scope="module")
def share(uac, realm, browser, two_studies) -> Share:
    """A person with the sharer role logs in, and the viewer's page asks the proxy for a link to A (cross-origin,
    with its preflight, as a share button in the viewer would)."""
    person = uac.keycloak.create_user("sharer", roles=(realm.reader_role, realm.share.sharer_role))
    context, page, tokens = logged_in(browser, uac, person)
    answer = page.evaluate("""async ([url, token, study]) => {
        const r = await fetch(url, {method: 'POST', body: JSON.stringify({study}),
                                    headers: {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json'}});
        return {status: r.status, body: await r.json()};
    }""", [f"{uac.urls.dicomweb}/shares", tokens[-1], two_studies.a])
    context.close()
    assert answer["status"] == 201, answer
    body = answer["body"]
    assert body["study"] == two_studies.a
    return Share(tokens[-1], body["id"], body["token"], body["expires"])


def test_a_share_token_names_one_study_its_sharer_and_a_lifetime(uac, share, two_studies):
    header = json.loads(base64.urlsafe_b64decode(share.token.split(".")[0] + "=="))
    c = token_claims(share.token)
    assert (header["alg"], header["kid"]) == ("HS256", uac.settings.share.signing_keys[-1])
    assert (c["dicom_studies"], c["sharer"], c["jti"]) == ([two_studies.a], "sharer", share.id)
    assert c["exp"] - c["iat"] == uac.settings.share.default_minutes * 60


def test_a_share_link_opens_its_study_with_no_login(uac, share, browser, artifacts, two_studies):
    context = browser.new_context(viewport={"width": 1400, "height": 900})  # no Keycloak session, no cookie
    page = context.new_page()
    requests_seen: list[tuple[str, str]] = []
    page.on("request", lambda r: requests_seen.append((r.url, r.headers.get("authorization", ""))))
    page.goto(share_link(uac, two_studies.a, share.token))
    page.wait_for_function(f"({LIT_PIXELS_JS})() > 500", timeout=60_000)
    page.screenshot(path=str(artifacts / "share-link-viewer.png"))
    context.close()
    assert not [url for url, _ in requests_seen if url.startswith(uac.keycloak.url)], "the link reached Keycloak"
    reads = [(url, auth) for url, auth in requests_seen if url.startswith(uac.urls.dicomweb)]
    assert any("/frames/" in url for url, _ in reads), "no frame was read"
    assert {auth for _, auth in reads} == {f"Bearer {share.token}"}
    assert not [url for url, _ in requests_seen if share.token.split(".")[2] in url], "the token left in a URL"


SHARE_REFUSED = {**OUTSIDE_THE_SCOPE, "a search naming no study": lambda s: ("studies", "application/dicom+json")}


def test_a_share_token_reads_its_study(uac, share, two_studies):
    assert dicomweb(uac, share.token, f"studies/{two_studies.a}/metadata").status_code == 200
    named = dicomweb(uac, share.token, f"studies?StudyInstanceUID={two_studies.a}")
    assert [s["0020000D"]["Value"][0] for s in named.json()] == [two_studies.a]


@pytest.mark.parametrize("request_", SHARE_REFUSED)
def test_a_share_token_gets_403_for_anything_else(uac, share, two_studies, request_):
    path, accept = SHARE_REFUSED[request_](two_studies)
    r = dicomweb(uac, share.token, path, accept)
    assert (r.status_code, r.headers.get("Access-Control-Allow-Origin")) == (403, uac.viewer_origin), request_
    assert r.json() == {"error": "outside the studies this token may read"}


def share_keys(uac) -> dict:
    """The sandbox's share keys, as its secret store holds them."""
    conf = (uac.run_dir / "proxy-proxy" / "share-keys.conf").read_text()
    return json.loads(re.search(r"default '(.*)';", conf)[1])


def sign_share(uac, claims_: dict, kid: str | None = None, key: bytes | None = None, alg: str = "HS256") -> str:
    keys = share_keys(uac)
    kid = keys["signing"] if kid is None else kid
    secret = base64.urlsafe_b64decode(keys["keys"][keys["signing"]] + "==") if key is None else key
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
    return jwt(header, claims_, hs256(secret) if alg == "HS256" else lambda _: b"")


def share_forgeries(uac, share: Share, b: str) -> dict[str, tuple[str, str]]:
    """Each forgery, and the study it asks for."""
    h, p, s = share.token.split(".")
    c = token_claims(share.token)
    a = c["dicom_studies"][0]

    def resigned(**changes) -> str:
        return f"{h}.{b64url(json.dumps({**c, **changes}).encode())}.{s}"

    return {
        "another study in the claims": (resigned(dicom_studies=[b]), b),
        "a later expiry": (resigned(exp=c["exp"] + 86400 * 30), a),
        "another key": (sign_share(uac, c, key=b"another key of 32 bytes, not ours"), a),
        "a key ID the proxy does not have": (sign_share(uac, c, kid="k9"), a),
        "alg none": (sign_share(uac, c, alg="none"), a),
        "HS256 with the realm's public key": (
            jwt({"alg": "HS256", "typ": "JWT", "kid": share_keys(uac)["signing"]}, c, hs256(uac_public_key(uac))), a),
        "no key ID": (sign_share(uac, c, kid=""), a),
        "garbage": ("not.a.token", a),
    }


def uac_public_key(uac) -> bytes:
    """The realm's signing key as a PEM, which anyone can fetch: an HS256 'signature' with it proves nothing."""
    jwks = requests.get(f"{uac.keycloak.url}/realms/{uac.settings.auth.realm}/protocol/openid-connect/certs").json()
    jwk = next(k for k in jwks["keys"] if k["kty"] == "RSA" and k.get("use", "sig") == "sig")
    numbers = rsa.RSAPublicNumbers(int.from_bytes(base64.urlsafe_b64decode(jwk["e"] + "=="), "big"),
                                   int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=="), "big"))
    return numbers.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


SHARE_FORGERIES = ["another study in the claims", "a later expiry", "another key", "a key ID the proxy does not have",
                   "alg none", "HS256 with the realm's public key", "no key ID", "garbage"]


@pytest.mark.parametrize("forgery", SHARE_FORGERIES)
def test_a_tampered_share_token_is_refused(uac, share, two_studies, forgery):
    token, study = share_forgeries(uac, share, two_studies.b)[forgery]
    r = dicomweb(uac, token, f"studies/{study}/metadata")
    assert (r.status_code, r.headers.get("Access-Control-Allow-Origin")) == (401, uac.viewer_origin), forgery


def test_only_a_sharer_creates_a_link(uac, login, share, two_studies):
    """The reader role alone is not enough, nor is a share link's own token."""
    assert create_share(uac, login.token, {"study": two_studies.a}).status_code == 401
    assert create_share(uac, share.token, {"study": two_studies.a}).status_code == 401
    assert create_share(uac, share.sharer_token, {"study": two_studies.b}).status_code == 201


def test_a_scoped_sharer_shares_only_their_studies(uac, realm, trusted_key, two_studies):
    roles = {"roles": [realm.reader_role, realm.share.sharer_role]}
    token = jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid},
                claims(uac, realm, dicom_studies=[two_studies.a], preferred_username="scoped-sharer",
                       realm_access=roles), rs256(trusted_key.private))
    refused = create_share(uac, token, {"study": two_studies.b})
    assert (refused.status_code, refused.json()) == (403, {"error": "outside the studies this token may read"})
    assert create_share(uac, token, {"study": two_studies.a}).status_code == 201


@pytest.mark.parametrize("body, error", [
    ({"study": "1.2.3", "minutes": 10081}, "minutes: a whole number from 5 to 10080"),
    ({"study": "1.2.3", "minutes": 4}, "minutes: a whole number from 5 to 10080"),
    ({"study": "1.2.3", "minutes": "60"}, "minutes: a whole number from 5 to 10080"),
    ({"study": "not a UID"}, "study: a StudyInstanceUID"),
    ([], 'body: a JSON object {"study": StudyInstanceUID, "minutes": lifetime}'),
])
def test_a_bad_share_request_gets_400_with_cors(uac, share, body, error):
    r = create_share(uac, share.sharer_token, body)
    assert (r.status_code, r.headers.get("Access-Control-Allow-Origin")) == (400, uac.viewer_origin)
    assert r.json() == {"error": error}


def test_an_expired_link_says_so_in_the_viewer(uac, share, browser, artifacts, two_studies):
    c = token_claims(share.token)
    expired = sign_share(uac, {**c, "iat": c["iat"] - 7200, "exp": int(time.time()) - 60})
    assert dicomweb(uac, expired, f"studies/{two_studies.a}/metadata").status_code == 401
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(share_link(uac, two_studies.a, expired))
    notice = page.get_by_role("alert").filter(has_text=SHARE_LINK_EXPIRED)
    notice.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "share-link-expired.png"))
    context.close()
    assert not [url for url in seen if url.startswith(uac.keycloak.url)], "an expired link went to the login page"


def sharer_token(uac, realm, trusted_key, sub: str, *extra_roles: str) -> str:
    """A sharer's access token, signed with a key the realm trusts (another person than the `share` fixture's)."""
    roles = {"roles": [realm.reader_role, realm.share.sharer_role, *extra_roles]}
    return jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid},
               claims(uac, realm, sub=sub, preferred_username=sub, realm_access=roles), rs256(trusted_key.private))


def list_shares(uac, token: str) -> requests.Response:
    return requests.get(f"{uac.urls.dicomweb}/shares",
                        headers={"Origin": uac.viewer_origin, "Authorization": f"Bearer {token}"})


def revoke_share(uac, token: str, share_id: str) -> requests.Response:
    return requests.delete(f"{uac.urls.dicomweb}/shares/{share_id}",
                           headers={"Origin": uac.viewer_origin, "Authorization": f"Bearer {token}"})


def test_a_sharer_lists_their_own_links(uac, realm, trusted_key, share, two_studies):
    mine = list_shares(uac, share.sharer_token)
    assert (mine.status_code, mine.headers.get("Access-Control-Allow-Origin")) == (200, uac.viewer_origin)
    [listed] = [s for s in mine.json()["shares"] if s["id"] == share.id]
    assert (listed["study"], listed["expires"], listed["sharer"], listed["revoked"]) == (
        two_studies.a, share.expires, "sharer", False)
    assert "token" not in listed
    other = list_shares(uac, sharer_token(uac, realm, trusted_key, "another-sharer"))
    assert other.status_code == 200 and share.id not in {s["id"] for s in other.json()["shares"]}


def test_a_revoked_link_is_refused_and_says_so_in_the_viewer(uac, share, browser, artifacts, two_studies):
    link = create_share(uac, share.sharer_token, {"study": two_studies.a, "minutes": 60}).json()
    assert dicomweb(uac, link["token"], f"studies/{two_studies.a}/metadata").status_code == 200
    revoked = revoke_share(uac, share.sharer_token, link["id"])
    assert (revoked.status_code, revoked.headers.get("Access-Control-Allow-Origin")) == (204, uac.viewer_origin)
    [listed] = [s for s in list_shares(uac, share.sharer_token).json()["shares"] if s["id"] == link["id"]]
    assert listed["revoked"] is True
    deadline = time.monotonic() + 60
    while dicomweb(uac, link["token"], f"studies/{two_studies.a}/metadata").status_code != 401:
        assert time.monotonic() < deadline, "a revoked link still read its study after 60 s"
        time.sleep(1)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(share_link(uac, two_studies.a, link["token"]))
    page.get_by_role("alert").filter(has_text=SHARE_LINK_REVOKED).wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "share-link-revoked.png"))
    context.close()
    assert not [url for url in seen if url.startswith(uac.keycloak.url)], "a revoked link went to the login page"
    assert dicomweb(uac, share.token, f"studies/{two_studies.a}/metadata").status_code == 200, "it revoked another"


def test_only_its_creator_or_a_share_admin_revokes_a_link(uac, realm, trusted_key, share, two_studies):
    link = create_share(uac, share.sharer_token, {"study": two_studies.a, "minutes": 60}).json()
    other = revoke_share(uac, sharer_token(uac, realm, trusted_key, "another-sharer"), link["id"])
    assert (other.status_code, other.json()) == (404, {"error": "no share link of yours has this ID"})
    reader = revoke_share(uac, jwt({"alg": "RS256", "typ": "JWT", "kid": trusted_key.kid}, claims(uac, realm),
                                   rs256(trusted_key.private)), link["id"])
    assert reader.status_code == 401, "a reader without the sharer role"
    assert revoke_share(uac, share.token, link["id"]).status_code == 401, "a share link's own token"
    admin = sharer_token(uac, realm, trusted_key, "share-admin", realm.share.admin_role)
    assert revoke_share(uac, admin, link["id"]).status_code == 204
    [listed] = [s for s in list_shares(uac, share.sharer_token).json()["shares"] if s["id"] == link["id"]]
    assert listed["revoked"] is True


def test_a_share_is_audited_as_created_read_and_revoked(uac, share, two_studies):
    link = create_share(uac, share.sharer_token, {"study": two_studies.a, "minutes": 60}).json()
    assert dicomweb(uac, link["token"], f"studies/{two_studies.a}/metadata").status_code == 200
    assert dicomweb(uac, link["token"], f"studies/{two_studies.b}/metadata").status_code == 403
    assert revoke_share(uac, share.sharer_token, link["id"]).status_code == 204
    # nginx writes a request's log line once its answer is sent: the client can read the answer first.
    deadline = time.monotonic() + 10
    while True:
        audit = [json.loads(line) for line in (uac.run_dir / "proxy-proxy" / AUDIT_LOG).read_text().splitlines()]
        if [a for a in audit if a["method"] == "DELETE" and a["path"].endswith(link["id"])]:
            break
        assert time.monotonic() < deadline, "no audit line for the revocation after 10 s"
        time.sleep(0.2)
    [created] = [a for a in audit if a["share"] == link["id"]]
    assert (created["method"], created["path"], created["status"], created["reader"].split(" ")[1]) == (
        "POST", f"{DICOMWEB_PATH}/shares", 201, "sharer")
    reads = [(a["path"], a["status"]) for a in audit if a["reader"] == f"share:{link['id']} sharer"]
    assert reads == [(f"{DICOMWEB_PATH}/studies/{two_studies.a}/metadata", 200),
                     (f"{DICOMWEB_PATH}/studies/{two_studies.b}/metadata", 403)]
    [revoked] = [a for a in audit if a["method"] == "DELETE" and a["path"].endswith(link["id"])]
    assert (revoked["path"], revoked["status"], revoked["reader"].split(" ")[1]) == (
        f"{DICOMWEB_PATH}/shares/{link['id']}", 204, "sharer")


def share_command(uac, browser, person, *args: str) -> subprocess.CompletedProcess:
    """`python3 -m share … <args>`, its device login done by `person` in a browser of their own."""
    command = subprocess.Popen([sys.executable, "-m", "share", "--viewer", uac.urls.viewer,
                                "--ca-file", str(uac.tls.ca_file), *args],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"Log in at (\S+) ", command.stderr.readline())[1]
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.fill("#username", person.username)
        page.fill("#password", person.password)
        page.click("#kc-login")
        page.get_by_role("button", name="Yes").click()  # Keycloak asks the person to let the command act for them
        page.get_by_text("Device Login Successful").wait_for()
        context.close()
        out, err = command.communicate(timeout=60)
    finally:
        command.kill()
    return subprocess.CompletedProcess(command.args, command.returncode, out, err)


def test_python3_m_share_creates_lists_and_revokes_after_a_device_login(uac, realm, browser, two_studies):
    person = uac.keycloak.create_user("terminal-sharer", roles=(realm.reader_role, realm.share.sharer_role))
    made = share_command(uac, browser, person, "create", two_studies.a, "--minutes", "30")
    assert made.returncode == 0, made.stderr
    link = json.loads(made.stdout)
    assert link["link"] == share_link(uac, two_studies.a, link["token"])
    assert token_claims(link["token"])["sharer"] == "terminal-sharer"
    assert dicomweb(uac, link["token"], f"studies/{two_studies.a}/metadata").status_code == 200
    listed = share_command(uac, browser, person, "list")
    assert [(s["id"], s["revoked"]) for s in json.loads(listed.stdout)] == [(link["id"], False)]
    revoked = share_command(uac, browser, person, "revoke", link["id"])
    assert revoked.returncode == 0, revoked.stderr
    deadline = time.monotonic() + 60
    while dicomweb(uac, link["token"], f"studies/{two_studies.a}/metadata").status_code != 401:
        assert time.monotonic() < deadline, "revoked by the command, the link still read its study after 60 s"
        time.sleep(1)


def test_python3_m_share_needs_the_sharer_role(uac, browser):
    reader = uac.keycloak.create_user("terminal-reader", roles=(uac.settings.auth.required_role,))
    refused = share_command(uac, browser, reader, "list")
    assert (refused.returncode, refused.stderr.splitlines()[-1]) == (
        1, "python3 -m share: not allowed: your login needs the sharer role")


def test_no_server_log_holds_a_share_token(uac, share):
    """Last: every file the sandbox's servers wrote (nginx's access and error logs, Keycloak's, Orthanc's, the
    caches) holds no share token; only the keys' own file holds the secret that signs them."""
    marker = secrets.token_urlsafe(16)  # a URL's query is logged: the scan must find this one
    requests.get(f"{uac.urls.viewer}?marker={marker}")

    def holding(text: str) -> list[str]:
        return [str(f) for f in uac.run_dir.rglob("*") if f.is_file() and text.encode() in f.read_bytes()]

    assert holding(marker), "the scan found no access log"
    assert holding(share.token.split(".")[2]) == []
