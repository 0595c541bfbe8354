"""aws-ec2-proxy-highly-available: a stack that declares itself highly available runs its DICOMweb proxy as two
instances or more.

Set per stack with --policy-pack-config (the recipe's ohif:highly_available). Reported there: an Auto Scaling group
whose minimum is under two, and a DICOMweb proxy on a single instance (its user data installs the proxy's nginx
config), whose loss would cut every reader off until it is replaced.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._cloud_init import nginx_confs
from ._common import DOCS, HA_SCHEMA, is_highly_available
from ._ec2 import GROUP, INSTANCE, user_data

PROXY_CONF = "/etc/nginx/conf.d/ohif-dicomweb-proxy.conf"
FEWEST = 2


def validate(args, report_violation):
    if not is_highly_available(args):
        return
    fewest = args.props.get("minSize") or 0
    if args.resource_type == GROUP and fewest < FEWEST:
        report_violation(f"Auto Scaling group {args.name} may run {fewest:g} instance(s) in a highly available "
                         f"stack. Set ohif:archive.scale.min_instances to {FEWEST} or more. See {DOCS}")
    elif args.resource_type == INSTANCE and PROXY_CONF in dict(nginx_confs(user_data(args))):
        report_violation(f"Instance {args.name} is the only DICOMweb proxy in a highly available stack. Set "
                         f"ohif:archive.scale.min_instances and max_instances to {FEWEST} or more. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-proxy-highly-available",
    description="In a highly available stack, the DICOMweb proxy runs as two instances or more.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate, config_schema=HA_SCHEMA)
