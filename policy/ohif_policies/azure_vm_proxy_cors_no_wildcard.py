"""azure-vm-proxy-cors-no-wildcard: in production, the DICOMweb proxy's CORS allow-list names its origins.

The allow-list is visible in the proxy VM's custom data: the nginx `map $http_origin` block that
cloud-init installs (components/render/dicomweb_proxy/ renders it), read as aws-ec2-proxy-cors-no-wildcard
reads an EC2 instance's user data.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import custom_data, vm_props
from ._cloud_init import allowed_origins
from ._common import DOCS, PRODUCTION_SCHEMA, is_production


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is None or not is_production(args):
        return
    if "*" in allowed_origins(custom_data(vm[1])):
        report_violation(f"{vm[0]} {args.name} runs a DICOMweb proxy whose CORS allows any origin in a "
                         f"production stack. List the viewer origins in archive.allowed_origins. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-proxy-cors-no-wildcard",
    description="The DICOMweb proxy's CORS allow-list (in the VM's custom data) has no * in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
