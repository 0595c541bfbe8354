"""azure-vm-encryption-at-host: a VM's temporary disk and disk caches are encrypted too.

Managed disks are encrypted at rest anyway; encryption at host also covers the temporary disk and the
caches on the host (learn.microsoft.com/azure/virtual-machines/disk-encryption#encryption-at-host).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import vm_props
from ._common import DOCS, get


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is not None and get(vm[1], "securityProfile", "encryptionAtHost") is not True:
        report_violation(f"{vm[0]} {args.name} does not encrypt at host. Set "
                         f"securityProfile.encryptionAtHost true. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-encryption-at-host",
    description="VMs set securityProfile.encryptionAtHost true.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
