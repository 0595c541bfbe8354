"""azure-storage-cors-no-wildcard: in production, blob storage's CORS names its origins.

A storage account that serves files to other origins (components/azure/static_files.py) answers their
CORS preflights itself, from the blob service's CORS rules (`BlobServiceProperties` `cors.corsRules`).
There an origin matches exactly, or `*` matches any
(learn.microsoft.com/rest/api/storageservices/cross-origin-resource-sharing--cors--support-for-the-azure-storage-services).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import BLOB_SERVICE
from ._common import DOCS, PRODUCTION_SCHEMA, get, is_production


def validate(args, report_violation):
    if args.resource_type != BLOB_SERVICE or not is_production(args):
        return
    if any("*" in (rule.get("allowedOrigins") or []) for rule in get(args.props, "cors", "corsRules", default=[])):
        report_violation(f"BlobServiceProperties {args.name} allows origin * in a production stack. List the "
                         f"origins that read the files instead (the viewer's, embed.host_origins, "
                         f"studies.allowed_origins). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-storage-cors-no-wildcard",
    description="No * origin in blob service CORS rules in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
