"""VmSecrets: one VM's secret files in an Azure Key Vault, readable by that VM's managed identity alone.

Custom data is no place for secrets: any process on the VM reads it from the instance metadata service. So the files
(path: content, components/render/secret_files.py) are one Key Vault secret, in a vault of their own that answers to
Azure RBAC only (no access policies). The VM's identity gets Key Vault Secrets User on that one secret, and the VM
fetches it at boot with a token from its instance metadata service (secret_files.from_key_vault).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault

from components.azure.dicom_service import role_definition_id
from components.render.secret_files import SecretFetch, from_key_vault, secret_document

# Built-in role (learn.microsoft.com/azure/role-based-access-control/built-in-roles): read secret contents.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRET_NAME = "vm-files"
SOFT_DELETE_DAYS = 90
"""A deleted vault or secret can be recovered for this long; purge protection keeps anyone from cutting it short."""


@dataclass
class VmSecretsArgs:
    files: pulumi.Input[dict[str, str]]
    """The secret files the VM writes at boot (path: content)."""
    purpose: str
    """What the VM is for, in the vault's tags."""
    resource_group_name: pulumi.Input[str]
    location: pulumi.Input[str]


class VmSecrets(pulumi.ComponentResource):
    fetch: pulumi.Output[SecretFetch]
    """What the VM's cloud-init runs to write the files."""
    secret_id: pulumi.Output[str]
    """The secret's resource ID: the scope of the VM identity's role (VmSecretsReader)."""

    def __init__(self, name: str, args: VmSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:VmSecrets", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        vault = keyvault.Vault(
            f"{name}-kv", resource_group_name=args.resource_group_name, location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=client.tenant_id, sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True, enable_soft_delete=True,
                soft_delete_retention_in_days=SOFT_DELETE_DAYS, enable_purge_protection=True),
            tags={"purpose": args.purpose}, opts=child)
        secret = keyvault.Secret(
            f"{name}-files", resource_group_name=args.resource_group_name, vault_name=vault.name,
            secret_name=SECRET_NAME,
            properties=keyvault.SecretPropertiesArgs(
                value=pulumi.Output.secret(pulumi.Output.from_input(args.files).apply(secret_document)),
                content_type="application/json"),
            opts=child)
        self.fetch = vault.properties.apply(
            lambda p: from_key_vault(f"{p.vault_uri.rstrip('/')}/secrets/{SECRET_NAME}"))
        self.secret_id = secret.id
        self.register_outputs({"secret_id": self.secret_id})


@dataclass
class VmSecretsReaderArgs:
    secret_id: pulumi.Input[str]
    principal_id: pulumi.Input[str]
    """The VM's (or scale set's) managed identity."""


class VmSecretsReader(pulumi.ComponentResource):
    """The VM identity's one grant on its secret: read its value, and nothing else in the vault. Apart from VmSecrets,
    since the identity exists only once the VM does, and the VM's custom data names the secret."""

    def __init__(self, name: str, args: VmSecretsReaderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:VmSecretsReader", name, {}, opts)
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        authorization.RoleAssignment(
            f"{name}-reads-secrets", scope=args.secret_id, principal_id=args.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=client.subscription_id.apply(lambda s: role_definition_id(s, KEY_VAULT_SECRETS_USER)),
            description="The VM reads its own secret files at boot", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
