"""aws-ec2-proxy-cors-no-wildcard: in production, the DICOMweb proxy's CORS allow-list names its origins.

The allow-list is visible in the proxy VM's user data: the nginx `map $http_origin` block that
cloud-init installs (components/render/dicomweb_proxy/ renders it).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloud_init import allowed_origins
from ._common import DOCS, PRODUCTION_SCHEMA, is_production
from ._ec2 import kind, user_data


def validate(args, report_violation):
    cloud_init = user_data(args)
    if cloud_init is None or not is_production(args):
        return
    if "*" in allowed_origins(cloud_init):
        report_violation(f"{kind(args)} {args.name} runs a DICOMweb proxy whose CORS allows any origin in a production "
                         f"stack. List the viewer origins in archive.allowed_origins. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-proxy-cors-no-wildcard",
    description="The DICOMweb proxy's CORS allow-list (in the VM's user data) has no * in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
