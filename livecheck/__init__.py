"""Check a deployed stack from outside, as a browser and an attacker would; one line per check.

    pulumi stack output --json | python -m livecheck -
    python -m livecheck --viewer https://viewer.example.org/ --dicomweb https://viewer.example.org/dicom-web

It reads the stack's outputs (`viewer_url`, `dicomweb_url`, and with login `keycloak_url` and `realm`; the
sandbox's JSON line, whose keys drop `_url`, works too) and checks what a browser needs and what an attacker
must not get. A check that does not apply says SKIP and why (TLS on the sandbox's loopback http, CORS on a
same-origin proxy); any FAIL makes the exit status 1.

The allow-list (`ohif:access.allowed_networks`) is checked from outside it: from a second address of this machine
(`--outside-address`), or through an HTTP proxy that leaves from another network (`--outside-proxy`). With
neither it says "not checked".
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import secrets
import socket
import ssl
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import brotli
import requests
from requests.adapters import HTTPAdapter

ATTACKER = "https://attacker.example"
TIMEOUT = 15
# The archive's own API (Orthanc's, dcm4chee's) and tricks to reach it through the proxy.
ARCHIVE_API = ("/instances", "/patients", "/system", "/tools/reset", "/app/explorer.html", "/dcm4chee-arc/ui2/",
               "{dicomweb}/../instances", "{dicomweb}/%2e%2e/tools/reset", "{dicomweb}/studies/../../system")
ARCHIVE_BODY = re.compile(r"Orthanc|OrthancRest|dcm4chee|\"(ID|Path)\"")
NOT_A_READ = ("DELETE", "PUT", "PATCH", "POST")


@dataclass(frozen=True)
class Stack:
    viewer: str
    """The viewer's start page, ending with /."""
    dicomweb: str
    """The DICOMweb root the viewer calls."""
    keycloak: str | None = None
    realm: str | None = None
    script: str | None = None
    """The embedded recipe's script files (script mode)."""
    outside_address: str | None = None
    """A source address of this machine outside the stack's allowed networks."""
    outside_proxy: str | None = None
    """An HTTP proxy (http://host:port) whose requests leave from outside the stack's allowed networks."""

    @classmethod
    def from_outputs(cls, outputs: dict, outside_address: str | None = None,
                     outside_proxy: str | None = None) -> Stack:
        values = {k.removesuffix("_url"): v for k, v in outputs.items()}
        missing = [k for k in ("viewer", "dicomweb") if not values.get(k)]
        if missing:
            raise ValueError(f"the outputs lack {' and '.join(m + '_url' for m in missing)}")
        return cls(viewer=values["viewer"], dicomweb=values["dicomweb"].rstrip("/"), keycloak=values.get("keycloak"),
                   realm=values.get("realm"), script=values.get("script"), outside_address=outside_address,
                   outside_proxy=outside_proxy)

    @property
    def viewer_origin(self) -> str:
        return origin_of(self.viewer)


@dataclass(frozen=True)
class Result:
    outcome: str
    """PASS, FAIL or SKIP."""
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.outcome} {self.name}: {self.detail}"


class Failed(Exception):
    pass


class Skipped(Exception):
    pass


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def expect(condition: bool, problem: str) -> None:
    if not condition:
        raise Failed(problem)


def get(url: str, method: str = "GET", **kwargs) -> requests.Response:
    return requests.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)


# The checks. Each returns what it saw when it passes, raises Failed or Skipped otherwise.

def https_redirect(stack: Stack) -> str:
    if urlsplit(stack.viewer).scheme != "https":
        raise Skipped("the viewer is served over http (the sandbox on loopback)")
    plain = "http://" + stack.viewer.split("://", 1)[1]
    r = get(plain)
    expect(r.status_code in (301, 302, 307, 308) and r.headers.get("Location", "").startswith("https://"),
           f"{plain} answered {r.status_code} {r.headers.get('Location', '')}, not a redirect to https")
    return f"{plain} -> {r.status_code} {r.headers['Location']}"


def tls_version(stack: Stack) -> str:
    hosts = {urlsplit(u).hostname: urlsplit(u).port or 443 for u in (stack.viewer, stack.dicomweb, stack.keycloak or "")
             if urlsplit(u).scheme == "https"}
    if not hosts:
        raise Skipped("nothing is served over https (the sandbox on loopback)")
    for host, port in hosts.items():
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
        with warnings.catch_warnings():  # deprecated on purpose: this client plays an outdated one
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version, old.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.0/1.1, so only the server can refuse
        expect(not _handshake(old, host, port), f"{host} accepts TLS 1.0/1.1")
        current = ssl.create_default_context()
        current.minimum_version = ssl.TLSVersion.TLSv1_2
        expect(_handshake(current, host, port), f"{host} refuses TLS 1.2 with a verified certificate")
    return f"TLS 1.2+ only, verified certificate: {', '.join(hosts)}"


def _handshake(context: ssl.SSLContext, host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as raw, \
                context.wrap_socket(raw, server_hostname=host):
            return True
    except (ssl.SSLError, OSError):
        return False


def isolation_headers(stack: Stack) -> str:
    r = get(stack.viewer)
    expect(r.status_code == 200, f"{stack.viewer} answered {r.status_code}")
    h = r.headers
    expect(h.get("Cross-Origin-Opener-Policy") == "same-origin", f"COOP is {h.get('Cross-Origin-Opener-Policy')!r}")
    expect(h.get("Cross-Origin-Embedder-Policy") in ("require-corp", "credentialless"),
           f"COEP is {h.get('Cross-Origin-Embedder-Policy')!r}")
    expect(h.get("X-Content-Type-Options") == "nosniff", "no X-Content-Type-Options: nosniff")
    if stack.viewer.startswith("https://"):
        expect("max-age=" in h.get("Strict-Transport-Security", ""), "no Strict-Transport-Security")
    ancestors = re.search(r"frame-ancestors ([^;]+)", h.get("Content-Security-Policy", ""))
    if ancestors:
        sources = ancestors[1].split()
        expect(not any("*" in s or s.endswith(":") for s in sources), f"frame-ancestors allows {ancestors[1]}")
        framing = f"frame-ancestors {ancestors[1]}"
    else:
        expect(h.get("X-Frame-Options", "").upper() in ("SAMEORIGIN", "DENY"), "framing by any page is not refused")
        framing = f"X-Frame-Options {h['X-Frame-Options']}"
    return f"COOP/COEP, nosniff, {framing}"


def spa_fallback(stack: Stack) -> str:
    index = get(stack.viewer)
    deep = get(stack.viewer + "viewer?StudyInstanceUIDs=1.2.840.10008.1")
    expect(deep.status_code == 200 and deep.text == index.text,
           f"a deep link answered {deep.status_code}, not the viewer's index.html")
    missing = get(stack.viewer + "no-such-bundle.0123456789abcdef.js")
    expect(missing.status_code == 404, f"a missing file answered {missing.status_code}, not 404")
    return "deep links get index.html; a missing file is a 404"


def cors(stack: Stack) -> str:
    if origin_of(stack.dicomweb) == stack.viewer_origin:
        raise Skipped("the proxy is on the viewer's own origin (same-origin): no CORS is needed")
    studies = stack.dicomweb + "/studies"
    allowed = get(studies, headers={"Origin": stack.viewer_origin})
    expect(allowed.headers.get("Access-Control-Allow-Origin") == stack.viewer_origin,
           "the viewer's origin gets Access-Control-Allow-Origin "
           f"{allowed.headers.get('Access-Control-Allow-Origin')!r}")
    preflight = get(studies, "OPTIONS", headers={"Origin": stack.viewer_origin, "Access-Control-Request-Method": "GET",
                                                 "Access-Control-Request-Headers": "accept, authorization"})
    expect(200 <= preflight.status_code < 300, f"the viewer's preflight got {preflight.status_code}")
    refused = get(studies, headers={"Origin": ATTACKER})
    expect("Access-Control-Allow-Origin" not in refused.headers,
           f"{ATTACKER} gets Access-Control-Allow-Origin {refused.headers.get('Access-Control-Allow-Origin')!r}")
    return f"{stack.viewer_origin} allowed (preflight {preflight.status_code}), {ATTACKER} refused"


def origin_refused(stack: Stack) -> str:
    """What CORS refuses, the proxy refuses: a script that names another origin gets no data either."""
    refused = get(stack.dicomweb + "/studies", headers={"Origin": ATTACKER})
    expect(refused.status_code == 403, f"a request naming {ATTACKER} answered {refused.status_code}, not 403")
    expect(not refused.text.lstrip().startswith("["), f"a request naming {ATTACKER} got study data")
    return f"a request naming {ATTACKER} gets 403 and no data"


class _FromAddress(HTTPAdapter):
    """Connections from one local source address (urllib3's `source_address`, which requests does not expose)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def allow_list(stack: Stack) -> str:
    if not (stack.outside_address or stack.outside_proxy):
        raise Skipped("not checked: give --outside-address (an address of this machine outside the allowed networks) "
                      "or --outside-proxy (an HTTP proxy that leaves from outside them)")
    urls = [stack.viewer, stack.dicomweb + "/studies", *([stack.script + "index.umd.js"] if stack.script else []),
            *([f"{stack.keycloak.rstrip('/')}/realms/{stack.realm}/.well-known/openid-configuration"]
              if stack.keycloak else [])]
    outside = requests.Session()
    if stack.outside_address:
        for scheme in ("http://", "https://"):
            outside.mount(scheme, _FromAddress(stack.outside_address))
    if stack.outside_proxy:
        outside.proxies = {"http": stack.outside_proxy, "https": stack.outside_proxy}
    via = f"from {stack.outside_address}" if stack.outside_address else f"through {stack.outside_proxy}"
    with outside:
        for url in urls:
            r = outside.get(url, timeout=TIMEOUT, allow_redirects=False)
            expect(r.status_code == 403, f"{url} answered {r.status_code} {via}, not 403")
    for url in urls:
        expect(get(url).status_code != 403, f"{url} refuses this machine too: is it inside the allowed networks?")
    return f"{len(urls)} hosts refuse requests {via}, and serve this machine"


def archive_api_refused(stack: Stack) -> str:
    base = origin_of(stack.dicomweb)
    dicomweb_path = urlsplit(stack.dicomweb).path
    for path in ARCHIVE_API:
        url = base + path.format(dicomweb=dicomweb_path)
        for method in ("GET", "POST"):
            r = get(url, method)  # requests sends ../ and %2e%2e as written
            expect(r.status_code in (400, 401, 403, 404, 405), f"{method} {path} answered {r.status_code}")
            expect(not ARCHIVE_BODY.search(r.text), f"{method} {path} shows the archive's own answer")
    for method in NOT_A_READ:
        r = get(stack.dicomweb + "/studies/1.2.840.10008.1", method, data=b"x")
        expect(r.status_code in (401, 403, 405), f"{method} on a study answered {r.status_code}")
    return f"{len(ARCHIVE_API)} archive API paths and {', '.join(NOT_A_READ)} refused"


def _app_oidc(stack: Stack) -> dict:
    config = get(stack.viewer + "app-config.js").text
    found = re.search(r'"oidc": \[\s*(\{.*?\})\s*\]', config, re.S)
    expect(found is not None, "app-config.js has no oidc settings")
    return json.loads(found[1])


def login_with_pkce(stack: Stack) -> str:
    if not stack.keycloak:
        raise Skipped("no login on this stack")
    oidc = _app_oidc(stack)
    issuer = f"{stack.keycloak.rstrip('/')}/realms/{stack.realm}"
    expect(oidc["authority"] == issuer and oidc["response_type"] == "code",
           f"the viewer logs in at {oidc['authority']} with {oidc['response_type']}, not {issuer} with code")
    discovery = get(issuer + "/.well-known/openid-configuration").json()
    expect("S256" in discovery.get("code_challenge_methods_supported", []), "Keycloak offers no S256 PKCE")
    redirect = stack.viewer + "callback"
    query = {"client_id": oidc["client_id"], "redirect_uri": redirect, "response_type": "code", "scope": "openid",
             "state": secrets.token_urlsafe(8)}
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with_pkce = get(discovery["authorization_endpoint"] + "?" + urlencode(
        {**query, "code_challenge": challenge, "code_challenge_method": "S256"}))
    expect(with_pkce.status_code == 200 and "password" in with_pkce.text.lower(),
           f"the login page answered {with_pkce.status_code} to a PKCE request")
    without = get(discovery["authorization_endpoint"] + "?" + urlencode(query))
    error = parse_qs(urlsplit(without.headers.get("Location", "")).query).get("error", [""])[0]
    expect(without.status_code in (302, 303) and error == "invalid_request",
           f"a request without PKCE was not refused ({without.status_code}, error={error!r})")
    return f"code flow at {issuer}; S256 PKCE required"


def token_required(stack: Stack) -> str:
    if not stack.keycloak:
        raise Skipped("no login on this stack")
    r = get(stack.dicomweb + "/studies", headers={"Origin": stack.viewer_origin})
    expect(r.status_code == 401 and r.headers.get("WWW-Authenticate", "").startswith("Bearer"),
           f"without a token: {r.status_code} {r.headers.get('WWW-Authenticate')!r}")
    if origin_of(stack.dicomweb) != stack.viewer_origin:
        expect(r.headers.get("Access-Control-Allow-Origin") == stack.viewer_origin, "the 401 carries no CORS")
    unsigned = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                        for part in ({"alg": "none", "typ": "JWT"}, {"sub": "attacker", "exp": 4102444800})) + "."
    forged = get(stack.dicomweb + "/studies", headers={"Authorization": f"Bearer {unsigned}"})
    expect(forged.status_code == 401, f"an unsigned token got {forged.status_code}")
    return "401 with WWW-Authenticate: Bearer without a token, and for an unsigned one"


def script_cors(stack: Stack) -> str:
    if not stack.script:
        raise Skipped("no packaged script on this stack")
    ancestors = re.search(r"frame-ancestors ([^;]+)", get(stack.viewer).headers.get("Content-Security-Policy", ""))
    hosts = [s for s in (ancestors[1].split() if ancestors else []) if s.startswith(("http://", "https://"))]
    script = stack.script + "index.umd.js"
    for origin, allowed in [*((h, True) for h in hosts), (ATTACKER, False)]:
        r = get(script, "HEAD", headers={"Origin": origin})
        expect(r.status_code == 200, f"{script} answered {r.status_code}")
        expect((r.headers.get("Access-Control-Allow-Origin") == origin) == allowed,
               f"{origin} gets Access-Control-Allow-Origin {r.headers.get('Access-Control-Allow-Origin')!r}")
    return f"the script allows {', '.join(hosts) or 'no host named by frame-ancestors'}, refuses {ATTACKER}"


def precompressed(stack: Stack) -> str:
    """The bundle in each encoding a browser may accept, each asked twice: the second answer may come from the edge's
    cache, which must keep the variants apart (Front Door's cache key after a rewrite is not documented)."""
    bundle = re.search(r'src="([^"]*app\.bundle\.[0-9a-f]+\.js)"', get(stack.viewer).text)
    expect(bundle is not None, "the viewer's index.html names no app.bundle.<hash>.js")
    url, sizes, bodies = urljoin(stack.viewer, bundle[1]), {}, set()
    for accept, encoding in [("br", "br"), ("gzip", "gzip"), ("identity", None)] * 2:
        r = requests.get(url, headers={"Accept-Encoding": accept}, timeout=TIMEOUT, stream=True)
        raw = r.raw.read(decode_content=False)
        expect(r.status_code == 200, f"{url} answered {r.status_code} to Accept-Encoding: {accept}")
        expect(r.headers.get("Content-Encoding") == encoding,
               f"Accept-Encoding: {accept} got Content-Encoding {r.headers.get('Content-Encoding')!r}")
        bodies.add(hashlib.sha256(DECODE[encoding](raw)).hexdigest())
        sizes[accept] = len(raw)
    expect(len(bodies) == 1, "the encodings of the bundle decode to different files")
    return "the bundle decodes to the same file as " + ", ".join(f"{k} ({v:,} bytes)" for k, v in sizes.items())


DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}


CHECKS: dict[str, Callable[[Stack], str]] = {
    "https-redirect": https_redirect, "tls": tls_version, "isolation-headers": isolation_headers,
    "spa-fallback": spa_fallback, "precompressed": precompressed, "cors": cors, "origin-refused": origin_refused,
    "allow-list": allow_list, "archive-api-refused": archive_api_refused, "login-pkce": login_with_pkce,
    "token-required": token_required, "script-cors": script_cors,
}


def run(stack: Stack) -> Iterator[Result]:
    for name, check in CHECKS.items():
        try:
            yield Result("PASS", name, check(stack))
        except Skipped as e:
            yield Result("SKIP", name, str(e))
        except Failed as e:
            yield Result("FAIL", name, str(e))
        except (requests.RequestException, KeyError, ValueError) as e:
            yield Result("FAIL", name, f"{type(e).__name__}: {e}")
