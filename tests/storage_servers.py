"""Real storage servers on loopback for the code that talks to cloud storage with the clouds' SDKs: moto's S3 server
and Azurite's blob service, each started here and stopped with the test session (sandbox/processes.py)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sandbox.processes import Service, free_port
from sandbox.share_store import moto_server
from sandbox.tls import RunTls
from settings import PROJECT

AZURITE = PROJECT / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's one account and its key, the same in every copy: Microsoft publishes them for the emulator
# (learn.microsoft.com, "Use the Azurite emulator": well-known storage account and key). Not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class StorageServer:
    service: Service
    env: dict[str, str]
    """What points the SDK at it (boto3: AWS_ENDPOINT_URL_S3 and test keys; azure-storage-blob: a connection
    string)."""
    directory: Path

    def stop(self) -> None:
        self.service.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_moto() -> StorageServer:
    port, directory = free_port(), Path(tempfile.mkdtemp(prefix="ohif-moto-"))
    service = Service("moto", [moto_server(), "-H", "127.0.0.1", "-p", str(port)], log=directory / "moto.log",
                      ready_url=f"tcp://127.0.0.1:{port}", ports=[port], port_hint="pip install 'moto[server]'")
    service.start()
    return StorageServer(service, {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                                   "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}, directory)


def start_azurite(tls: RunTls | None = None) -> StorageServer:
    """Azurite's blob service; with `tls`, over HTTPS with its certificate, taking Entra ID bearer tokens as well
    (`--oauth basic`: it checks their issuer, audience and lifetime, not their signature)."""
    port, directory = free_port(), Path(tempfile.mkdtemp(prefix="ohif-azurite-"))
    https = ["--cert", str(tls.cert_file), "--key", str(tls.key_file), "--oauth", "basic"] if tls else []
    service = Service("azurite", [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
                                  str(directory), "--silent", "--skipApiVersionCheck", *https],
                      log=directory / "azurite.log", ready_url=f"tcp://127.0.0.1:{port}", ports=[port],
                      port_hint="bash scripts/install.sh installs it")
    service.start()
    scheme = "https" if tls else "http"
    connection = (f"DefaultEndpointsProtocol={scheme};AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                  f"BlobEndpoint={scheme}://127.0.0.1:{port}/{AZURITE_ACCOUNT};")
    return StorageServer(service, {"AZURE_STORAGE_CONNECTION_STRING": connection}, directory)
