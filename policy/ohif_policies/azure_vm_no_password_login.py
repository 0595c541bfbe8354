"""azure-vm-no-password-login: nobody logs in to a VM with a password.

A password can be guessed wherever sshd is reachable; with password login off, only a key (which no
NSG rule lets anyone use: azure-network-no-open-inbound) opens a session. The recipes run Linux VMs
only; a Windows VM always has a password, so it is reported too.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import vm_props
from ._common import DOCS, get


def validate(args, report_violation):
    vm = vm_props(args)
    if vm is None or get(vm[1], "osProfile") is None:
        return  # a VM from an existing disk has no OS profile to state it
    kind, props = vm
    if get(props, "osProfile", "linuxConfiguration", "disablePasswordAuthentication") is not True or \
            get(props, "osProfile", "adminPassword"):
        report_violation(f"{kind} {args.name} allows password login. Set osProfile.linuxConfiguration."
                         f"disablePasswordAuthentication true and give no adminPassword. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-no-password-login",
    description="VMs disable password authentication and have no admin password.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
