"""PublishedBlobs: a large set of files in a blob container as one Pulumi resource (components/sync), synced with
azure-storage-blob.

It signs in as pulumi-azure-native does, through azure-identity's DefaultAzureCredential (the Azure CLI's login, a
managed identity, or a service principal's environment), which needs the role Storage Blob Data Contributor on the
account. AZURE_STORAGE_CONNECTION_STRING, where set, takes its place (the tests point it at Azurite).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from components import sync

CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"


def blob_endpoint(account_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """A storage account's blob endpoint in Azure's public cloud."""
    return pulumi.Output.concat("https://", account_name, ".blob.core.windows.net/")


class BlobStore:
    def __init__(self, account_url: str, container: str) -> None:
        # Imported where the engine runs the provider, which has the program's environment.
        from azure.storage.blob import BlobServiceClient

        if os.environ.get(CONNECTION_STRING):
            service = BlobServiceClient.from_connection_string(os.environ[CONNECTION_STRING])
        else:
            from azure.identity import DefaultAzureCredential
            service = BlobServiceClient(account_url, credential=DefaultAzureCredential())
        self.container = service.get_container_client(container)

    def put(self, item: sync.SyncItem) -> None:
        from azure.storage.blob import ContentSettings

        with open(item.path, "rb") as data:
            self.container.upload_blob(item.key, data, overwrite=True, content_settings=ContentSettings(
                content_type=item.content_type, cache_control=item.cache_control,
                content_encoding=item.content_encoding))

    def delete(self, keys: Sequence[str]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        def one(key: str) -> None:
            try:
                self.container.delete_blob(key)
            except ResourceNotFoundError:
                pass
        with ThreadPoolExecutor(sync.WORKERS) as pool:
            list(pool.map(one, keys))


class _Provider(sync.SyncProvider):
    location = ("account_url", "container")

    def store(self, props: dict[str, Any]) -> BlobStore:
        return BlobStore(props["account_url"], props["container"])


class PublishedBlobs(dynamic.Resource):
    """`items` (components/sync.items_of) in `container` of the account at `account_url`, as one resource."""

    def __init__(self, name: str, account_url: pulumi.Input[str], container: pulumi.Input[str], prefix: str,
                 items: Sequence[sync.SyncItem], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_Provider(), name, {"account_url": account_url, "container": container, "prefix": prefix,
                                             "items": sync.as_inputs(items)}, opts)
