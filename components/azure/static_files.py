"""StaticFiles on Azure: files served as they are from a private blob container, on a Front Door endpoint of
their own.

    host page / viewer --HTTPS, CORS--> Front Door endpoint --managed identity (HTTPS)--> blob container (private)
                        OPTIONS (preflight): never cached, answered by the blob service's CORS rules
                        rule set: CORP, HSTS, nosniff, Vary; Access-Control-Allow-Origin by the request's Origin;
                                  Cache-Control (components/azure/site_rules.py: file_rules)

Front Door cannot answer a request itself (no edge function as CloudFront has), so the preflights OHIF's
image loader sends for every DICOM file go through to storage, whose CORS rules answer an allowed origin
with 200 and any other with 403 (learn.microsoft.com/rest/api/storageservices/cross-origin-resource-sharing
--cors--support-for-the-azure-storage-services). GET responses are cached once for every origin, so their
Access-Control-Allow-Origin comes from the rule set instead of the cached copy.

For OHIF v2's packaged script and for a study set on its own origin. Files on a site's own origin go into
the site's container instead (AzureTarget.static_files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.storage as storage

from components.azure.blob_sync import PublishedBlobs, blob_endpoint
from components.azure.front_door import endpoint, storage_route
from components.azure.site_rules import file_rules
from components.azure.static_site import CONTAINER, blob_host, private_storage
from components.render.headers import FILE_CORS_HEADERS, FILE_CORS_METHODS
from components.render.viewer_build import SiteFile
from components.sync import items_of

PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight's answer, as cors_preflight.js says


@dataclass
class StaticFilesArgs:
    files: Sequence[SiteFile]
    """What to serve, each with its Content-Type (its Cache-Control comes from the rule set, by file name)."""
    allowed_origins: Sequence[pulumi.Input[str]]
    """The origins CORS lets read the files; one Front Door rule each."""
    resource_group_name: pulumi.Input[str]
    """The resource group of the storage account and the Front Door profile."""
    location: pulumi.Input[str]
    """The region of the storage account."""
    profile_name: pulumi.Input[str]
    """The Front Door profile that serves the files."""
    profile_principal_id: pulumi.Input[str]
    """The profile's system-assigned identity, which may read the blobs."""
    path: str = "/"
    """The URL path the files are served under; blobs are stored under the same prefix."""

    waf_policy_id: pulumi.Input[str] | None = None
    """The Front Door WAF policy that guards its endpoint: who may reach it, and how fast."""

class StaticFiles(pulumi.ComponentResource):
    account_name: pulumi.Output[str]
    container_name: pulumi.Output[str]
    endpoint_host: pulumi.Output[str]
    origin: pulumi.Output[str]
    """https://<endpoint>.azurefd.net"""
    url: pulumi.Output[str]
    """The origin plus the path."""

    def __init__(self, name: str, args: StaticFilesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:azure:StaticFiles", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        rg = args.resource_group_name
        account, container = private_storage(name, self, resource_group_name=rg, location=args.location,
                                             reader_principal_id=args.profile_principal_id)
        # The blob service's CORS rules apply to the whole account, which holds these files only.
        cors = storage.BlobServiceProperties(
            f"{name}-cors", resource_group_name=rg, account_name=account.name, blob_services_name="default",
            cors=storage.CorsRulesArgs(cors_rules=[blob_cors_rule(args.allowed_origins)]), opts=child)
        # One resource for the whole set, however many files (components/sync).
        PublishedBlobs(f"{name}-files", blob_endpoint(account.name), container.name, args.path,
                       items_of(args.files, args.path), opts=child)
        own = endpoint(name, self, resource_group_name=rg, profile_name=args.profile_name,
                       waf_policy_id=args.waf_policy_id)
        storage_route(name, self, resource_group_name=rg, profile_name=args.profile_name, endpoint_name=own.name,
                      blob_host=blob_host(account), container=CONTAINER, rules=file_rules(args.allowed_origins),
                      depends_on=[cors])

        self.account_name, self.container_name = account.name, container.name
        self.endpoint_host = own.host_name
        self.origin = pulumi.Output.concat("https://", own.host_name)
        self.url = pulumi.Output.concat(self.origin, args.path)
        self.register_outputs({"account_name": self.account_name, "endpoint_host": self.endpoint_host,
                               "origin": self.origin, "url": self.url})


def blob_cors_rule(allowed_origins: Sequence[pulumi.Input[str]]) -> storage.CorsRuleArgs:
    """The blob service's answer to preflights: the allowed origins may GET and HEAD, sending `Accept`.

    A preflight is matched on its Origin, Access-Control-Request-Method and Access-Control-Request-Headers;
    one from another origin, or asking for another method or header, gets 403 and the browser stops there.
    OPTIONS itself is listed as well, so that no reading of the rule refuses the preflight's own method."""
    return storage.CorsRuleArgs(
        allowed_origins=list(allowed_origins), allowed_methods=[*FILE_CORS_METHODS, "OPTIONS"],
        allowed_headers=list(FILE_CORS_HEADERS), exposed_headers=[], max_age_in_seconds=PREFLIGHT_MAX_AGE)
