"""The run's certificate: what a client that trusts only ca.pem accepts, and what Chromium's flag names."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import threading

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

from sandbox.tls import make_run_tls


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_run_tls(tmp_path_factory.mktemp("tls"))


def handshake(tls, server_hostname: str) -> None:
    """A TLS handshake with a server presenting the run's certificate, from a client that trusts ca.pem alone."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tls.cert_file, tls.key_file)
    client = ssl.create_default_context(cafile=str(tls.ca_file))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused us: its side says why
        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname()) as raw:
                with client.wrap_socket(raw, server_hostname=server_hostname):
                    pass
        finally:
            thread.join(10)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_client_trusting_the_run_ca_accepts_loopback(tls, name):
    handshake(tls, name)


def test_the_certificate_names_nothing_but_loopback(tls):
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        handshake(tls, "viewer.example.org")


def test_the_key_is_private_and_the_chromium_flag_names_it(tls):
    assert tls.key_file.stat().st_mode & 0o777 == 0o600
    key = load_pem_private_key(tls.key_file.read_bytes(), password=None)
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert tls.chromium_flag == \
        f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}"
