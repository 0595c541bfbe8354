"""`python -m sandbox up` as a person runs it: one JSON line, clear errors, and nothing left after SIGTERM."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import ssl
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import require_servers
from tests.sandbox.cli import LOCAL_ARCHIVE_PORT, end, free_port_pair, nothing_listens, read_json_line, sandbox_cli


def sandbox_pids() -> set[int]:
    """Processes whose command line names a sandbox run directory (nginx -p, Orthanc's config)."""
    out = subprocess.run(["pgrep", "-f", "ohif-sandbox-"], capture_output=True, text=True).stdout
    return {int(pid) for pid in out.split()}


@pytest.mark.parametrize("stop,times", [(signal.SIGTERM, 1), (signal.SIGINT, 2)], ids=["SIGTERM", "Ctrl-C twice"])
def test_up_prints_urls_and_stopping_leaves_nothing_behind(stop, times):
    require_servers()
    port = free_port_pair()
    before = sandbox_pids()
    with sandbox_cli("--stack", "local", "--port", str(port)) as proc:
        urls, progress = read_json_line(proc)
        assert urls["viewer"] == f"https://127.0.0.1:{port}/"
        assert urls["dicomweb"] == f"https://127.0.0.1:{port + 1}/dicom-web"
        assert progress and all(line.startswith("-- ") for line in progress), progress
        # The run's own CA: a client that trusts another (this session's) is refused, one that trusts it is served.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(urls["viewer"])
        assert requests.get(urls["viewer"], verify=urls["ca_file"]).status_code == 200
        assert requests.get(urls["dicomweb"] + "/studies", verify=urls["ca_file"]).json(), "no sample studies"
        # The command it prints trusts exactly the key the viewer's host presents.
        hint = [proc.stdout.readline() for _ in range(3)]
        served = x509.load_pem_x509_certificate(ssl.get_server_certificate(("127.0.0.1", port)).encode())
        spki = base64.b64encode(hashlib.sha256(served.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).digest()).decode()
        assert f"--ignore-certificate-errors-spki-list={spki} {urls['viewer']}" in hint[1], hint
        ours = sandbox_pids() - before
        assert ours, "the sandbox's servers should be visible while it runs"

        # Another sandbox on the same ports is refused before it starts anything (tests/sandbox/test_ownership.py).
        with sandbox_cli("--stack", "local", "--port", str(port)) as second:
            _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert err.strip().startswith(f"error: port {min(port, LOCAL_ARCHIVE_PORT)} is held by another sandbox "
                                      f"(pid {proc.pid}, "), err
        end(proc, stop, times)  # an impatient second Ctrl-C must not cut the teardown short
    assert proc.returncode == 0, proc.stderr.read()
    assert not (ours & sandbox_pids()), "processes left behind"
    for p in (port, port + 1, LOCAL_ARCHIVE_PORT):
        assert nothing_listens(p), f"port {p} still listening"


def test_missing_package_is_a_clear_error():
    env = {**os.environ, "PATH": "/nonexistent"}
    with sandbox_cli("--stack", "local", "--port", str(free_port_pair()), env=env) as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip() == "error: nginx: nginx not found (apt-get install nginx libnginx-mod-http-js)"


def test_unknown_stack_is_a_clear_error():
    with sandbox_cli("--stack", "nope") as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == ("error: no stack 'nope'; stacks: local, local-dicom-service, local-embedded, "
                           "local-healthimaging, local-manifest, local-uac, prod, prod-azure, "
                           "prod-azure-dicom-service, prod-azure-uac, prod-dicom-json, prod-embedded, prod-ha, "
                           "prod-healthimaging, prod-uac")


def test_a_cloud_stack_is_refused():
    with sandbox_cli("--stack", "prod-azure") as proc:
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == ("error: stack 'prod-azure' deploys to azure (pulumi up --stack prod-azure); the sandbox "
                           "runs stacks with ohif:cloud local: local, local-dicom-service, local-embedded, "
                           "local-healthimaging, local-manifest, local-uac")


@pytest.mark.parametrize("stack,key", [("local-manifest", "study"), ("local-embedded", "host")])
def test_the_new_stacks_print_their_own_url(stack, key):
    """local-manifest prints a ready study link as "study"; local-embedded its demo host page as "host"."""
    require_servers()
    with sandbox_cli("--stack", stack, "--port", str(free_port_pair())) as proc:
        urls, _ = read_json_line(proc)
        page = requests.get(urls[key], verify=urls["ca_file"])
        assert page.status_code == 200, urls
        if key == "study":
            manifest = requests.get(parse_qs(urlsplit(urls["study"]).query)["url"][0], verify=urls["ca_file"]).json()
            assert [s["StudyInstanceUID"] for s in manifest["studies"]] == \
                parse_qs(urlsplit(urls["study"]).query)["StudyInstanceUIDs"]
        else:
            assert urls["iframe_snippet"] in requests.get(urls["host"] + "iframe.html", verify=urls["ca_file"]).text
            assert urls["script_snippet"] in requests.get(urls["host"] + "script/", verify=urls["ca_file"]).text
        end(proc)
    assert proc.returncode == 0, proc.stderr.read()
