"""HTTPS for the sandbox, as the CDNs serve it: a certificate for 127.0.0.1 from a CA made for one run.

The CA's key lives only in memory while it signs the one server certificate, and the CA may name nothing but
loopback (a critical name constraint), so a copy of ca.pem that outlives the run can vouch for no real site.
Nothing is added to the machine's trust store: whoever should trust the run says so.
    a browser   chromium --ignore-certificate-errors-spki-list=<spki>  (the server key's hash; Chromium honours it
                only with --user-data-dir, which Playwright always passes)
    Python      requests' `verify=ca_file`, or REQUESTS_CA_BUNDLE / SSL_CERT_FILE
    curl        --cacert ca_file
cryptography (PyCA) makes the certificates: a well-kept library, so no openssl command lines to get right.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_FOR = datetime.timedelta(days=30)
# 127.0.0.1 also as a DNS name: nginx checks an upstream's certificate (proxy_ssl_verify, the proxy fetching Keycloak's
# keys) against DNS names only, even for an address.
LOOPBACK_NAMES = [x509.DNSName("localhost"), x509.DNSName("127.0.0.1"),
                  x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


@dataclass(frozen=True)
class RunTls:
    ca_file: Path
    """The run's CA certificate (PEM): what a client trusts."""
    cert_file: Path
    """The server's certificate, then the CA's (PEM): what nginx presents."""
    key_file: Path
    """The server's private key (PEM, mode 0600)."""
    spki: str
    """base64 of the SHA-256 of the server key's SubjectPublicKeyInfo, as Chromium's flag wants it."""

    @property
    def chromium_flag(self) -> str:
        return f"--ignore-certificate-errors-spki-list={self.spki}"

    def nginx_directives(self, indent: str = "    ") -> str:
        """The certificate for every `listen … ssl` of one nginx (http context)."""
        return (f"{indent}ssl_certificate {self.cert_file};\n{indent}ssl_certificate_key {self.key_file};\n"
                f"{indent}ssl_protocols TLSv1.2 TLSv1.3;\n")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OHIF sandbox"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALID_FOR))


def make_run_tls(directory: Path) -> RunTls:
    """A fresh CA and a server certificate for 127.0.0.1 and localhost, written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (_builder("OHIF sandbox run CA", "OHIF sandbox run CA", ca_key)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.NameConstraints(
              permitted_subtrees=[x509.DNSName("localhost"), x509.DNSName("127.0.0.1"),
                                  x509.IPAddress(ipaddress.ip_network("127.0.0.0/8"))], excluded_subtrees=None),
              critical=True)
          .sign(ca_key, hashes.SHA256()))
    server = (_builder("127.0.0.1", "OHIF sandbox run CA", server_key)
              .add_extension(x509.SubjectAlternativeName(LOOPBACK_NAMES), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    tls = RunTls(ca_file=directory / "ca.pem", cert_file=directory / "cert.pem", key_file=directory / "key.pem",
                 spki=base64.b64encode(hashlib.sha256(server_key.public_key().public_bytes(
                     serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()).decode())
    tls.ca_file.write_bytes(ca.public_bytes(pem))
    tls.cert_file.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    tls.key_file.touch(mode=0o600)
    tls.key_file.write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    return tls
