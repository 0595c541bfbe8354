"""A sharer's share links from a terminal: their own login, no cloud credentials (`python3 -m share`).

    viewer's app-config.js ──> the proxy's DICOMweb root and the realm
    sharer, in any browser ──> the realm's device login (a code the command prints) ──> an access token, in memory
    command ──POST/GET/DELETE <DICOMweb root>/shares──> the proxy, which signs, lists and revokes (access.js)

Written with the standard library alone: no library in our requirements runs the OAuth 2.0 device authorization
grant's polling (RFC 8628), and a sharer's machine needs nothing of the deployment's tools.
"""

from __future__ import annotations

import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from components.render.realm import SHARE_CLIENT_ID

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class ShareError(Exception):
    """What went wrong, in a line the command prints."""


def _call(method: str, url: str, *, token: str | None = None, form: dict | None = None, body: dict | None = None,
          tls: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    data, headers = None, {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30, context=tls) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError as error:
        raise ShareError(f"{url}: {error.reason}") from None


@dataclass(frozen=True)
class Deployment:
    viewer: str
    """The viewer's URL (its base path, ending in /)."""
    dicomweb: str
    """The proxy's DICOMweb root."""
    issuer: str
    """The realm's URL."""

    @classmethod
    def of(cls, viewer: str, tls: ssl.SSLContext | None = None) -> Deployment:
        """What the viewer's app-config.js names: its DICOMweb root and the realm it logs in with."""
        viewer = viewer if viewer.endswith("/") else viewer + "/"
        status, text = _call("GET", viewer + "app-config.js", tls=tls)
        found = re.search(rb"window\.config = (\{.*?\n\});", text, re.DOTALL)
        if status != 200 or not found:
            raise ShareError(f"{viewer}app-config.js: not an OHIF viewer our recipes deployed (HTTP {status})")
        config = json.loads(found[1])
        sources = config.get("dataSources") or [{}]
        dicomweb = sources[0].get("configuration", {}).get("qidoRoot")
        oidc = config.get("oidc") or [{}]
        if not dicomweb or not oidc[0].get("authority"):
            raise ShareError(f"{viewer}: the viewer has no DICOMweb archive with login, so no share links")
        return cls(viewer, dicomweb.rstrip("/"), oidc[0]["authority"].rstrip("/"))

    def link(self, study: str, token: str) -> str:
        """The link that opens `study` in the viewer (components/render/viewer_build.py: SHARE_LINK_MODE)."""
        return f"{self.viewer}viewer?StudyInstanceUIDs={study}#token={token}"


def log_in(issuer: str, tell: Callable[[str], None], tls: ssl.SSLContext | None = None,
           sleep: Callable[[float], None] = time.sleep) -> str:
    """The sharer's access token: the device authorization grant (RFC 8628) on the realm's share client. `tell`
    shows the sharer where to log in."""
    status, text = _call("GET", f"{issuer}/.well-known/openid-configuration", tls=tls)
    if status != 200:
        raise ShareError(f"{issuer}: no OpenID configuration (HTTP {status})")
    discovery = json.loads(text)
    status, text = _call("POST", discovery["device_authorization_endpoint"], form={"client_id": SHARE_CLIENT_ID},
                         tls=tls)
    if status != 200:
        raise ShareError(f"the realm refused a device login for {SHARE_CLIENT_ID} (HTTP {status}): are share "
                         "links on in this stack?")
    device = json.loads(text)
    tell(f"Log in at {device['verification_uri_complete']} (code {device['user_code']}) to go on.")
    interval, deadline = device.get("interval", 5), time.monotonic() + device["expires_in"]
    while time.monotonic() < deadline:
        sleep(interval)
        status, text = _call("POST", discovery["token_endpoint"], form={
            "grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": SHARE_CLIENT_ID}, tls=tls)
        answer = json.loads(text)
        if status == 200:
            return answer["access_token"]
        if answer.get("error") == "slow_down":
            interval += 5
        elif answer.get("error") != "authorization_pending":
            raise ShareError(f"login: {answer.get('error_description') or answer.get('error')}")
    raise ShareError("login: the code expired before the login was done")


def _answer(status: int, text: bytes, wanted: int) -> dict:
    if status == wanted:
        return json.loads(text) if text else {}
    try:
        why = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        why = text.decode(errors="replace")[:200]
    raise ShareError({401: "not allowed: your login needs the sharer role",
                      404: f"not found: {why}"}.get(status, f"the proxy answered {status}: {why}"))


def create(deployment: Deployment, token: str, study: str, minutes: int | None,
           tls: ssl.SSLContext | None = None) -> dict:
    """A link for one study; the proxy's answer, with the link to send."""
    asked = {"study": study, **({"minutes": minutes} if minutes is not None else {})}
    made = _answer(*_call("POST", f"{deployment.dicomweb}/shares", token=token, body=asked, tls=tls), 201)
    return {**made, "link": deployment.link(made["study"], made["token"])}


def listed(deployment: Deployment, token: str, tls: ssl.SSLContext | None = None) -> list[dict]:
    """The sharer's own links, newest first."""
    return _answer(*_call("GET", f"{deployment.dicomweb}/shares", token=token, tls=tls), 200)["shares"]


def revoke(deployment: Deployment, token: str, share_id: str, tls: ssl.SSLContext | None = None) -> None:
    """Revokes one link: every proxy refuses it within a minute."""
    _answer(*_call("DELETE", f"{deployment.dicomweb}/shares/{urllib.parse.quote(share_id, safe='')}", token=token,
                   tls=tls), 204)
