"""A stand-in realm for the proxy's token check, without Keycloak: an RSA key, its JWKS served by nginx, and tokens
signed with it as Keycloak signs them (RS256, the claims components/render/access.js checks).

The load test needs the check to run in full on every request (signature, expiry, issuer, audience, role), as it
does behind a real realm; only the key set's origin differs.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from components.render.dicomweb_proxy.study_scope import SCOPE_CLAIM
from components.render.dicomweb_proxy.token_check import TokenCheck
from sandbox.nginx import nginx_service

REALM_PATH = "/realms/bench"
CERTS_PATH = REALM_PATH + "/protocol/openid-connect/certs"
KID = "bench-key"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n: int) -> str:
    return _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class Realm:
    key: rsa.RSAPrivateKey
    base_url: str
    """The realm server's origin, http://127.0.0.1:<port>."""

    @property
    def token_check(self) -> TokenCheck:
        return TokenCheck(issuer=self.base_url + REALM_PATH, jwks_url=self.base_url + CERTS_PATH,
                          client_id="ohif-viewer", required_role="dicom-reader", upload_role="dicom-uploader")

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
                          "n": _uint(numbers.n), "e": _uint(numbers.e)}]}

    def token(self, studies: tuple[str, ...] | None = None, roles: tuple[str, ...] = ()) -> str:
        """A reader's access token, valid for an hour: longer than any run of the bench; with `studies`, limited to
        them (the dicom_studies claim components/render/access.js checks); `roles` besides the reader's."""
        check, now = self.token_check, int(time.time())
        claims = {"iss": check.issuer, "aud": "account", "azp": check.client_id, "sub": "bench-user",
                  "typ": "Bearer", "iat": now, "nbf": now - 5, "exp": now + 3600,
                  "realm_access": {"roles": [check.required_role, *roles]},
                  **({SCOPE_CLAIM: list(studies)} if studies is not None else {})}
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)


@contextmanager
def realm_server(run_dir: Path, port: int) -> Iterator[Realm]:
    """A new realm key, its JWKS served at CERTS_PATH by an nginx on `port` while the block runs."""
    realm = Realm(rsa.generate_private_key(public_exponent=65537, key_size=2048), f"http://127.0.0.1:{port}")
    root = run_dir / "root"
    certs = root / CERTS_PATH.lstrip("/")
    certs.parent.mkdir(parents=True)
    certs.write_text(json.dumps(realm.jwks()))
    (run_dir / "realm.conf").write_text(
        f"server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    default_type application/json;\n}}\n")
    service = nginx_service(run_dir, [run_dir / "realm.conf"], ports=[port], ready_url=realm.base_url + CERTS_PATH)
    try:
        service.start()
        yield realm
    finally:
        service.stop()
