"""`python -m livecheck` against real servers: the sandbox passes it, a sandbox with one property broken fails it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

import sandbox.lifecycle as sandbox_lifecycle
import sandbox.nginx as sandbox_nginx
import sandbox.servers as sandbox_servers
from components.render.edge import render_nginx_edge
from components.render.headers import viewer_headers
from sandbox import Sandbox
from tests.conftest import REPO, local_sandbox, require_servers

OUTSIDE = ("--outside-address", "127.0.0.2")
"""Outside the local stacks' allow-list (127.0.0.1/32): every 127.0.0.0/8 address is this machine's."""


def livecheck(outputs: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "livecheck", "-", *args], input=json.dumps(outputs), cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("running", ["sandbox", "sandbox_same_origin_subpath"])
def test_the_sandbox_passes(running, request):
    sandbox = request.getfixturevalue(running)
    checked = livecheck(sandbox.urls._values, *OUTSIDE)
    lines = checked.stdout.splitlines()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line.split(":")[0] for line in lines] == [
        "PASS https-redirect", "PASS tls", "PASS isolation-headers", "PASS spa-fallback", "PASS precompressed",
        "SKIP cors" if running == "sandbox_same_origin_subpath" else "PASS cors", "PASS origin-refused",
        "PASS allow-list", "PASS archive-api-refused", "SKIP login-pkce", "SKIP token-required", "SKIP script-cors"]
    unchecked = livecheck(sandbox.urls._values).stdout.splitlines()
    assert any(line.startswith("SKIP allow-list: not checked:") for line in unchecked), unchecked


def forked(module, name: str, value) -> Iterator[Sandbox]:
    """A local sandbox whose `module.name` is `value` while its configs are rendered: a fork with one property
    broken."""
    require_servers()
    patch = pytest.MonkeyPatch()
    patch.setattr(module, name, value)
    try:
        with local_sandbox() as running:
            patch.undo()  # the fork's configs are rendered and running; the next sandbox is not a fork
            yield running
    finally:
        patch.undo()


@pytest.fixture(scope="module", params=[
    # The viewer host forgets COOP and COEP.
    (sandbox_servers, "viewer_headers", lambda ancestors=(): {
        k: v for k, v in viewer_headers(ancestors).items() if not k.startswith("Cross-Origin-")},
     "FAIL isolation-headers: COOP is None"),
    # The CDN stand-in stores the variants without their Content-Encoding.
    (sandbox_nginx, "_NJS_ADAPTER", sandbox_nginx._NJS_ADAPTER.replace(
        "r.headersOut['Content-Encoding'] = encoding;", ""),
     "FAIL precompressed: Accept-Encoding: br got Content-Encoding None"),
    # The edge forgets the allow-list.
    (sandbox_lifecycle, "render_nginx_edge", lambda networks, rate_limit: render_nginx_edge((), rate_limit),
     "FAIL allow-list: {viewer} answered 200 from 127.0.0.2, not 403"),
], ids=["without-isolation", "without-content-encoding", "without-allow-list"])
def broken(request) -> Iterator[tuple[Sandbox, str]]:
    module, name, value, failure = request.param
    for running in forked(module, name, value):
        yield running, failure


def test_a_broken_property_fails_the_check(broken):
    running, failure = broken
    checked = livecheck(running.urls._values, *OUTSIDE)
    assert checked.returncode == 1
    assert failure.format(viewer=running.urls.viewer) in checked.stdout.splitlines(), checked.stdout
    assert sum(line.startswith("FAIL") for line in checked.stdout.splitlines()) == 1, checked.stdout


def test_by_hand_and_bad_input():
    missing = subprocess.run([sys.executable, "-m", "livecheck", "--viewer", "https://viewer.example.org/"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr.strip().endswith("error: the outputs lack dicomweb_url")


def self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 (and its key), which the check trusts through SSL_CERT_FILE."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")


@pytest.mark.parametrize("protocols,passes", [("TLSv1.2 TLSv1.3", True), ("TLSv1 TLSv1.1 TLSv1.2", False)],
                         ids=["TLS 1.2+", "TLS 1.0 allowed"])
def test_tls_against_nginx(tmp_path, monkeypatch, protocols, passes):
    from livecheck import Stack, run
    from sandbox.nginx import nginx_service
    from sandbox.processes import free_ports

    require_servers()
    cert, key = self_signed(tmp_path)
    https, http = free_ports(2)
    (tmp_path / "tls.conf").write_text(f"""
server {{
    listen 127.0.0.1:{https} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols {protocols};
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    location / {{ return 200 "ok"; }}
}}
server {{
    listen 127.0.0.1:{http};
    location / {{ return 200 "ready"; }}
}}
""")
    service = nginx_service(tmp_path, [tmp_path / "tls.conf"], ports=[http], ready_url=f"http://127.0.0.1:{http}/")
    service.start()
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    try:
        stack = Stack(viewer=f"https://127.0.0.1:{https}/", dicomweb=f"https://127.0.0.1:{https}/dicom-web")
        results = {r.name: r for r in run(stack)}
        assert (results["tls"].outcome == "PASS") == passes, results["tls"].line()
        if not passes:
            assert results["tls"].detail == "127.0.0.1 accepts TLS 1.0/1.1"
    finally:
        service.stop()
