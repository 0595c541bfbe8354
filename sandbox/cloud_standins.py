"""Stand-ins for a cloud DICOM service and the instance metadata endpoint that hands the proxy its credential, so that
a stack whose archive is AWS HealthImaging or Azure's DICOM service runs on this machine before it runs in the cloud.

    proxy --(IMDSv2 / managed identity)--> stand-in metadata endpoint   http://127.0.0.1:<port>   (as 169.254.169.254)
    proxy --(SigV4 / bearer, HTTPS)-----> stand-in service            https://127.0.0.1:<port>/datastore/<id>/...
                                                                      https://127.0.0.1:<port>/v2/...
                                             --> the sandbox's Orthanc, answering the service's DICOMweb

The metadata endpoint issues rotating credentials (each set valid for `--lifetime` seconds; a new set once the current
one is past half its life, as AWS has the next set ready before the old expires). The service refuses, as the cloud's
does, a request without a credential the metadata endpoint issued: HealthImaging with 403 unless botocore computes the
same SigV4 signature from the credentials issued (sandbox/sigv4.py), the DICOM service with 401 unless the bearer token
is one it issued and has not expired. Every request it sees goes to `--log` (JSON lines: what was asked, what it
answered, which credential it carried), which the tests read. Run as `python -m sandbox.cloud_standins`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import secrets
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from sandbox.sigv4 import AMZ_DATE, authorization
from settings.services import (
    DICOM_SERVICE,
    DICOM_SERVICE_API,
    DICOM_SERVICE_AUDIENCE,
    HEALTHIMAGING,
    HEALTHIMAGING_SIGNING_NAME,
)

ROLE = "ohif-dicomweb-proxy"
MAX_CLOCK_SKEW = 300  # SigV4: a request dated more than five minutes off is refused
# Query parameters of the service's API that Orthanc does not know: answered as if the service applied them.
SERVICE_ONLY_PARAMETERS = {"fuzzymatching", "imageSetId"}


@dataclass
class Issued:
    key: str
    secret: str
    expires: float
    token: str
    """The session token that goes with the key (AWS)."""

    @property
    def expiration(self) -> str:
        return datetime.datetime.fromtimestamp(self.expires, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Credentials:
    """What the stand-in metadata endpoint has issued: a key (AWS) or token (Azure) with its secret and expiry."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime, self.issued, self._lock = lifetime, {}, threading.Lock()
        self.current: Issued | None = None

    def current_set(self) -> Issued:
        with self._lock:
            now = time.time()
            if self.current is None or now > self.current.expires - self.lifetime / 2:
                key = "ASIA" + secrets.token_hex(8).upper()
                self.current = Issued(key, secrets.token_urlsafe(30), now + self.lifetime, "session-" + key)
                self.issued[self.current.key] = self.current
            return self.current

    def valid(self, key: str) -> Issued | None:
        issued = self.issued.get(key)
        return issued if issued and time.time() < issued.expires else None


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str | None) -> None:
    """An answer with its length (the service keeps connections alive), its body left out for HEAD."""
    handler.send_response(status)
    if content_type is not None:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


def _json(handler: BaseHTTPRequestHandler, status: int, body: object, content_type: str = "application/json") -> None:
    _send(handler, status, body if isinstance(body, bytes) else json.dumps(body).encode(), content_type)


class Issuer(Protocol):
    def current_set(self) -> Issued: ...


def metadata_handler(kind: str, credentials: Issuer, resource: str = DICOM_SERVICE_AUDIENCE):
    """IMDSv2 (a session token by PUT, then the role's credentials) or Azure's managed-identity token endpoint for
    `resource`, handing out what `credentials` issues (Credentials, or sandbox/share_store.py's role credentials)."""
    sessions: set[str] = set()

    class Metadata(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_PUT(self) -> None:
            if kind != HEALTHIMAGING or self.path != "/latest/api/token":
                return _json(self, 404, {"error": "not found"})
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                return _json(self, 400, {"error": "X-aws-ec2-metadata-token-ttl-seconds is required"})
            session = secrets.token_urlsafe(24)
            sessions.add(session)
            _json(self, 200, session.encode(), "text/plain")

        def do_GET(self) -> None:
            if kind == HEALTHIMAGING:
                return self._role_credentials()
            return self._managed_identity_token()

        def _role_credentials(self) -> None:
            # IMDSv2 only: a request without a session token gets 401, as with HttpTokens "required".
            if self.headers.get("X-aws-ec2-metadata-token") not in sessions:
                return _json(self, 401, {"error": "IMDSv2 session token required"})
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return _json(self, 200, ROLE.encode(), "text/plain")
            if self.path != base + ROLE:
                return _json(self, 404, {"error": "not found"})
            issued = credentials.current_set()
            _json(self, 200, {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": issued.key,
                              "SecretAccessKey": issued.secret, "Token": issued.token,
                              "Expiration": issued.expiration})

        def _managed_identity_token(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if self.headers.get("Metadata") != "true":
                return _json(self, 400, {"error": "invalid_request", "error_description": "Metadata header required"})
            if url.path != "/metadata/identity/oauth2/token" or query.get("resource") != [resource]:
                return _json(self, 400, {"error": "invalid_resource"})
            issued = credentials.current_set()
            _json(self, 200, {"access_token": issued.key, "expires_on": str(int(issued.expires)),
                              "expires_in": str(int(issued.expires - time.time())),
                              "resource": resource, "token_type": "Bearer"})

    return Metadata


def service_handler(kind: str, credentials: Credentials, archive: str, root: str, region: str, log: Path):
    """The cloud's DICOMweb under its path layout, refusing any request without a credential `credentials` issued."""
    lock = threading.Lock()

    class Service(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._answer()

        def do_HEAD(self) -> None:
            self._answer()

        def _answer(self) -> None:
            url = urlsplit(self.path)
            refusal, credential = self._refusal(url)
            entry = {"method": self.command, "path": url.path, "query": url.query, "credential": credential,
                     "authorization": self.headers.get("Authorization", "")}
            if refusal is None and not url.path.startswith(root):
                refusal = (404, {"message": "not found"})
            status = refusal[0] if refusal else self._forward(url.path[len(root):], url.query)
            if refusal:
                _json(self, *refusal)
            with lock, log.open("a") as out:
                out.write(json.dumps({**entry, "status": status}) + "\n")

        def _refusal(self, url) -> tuple[tuple[int, dict] | None, str | None]:
            header = self.headers.get("Authorization", "")
            if kind == DICOM_SERVICE:
                token = header.removeprefix("Bearer ")
                if not header.startswith("Bearer ") or credentials.valid(token) is None:
                    return (401, {"error": "invalid_token"}), None
                return None, token
            match = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/.*", header)
            if not match:
                return (403, {"message": "Missing Authentication Token"}), None
            issued = credentials.valid(match.group(1))
            if issued is None:
                return (403, {"__type": "ExpiredTokenException", "message": "The security token expired"}), None
            amz_date = self.headers.get("X-Amz-Date", "")
            try:
                skew = abs(time.time() - datetime.datetime.strptime(amz_date, AMZ_DATE).replace(
                    tzinfo=datetime.UTC).timestamp())
            except ValueError:
                skew = None
            if skew is None or skew > MAX_CLOCK_SKEW:
                return (403, {"message": "Signature expired or X-Amz-Date missing"}), None
            expected = authorization(method=self.command, host=self.headers.get("Host", ""), path=url.path,
                                     query=url.query, key=issued.key, secret=issued.secret,
                                     token=self.headers.get("X-Amz-Security-Token"), amz_date=amz_date,
                                     region=region, service=HEALTHIMAGING_SIGNING_NAME)
            if self.headers.get("X-Amz-Security-Token") != issued.token or header != expected:
                return (403, {"message": "The request signature we calculated does not match the signature "
                                         "you provided"}), None
            return None, issued.key

        def _forward(self, path: str, query: str) -> int:
            """Orthanc's answer, as the service gives it: an empty search is 204 with no body (both services)."""
            kept = "&".join(p for p in query.split("&") if p and p.split("=")[0] not in SERVICE_ONLY_PARAMETERS)
            request = urllib.request.Request(archive + path + ("?" + kept if kept else ""), method="GET",
                                             headers={"Accept": self.headers.get("Accept", "*/*")})
            try:
                with urllib.request.urlopen(request, timeout=60) as reply:
                    status, body, content_type = reply.status, reply.read(), reply.headers.get("Content-Type", "")
            except urllib.error.HTTPError as error:
                status, body, content_type = error.code, error.read(), error.headers.get("Content-Type", "")
            if status == 200 and body.strip() == b"[]":
                status, body, content_type = 204, b"", None
            # Orthanc names itself in its answers (Retrieve URL, BulkDataURI); the service names its own root.
            body = body.replace(archive.encode(), f"https://{self.headers.get('Host', '')}{root}".encode())
            _send(self, status, body, content_type)
            return status

    return Service


def service_root(kind: str, datastore_id: str | None) -> str:
    """The service's DICOMweb path: /datastore/<id>/ (HealthImaging) or /v2/ (DICOM service)."""
    return f"/datastore/{datastore_id}/" if kind == HEALTHIMAGING else f"/{DICOM_SERVICE_API}/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=(HEALTHIMAGING, DICOM_SERVICE), required=True)
    parser.add_argument("--metadata-port", type=int, required=True)
    parser.add_argument("--service-port", type=int, required=True)
    parser.add_argument("--archive", required=True, help="Orthanc's DICOMweb root")
    parser.add_argument("--datastore-id")
    parser.add_argument("--region", default="")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=6 * 3600, help="seconds each credential is valid")
    args = parser.parse_args()
    credentials = Credentials(args.lifetime)
    metadata = ThreadingHTTPServer(("127.0.0.1", args.metadata_port), metadata_handler(args.kind, credentials))
    service = ThreadingHTTPServer(("127.0.0.1", args.service_port), service_handler(
        args.kind, credentials, args.archive.rstrip("/") + "/", service_root(args.kind, args.datastore_id),
        args.region, args.log))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.cert, args.key)
    # The handshake in each connection's own thread, not in the one that accepts.
    service.socket = tls.wrap_socket(service.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    service.serve_forever()


if __name__ == "__main__":
    main()
