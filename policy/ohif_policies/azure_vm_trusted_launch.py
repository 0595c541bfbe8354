"""azure-vm-trusted-launch: VMs boot verified (Trusted Launch with secure boot and a vTPM).

Secure boot refuses unsigned boot loaders and kernels; the vTPM measures the boot, so boot kits and
rootkits show (learn.microsoft.com/azure/virtual-machines/trusted-launch). Confidential VMs include both.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import vm_props
from ._common import DOCS, get

SECURITY_TYPES = ("TrustedLaunch", "ConfidentialVM")


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is None:
        return
    kind, props = vm
    profile = get(props, "securityProfile", default={})
    security_type = profile.get("securityType")
    wrong = [label for label, bad in (
        (f"securityType {security_type or 'Standard'}", security_type not in SECURITY_TYPES),
        ("secure boot off", get(profile, "uefiSettings", "secureBootEnabled") is not True),
        ("vTPM off", get(profile, "uefiSettings", "vTpmEnabled") is not True)) if bad]
    if wrong:
        report_violation(f"{kind} {args.name} is not a Trusted Launch VM ({', '.join(wrong)}). Set "
                         f"securityProfile.securityType TrustedLaunch and uefiSettings secureBootEnabled and "
                         f"vTpmEnabled true, on a gen2 image. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-trusted-launch",
    description="VMs use Trusted Launch with secure boot and vTPM on.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
