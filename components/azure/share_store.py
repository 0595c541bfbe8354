"""ShareStore on Azure: the share links' records and revocations in a private Blob container of a storage account of
their own, which only the proxy's managed identity reads and writes (components/render/dicomweb_proxy/
share_store.py).

    proxy VMs (their identity's token) ──HTTPS──> container: shares/<owner>/<id>, revoked/<id>
                                                  (no public access, no shared keys: Entra ID and RBAC only;
                                                   blobs deleted after the longest link; protected and locked,
                                                   versioned, deleted blobs kept a week)

Apart from its grant (ShareStoreWriter), since the identity exists only once the VM does, and the VM's custom data
names the store.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, storage

from components.azure.dicom_service import role_definition_id
from components.azure.static_site import alnum, blob_host
from components.render.dicomweb_proxy.share_store import (
    BLOB_STORAGE_AUDIENCE,
    RECORD_DAYS,
    RECOVERY_DAYS,
    ShareStoreAt,
)
from settings.services import ArchiveAuth

# Built-in role (learn.microsoft.com/azure/role-based-access-control/built-in-roles): read, write and delete blobs.
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
CONTAINER = "shares"


@dataclass
class ShareStoreArgs:
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]


class ShareStore(pulumi.ComponentResource):
    at: pulumi.Output[ShareStoreAt]
    """Where the proxy finds the store, and the token it brings."""
    container_id: pulumi.Output[str]
    """The container's resource ID: the scope of the proxy identity's grant (ShareStoreWriter)."""

    def __init__(self, name: str, args: ShareStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:ShareStore", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Revocations are the sharers' own decisions: lost, a revoked link would work again. `pulumi destroy` must
        # not take them, nor anyone delete the account; a blob overwritten or deleted stays recoverable for a week.
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        account = storage.StorageAccount(
            f"{alnum(name)[:11]}shares", resource_group_name=args.resource_group_name, location=args.location,
            kind="StorageV2", sku=storage.SkuArgs(name="Standard_ZRS"), enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2", allow_blob_public_access=False,
            # Only Entra ID tokens: no account key or SAS reaches the store.
            allow_shared_key_access=False, opts=keep)
        authorization.ManagementLockByScope(f"{name}-shares-lock", scope=account.id, level="CanNotDelete",
                                            notes="Share links' records and revocations: remove this lock to delete "
                                                  "them", opts=child)
        storage.BlobServiceProperties(
            f"{name}-shares-recovery", resource_group_name=args.resource_group_name, account_name=account.name,
            blob_services_name="default", is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=RECOVERY_DAYS), opts=child)
        container = storage.BlobContainer(f"{name}-shares", resource_group_name=args.resource_group_name,
                                          account_name=account.name, container_name=CONTAINER,
                                          public_access=storage.PublicAccess.NONE, opts=keep)
        storage.ManagementPolicy(
            f"{name}-shares-expiry", resource_group_name=args.resource_group_name, account_name=account.name,
            management_policy_name="default",
            policy=storage.ManagementPolicySchemaArgs(rules=[storage.ManagementPolicyRuleArgs(
                name="expire-after-the-longest-link", enabled=True, type=storage.RuleType.LIFECYCLE,
                definition=storage.ManagementPolicyDefinitionArgs(
                    filters=storage.ManagementPolicyFilterArgs(blob_types=["blockBlob"]),
                    actions=storage.ManagementPolicyActionArgs(base_blob=storage.ManagementPolicyBaseBlobArgs(
                        delete=storage.DateAfterModificationArgs(
                            days_after_modification_greater_than=RECORD_DAYS)))))]),
            opts=child)
        self.at = blob_host(account).apply(lambda host: ShareStoreAt(
            url=f"https://{host}/{CONTAINER}", auth=ArchiveAuth("bearer", resource=BLOB_STORAGE_AUDIENCE)))
        self.container_id = container.id
        self.register_outputs({"container_id": self.container_id})


@dataclass
class ShareStoreWriterArgs:
    container_id: pulumi.Input[str]
    principal_id: pulumi.Input[str]
    """The proxy VM's (or scale set's) managed identity."""


class ShareStoreWriter(pulumi.ComponentResource):
    """The proxy identity's one grant on the store: its container's blobs, and nothing else in the account."""

    def __init__(self, name: str, args: ShareStoreWriterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:ShareStoreWriter", name, {}, opts)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        authorization.RoleAssignment(
            f"{name}-writes-shares", scope=args.container_id, principal_id=args.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=client.subscription_id.apply(
                lambda s: role_definition_id(s, STORAGE_BLOB_DATA_CONTRIBUTOR)),
            description="The proxy records share links and their revocations", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
