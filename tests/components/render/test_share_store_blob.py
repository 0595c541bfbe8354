"""The share store's Blob side (components/render/share_store.js), as the proxy runs it on Azure: a real nginx with the
store's rendered server, its managed identity's token from a stand-in of the instance metadata endpoint, and
Azurite over HTTPS taking that bearer token. (The S3 side runs in every sandbox with share links, in moto's S3 with
IAM checks: tests/sandbox/test_user_account_control.py.)"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from azure.storage.blob import BlobServiceClient

from components.render.cloud_init import njs_modules
from components.render.dicomweb_proxy.share_store import (
    BLOB_STORAGE_AUDIENCE,
    ShareStore,
    ShareStoreAt,
    ShareStoreFiles,
)
from sandbox.cloud_standins import Issued, metadata_handler
from sandbox.nginx import nginx_service
from sandbox.processes import free_port
from sandbox.staging import worker_dir
from sandbox.tls import make_run_tls
from settings.services import DICOM_SERVICE, ArchiveAuth
from tests.conftest import require_tool
from tests.storage_servers import AZURITE, start_azurite

CONTAINER = "shares"
SHARE_ID = "AbCdEfGhIjKlMnOpQrStUv"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class EntraTokens:
    """A managed identity's tokens for Azure Storage, shaped as Entra ID issues them (Azurite checks the issuer, the
    audience and the lifetime; nobody here can sign as Entra ID). `audience` is what they name."""

    def __init__(self, audience: str) -> None:
        self.audience = audience

    def current_set(self) -> Issued:
        now = int(time.time())
        claims = {"iss": "https://sts.windows.net/00000000-0000-4000-8000-0000000000f0/", "aud": self.audience,
                  "iat": now, "nbf": now - 60, "exp": now + 3600, "oid": "00000000-0000-4000-8000-0000000000d1"}
        token = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl"
        return Issued(token, "", now + 3600, "")


@dataclass
class BlobStore:
    url: str
    """The store's server (share_store.js) on loopback."""
    client: BlobServiceClient
    """Azurite, as its account key sees it."""
    tokens: EntraTokens
    """What the metadata endpoint hands the proxy."""
    credential_file: Path
    """Where the proxy keeps the token it fetched."""


@pytest.fixture(scope="module")
def blob_store() -> Iterator[BlobStore]:
    """nginx's store server on loopback, in front of Azurite's container."""
    require_tool("nginx", "nginx libnginx-mod-http-js")
    if not AZURITE.exists():
        pytest.fail(f"{AZURITE} is missing: bash scripts/install.sh installs it")
    run_dir = Path(tempfile.mkdtemp(prefix="ohif-blob-store-"))
    run_dir.chmod(0o755)  # nginx's workers (an unprivileged user) write the credential below it
    tls = make_run_tls(run_dir / "tls")
    azurite = start_azurite(tls)
    tokens = EntraTokens(BLOB_STORAGE_AUDIENCE)
    metadata = ThreadingHTTPServer(("127.0.0.1", free_port()),
                                   metadata_handler(DICOM_SERVICE, tokens, resource=BLOB_STORAGE_AUDIENCE))
    threading.Thread(target=metadata.serve_forever, daemon=True).start()
    nginx = None
    try:
        endpoint = azurite.env["AZURE_STORAGE_CONNECTION_STRING"].split("BlobEndpoint=")[1].rstrip(";")
        client = BlobServiceClient.from_connection_string(azurite.env["AZURE_STORAGE_CONNECTION_STRING"],
                                                          connection_verify=str(tls.ca_file))
        client.create_container(CONTAINER)
        modules = run_dir / "njs"
        modules.mkdir()
        for name, text in njs_modules(archive=False, share_store=True).items():
            (modules / name).write_text(text)
        credential_file = worker_dir(run_dir / "credential") / "credential.json"
        listen = f"127.0.0.1:{free_port()}"
        store = ShareStore(ShareStoreAt(f"{endpoint}/{CONTAINER}",
                                        ArchiveAuth("bearer", resource=BLOB_STORAGE_AUDIENCE)),
                           ShareStoreFiles(module_dir=str(modules), credentials_file=str(credential_file),
                                           metadata_url=f"http://127.0.0.1:{metadata.server_port}", listen=listen,
                                           cache_dir=str(run_dir / "revocations"), ca_file=str(tls.ca_file)))
        conf = run_dir / "store.conf"
        conf.write_text(store.http_block() + store.server(resolver=None))
        nginx = nginx_service(run_dir, [conf], ports=[int(listen.split(":")[1])], ready_url=f"http://{listen}/")
        nginx.start()
        yield BlobStore(f"http://{listen}/store", client, tokens, credential_file)
    finally:
        if nginx:
            nginx.stop()
        metadata.shutdown()
        azurite.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_the_proxy_records_and_reads_a_revocation_in_blob_storage(blob_store):
    url, client = blob_store.url, blob_store.client
    assert requests.get(f"{url}/revoked/{SHARE_ID}").status_code == 404
    record = {"id": SHARE_ID, "at": "2026-12-08T05:00:00Z", "by": "sharer"}
    assert requests.put(f"{url}/revoked/{SHARE_ID}", data=json.dumps(record)).status_code == 204
    got = requests.get(f"{url}/revoked/{SHARE_ID}")
    assert (got.status_code, got.json()) == (200, record)
    # In Azurite's container itself, as a block blob.
    blob = client.get_blob_client(CONTAINER, f"revoked/{SHARE_ID}")
    assert json.loads(blob.download_blob().readall()) == record
    assert blob.get_blob_properties().blob_type == "BlockBlob"


def test_the_proxy_lists_a_sharers_links_in_blob_storage(blob_store):
    url = blob_store.url
    owner = "shares/0123456789abcdef0123456789abcdef/"
    for share_id in ("AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"):
        assert requests.put(f"{url}/{owner}{share_id}", data=json.dumps({"id": share_id})).status_code == 204
    assert requests.put(f"{url}/shares/fedcba9876543210fedcba9876543210/CCCCCCCCCCCCCCCCCCCCCC",
                        data="{}").status_code == 204
    listed = requests.get(f"{url}/{owner}")
    assert (listed.status_code, listed.json()) == (200, {"keys": [f"{owner}AAAAAAAAAAAAAAAAAAAAAA",
                                                                  f"{owner}BBBBBBBBBBBBBBBBBBBBBB"]})


def test_a_token_for_another_audience_fails_closed(blob_store):
    """Azurite refuses a token that is not for Azure Storage (as Azure does): the store answers 502, so the proxy
    refuses the share link rather than reading past a revocation it could not see."""
    blob_store.tokens.audience = "https://dicom.healthcareapis.azure.com"
    try:
        blob_store.credential_file.unlink()  # the next request fetches a fresh token
        assert requests.get(f"{blob_store.url}/revoked/{SHARE_ID}").status_code == 502
    finally:
        blob_store.tokens.audience = BLOB_STORAGE_AUDIENCE
        blob_store.credential_file.unlink()
