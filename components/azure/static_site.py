"""StaticSite on Azure: the viewer build in a private blob container, served only by Front Door.

    browser --HTTPS--> Front Door endpoint --managed identity (HTTPS)--> blob container (private)
                        rule set: headers, the SPA fallback, Cache-Control (components/azure/site_rules.py)

Front Door (Standard or Premium) signs in to storage with the profile's managed identity (origin authentication,
learn.microsoft.com/azure/frontdoor/origin-authentication-with-managed-identities), so the container is
never anonymous. Premium's Private Link is not used for storage (the VMs use it): it closes the account's public
endpoint, and then Pulumi, which uploads the blobs from wherever it runs, cannot reach it either. The hop to
storage is HTTPS (azure-frontdoor-no-public-http-origin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.cdn as cdn
import pulumi_azure_native.storage as storage

from components.azure.front_door import alnum, endpoint, storage_route
from components.azure.site_rules import site_rules
from components.render.viewer_build import SiteFile, object_key

CONTAINER = "site"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"  # Azure built-in role "Storage Blob Data Reader"


@dataclass
class StaticSiteArgs:
    files: Sequence[SiteFile]
    """The prepared viewer build (components.render.viewer_build.prepare_site), app-config.js aside."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the storage account and the Front Door profile."""
    location: pulumi.Input[str]
    """The region of the storage account."""
    profile_name: pulumi.Input[str]
    """The Front Door profile that serves the site."""
    profile_principal_id: pulumi.Input[str]
    """The profile's system-assigned identity, which may read the blobs."""
    base_path: str = "/"
    """The path the viewer is served under; blobs are stored under the same prefix."""
    domain: str | None = None
    """A custom domain, with a certificate Front Door manages; None serves on the endpoint's azurefd.net name."""
    frame_ancestors: Sequence[str] = ()
    """Origins that may frame the viewer besides its own."""

    waf_policy_id: pulumi.Input[str] | None = None
    """The Front Door WAF policy that guards its endpoint: who may reach it, and how fast."""

class StaticSite(pulumi.ComponentResource):
    account_name: pulumi.Output[str]
    container_name: pulumi.Output[str]
    endpoint_name: pulumi.Output[str]
    endpoint_host: pulumi.Output[str]
    """The endpoint's azurefd.net name, which a custom domain's CNAME points at."""
    custom_domain_ids: list[pulumi.Output[str]]
    """The custom domain, for more routes on this endpoint."""
    domain_validation: pulumi.Output[str] | None
    """The TXT record that proves the custom domain is ours."""
    origin: pulumi.Output[str]
    """https://<domain or endpoint host>."""
    url: pulumi.Output[str]
    """The viewer's start page: the origin plus the base path."""

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:StaticSite", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg, profile = args.resource_group_name, args.profile_name
        account, container = private_storage(name, self, resource_group_name=rg, location=args.location,
                                             reader_principal_id=args.profile_principal_id)
        upload(name, args.files, args.base_path, resource_group_name=rg, account_name=account.name,
               container_name=container.name, opts=child)

        self.custom_domain_ids, self.domain_validation = [], None
        if args.domain:
            domain = cdn.AFDCustomDomain(
                f"{name}-domain", resource_group_name=rg, profile_name=profile, host_name=args.domain,
                tls_settings=cdn.AFDDomainHttpsParametersArgs(certificate_type="ManagedCertificate",
                                                              minimum_tls_version="TLS12"),
                opts=child)
            self.custom_domain_ids = [domain.id]
            self.domain_validation = pulumi.Output.concat(
                "_dnsauth.", args.domain, " TXT ", domain.validation_properties.apply(lambda v: v.validation_token))
        site_endpoint = endpoint(name, self, resource_group_name=rg, profile_name=profile,
                                 waf_policy_id=args.waf_policy_id, custom_domain_ids=self.custom_domain_ids)
        storage_route(name, self, resource_group_name=rg, profile_name=profile, endpoint_name=site_endpoint.name,
                      blob_host=blob_host(account), container=CONTAINER,
                      rules=site_rules(args.base_path, args.frame_ancestors), custom_domain_ids=self.custom_domain_ids)

        self.account_name, self.container_name = account.name, container.name
        self.endpoint_name, self.endpoint_host = site_endpoint.name, site_endpoint.host_name
        self.origin = pulumi.Output.concat("https://", args.domain or site_endpoint.host_name)
        self.url = pulumi.Output.concat(self.origin, args.base_path)
        self.register_outputs({"account_name": self.account_name, "endpoint_host": self.endpoint_host,
                               "origin": self.origin, "url": self.url})


def private_storage(name: str, parent: pulumi.Resource, *, resource_group_name: pulumi.Input[str],
                    location: pulumi.Input[str], reader_principal_id: pulumi.Input[str]
                    ) -> tuple[storage.StorageAccount, storage.BlobContainer]:
    """A storage account that serves no blob anonymously, HTTPS and TLS 1.2 only, and its container, which
    only `reader_principal_id` (Front Door's identity) may read."""
    child = pulumi.ResourceOptions(parent=parent)
    # Account names are 3-24 lower-case letters and digits, and Pulumi appends eight more to the
    # logical name (pulumi/pulumi-azure-native#3665), so this one cannot be f"{name}-storage".
    account = storage.StorageAccount(
        f"{alnum(name)[:11]}store", resource_group_name=resource_group_name, location=location, kind="StorageV2",
        sku=storage.SkuArgs(name="Standard_LRS"), enable_https_traffic_only=True, minimum_tls_version="TLS1_2",
        allow_blob_public_access=False, opts=child)
    container = storage.BlobContainer(f"{name}-container", resource_group_name=resource_group_name,
                                      account_name=account.name, container_name=CONTAINER, public_access="None",
                                      opts=child)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    authorization.RoleAssignment(
        f"{name}-blob-reader", principal_id=reader_principal_id, principal_type="ServicePrincipal",
        role_definition_id=client.subscription_id.apply(
            lambda s: f"/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_DATA_READER}"),
        scope=account.id, opts=child)
    return account, container


def blob_host(account: storage.StorageAccount) -> pulumi.Output[str]:
    """The account's blob endpoint host, <account>.blob.core.windows.net."""
    return account.primary_endpoints.apply(lambda e: urlsplit(e.blob).hostname)


def upload(name: str, files: Sequence[SiteFile], path: str, *, resource_group_name: pulumi.Input[str],
           account_name: pulumi.Input[str], container_name: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
    """One blob per file under `path` (a URL path; the route serves the container at the root), and per precompressed
    variant under its encoding's prefix, with its Content-Type. Blobs take no Cache-Control or Content-Encoding here
    (storage.Blob has no such inputs): the rule set sets both by file name and request."""
    for f in files:
        stored_blob(f"{name}-{object_key('/', f)}", path, f, pulumi.FileAsset(str(f.path)),
                    resource_group_name=resource_group_name, account_name=account_name,
                    container_name=container_name, opts=opts)


def stored_blob(resource_name: str, path: str, f: SiteFile, source: pulumi.Input[pulumi.Asset], *,
                resource_group_name: pulumi.Input[str], account_name: pulumi.Input[str],
                container_name: pulumi.Input[str], opts: pulumi.ResourceOptions) -> storage.Blob:
    return storage.Blob(resource_name, resource_group_name=resource_group_name, account_name=account_name,
                        container_name=container_name, blob_name=object_key(path, f), type="Block", source=source,
                        content_type=f.content_type, opts=opts)
