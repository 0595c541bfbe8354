"""azure-storage-no-public-access: the viewer's blobs are read by Front Door's managed identity, never anonymously.

Three ways a storage account serves blobs to anyone: the account allows public access and a container
turns it on (`publicAccess` Blob or Container), or the account runs a static website, whose `$web`
container is anonymously readable at the web endpoint whatever its access level
(learn.microsoft.com/azure/storage/blobs/storage-blob-static-website).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import BLOB_CONTAINER, STATIC_WEBSITE, STORAGE_ACCOUNT
from ._common import DOCS


def validate(args, report_violation):
    p = args.props
    if args.resource_type == STORAGE_ACCOUNT and p.get("allowBlobPublicAccess") is True:
        report_violation(f"StorageAccount {args.name} allows public blob access. Set allowBlobPublicAccess false; "
                         f"Front Door reads the blobs with its managed identity. See {DOCS}")
    elif args.resource_type == BLOB_CONTAINER and p.get("publicAccess") not in (None, "None"):
        report_violation(f"BlobContainer {args.name} is readable by anyone ({p['publicAccess']}). Set publicAccess "
                         f"None; Front Door reads the blobs with its managed identity. See {DOCS}")
    elif args.resource_type == STATIC_WEBSITE:
        report_violation(f"StorageAccountStaticWebsite {args.name} serves $web to anyone at the account's web "
                         f"endpoint. Remove it and serve a private container through Front Door "
                         f"(components/azure/static_site.py). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-storage-no-public-access",
    description="No anonymous blob access: the account disallows it, containers are private, no static website.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
