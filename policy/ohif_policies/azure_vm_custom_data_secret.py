"""azure-vm-custom-data-secret: a VM's custom data holds no secret.

Custom data is not secret on Azure: anyone who can read the VM can read it, and it cannot be changed
after creation (learn.microsoft.com, OSProfile.customData). Reported: a file the cloud-init writes that holds
a secret (policy/ohif_policies/_cloud_init.py: Keycloak's environment file, PASSWORD=/SECRET= lines, an
origin-verification secret). Secrets reach an Azure VM through a CustomScript extension's protected settings
(components/azure/keycloak_host.py).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import custom_data, vm_props
from ._cloud_init import secret_paths
from ._common import DOCS


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is None:
        return
    for path in secret_paths(custom_data(vm[1])):
        report_violation(f"{vm[0]} {args.name} writes a secret ({path}) from its custom data, "
                         f"which anyone who can read the VM can read. Deliver it through a CustomScript "
                         f"extension's protected settings (components/azure/keycloak_host.py). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-custom-data-secret",
    description="VM custom data writes no secret (Keycloak's env file, PASSWORD=/SECRET= "
                "lines, origin secrets, cloud credentials).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
