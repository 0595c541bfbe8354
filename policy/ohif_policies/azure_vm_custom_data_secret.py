"""azure-vm-custom-data-secret: a VM's custom data holds no secret.

Custom data is not secret on Azure: anyone who can read the VM can read it, and it cannot be changed
after creation (learn.microsoft.com, OSProfile.customData). Reported, in the files the cloud-init writes:
Keycloak's environment file (/etc/keycloak/keycloak.env, its admin and database passwords), a line
assigning a non-empty *PASSWORD* or *SECRET* variable (KEY=value, as environment files have it), and an
origin-verification secret (the X-Origin-Verify check CloudFront's proxy uses). Secrets reach an Azure
VM through a CustomScript extension's protected settings (components/azure/keycloak_host.py).
"""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import VM, custom_data
from ._cloud_init import written_files
from ._common import DOCS

SECRET_FILES = ("/etc/keycloak/keycloak.env",)
SECRET_ASSIGNMENT = re.compile(r"(?m)^\s*(?:export\s+)?[A-Z0-9_]*(?:PASSWORD|SECRET)[A-Z0-9_]*=\S")
SECRET_MARKERS = ("$http_x_origin_verify",)


def _secret(f: dict) -> bool:
    content = str(f.get("content") or "")
    return str(f.get("path")) in SECRET_FILES or bool(SECRET_ASSIGNMENT.search(content)) or \
        any(m in content for m in SECRET_MARKERS)


def validate(args, report_violation):
    if args.resource_type != VM:
        return
    for f in written_files(custom_data(args.props)):
        if _secret(f):
            report_violation(f"VirtualMachine {args.name} writes a secret ({f.get('path')}) from its custom data, "
                             f"which anyone who can read the VM can read. Deliver it through a CustomScript "
                             f"extension's protected settings (components/azure/keycloak_host.py). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-custom-data-secret",
    description="VM custom data writes no secret (Keycloak's env file, PASSWORD=/SECRET= lines, origin secrets).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
