"""azure-vm-proxy-highly-available: a stack that declares itself highly available runs its DICOMweb proxy as two
VMs or more.

Set per stack with --policy-pack-config (the recipe's ohif:highly_available). Reported there: a scale set that
starts with fewer than two VMs, an autoscale profile that may shrink below two, and a DICOMweb proxy on a single VM
(its custom data installs the proxy's nginx config).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import VM, VMSS, custom_data
from ._cloud_init import nginx_confs
from ._common import DOCS, HA_SCHEMA, get, is_highly_available

AUTOSCALE = "azure-native:monitor:AutoscaleSetting"
PROXY_CONF = "/etc/nginx/conf.d/ohif-dicomweb-proxy.conf"
FEWEST = 2
FIX = f"Set ohif:archive.scale.min_instances to {FEWEST} or more. See {DOCS}"


def validate(args, report_violation):
    if not is_highly_available(args):
        return
    if args.resource_type == VMSS and (get(args.props, "sku", "capacity") or 0) < FEWEST:
        capacity = get(args.props, 'sku', 'capacity', default=0)
        report_violation(f"VirtualMachineScaleSet {args.name} starts with {capacity:g} "
                         f"VM(s) in a highly available stack. {FIX}")
    elif args.resource_type == AUTOSCALE:
        for profile in args.props.get("profiles") or []:
            if int(get(profile, "capacity", "minimum", default="0")) < FEWEST:
                report_violation(f"AutoscaleSetting {args.name} may shrink to {get(profile, 'capacity', 'minimum')} "
                                 f"VM(s) in a highly available stack. {FIX}")
    elif args.resource_type == VM and PROXY_CONF in dict(nginx_confs(custom_data(args.props))):
        report_violation(f"VirtualMachine {args.name} is the only DICOMweb proxy in a highly available stack. {FIX}")


POLICY = ResourceValidationPolicy(
    name="azure-vm-proxy-highly-available",
    description="In a highly available stack, the DICOMweb proxy runs as two VMs or more.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate, config_schema=HA_SCHEMA)
