"""aws-ec2-encrypted-volumes: root and data volumes are encrypted at rest."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, get


def validate(args, report_violation):
    if args.resource_type == "aws:ec2/instance:Instance":
        volumes = [("root volume", get(args.props, "rootBlockDevice", default={}))] + \
            [(f"volume {v.get('deviceName')}", v) for v in args.props.get("ebsBlockDevices") or []]
        for label, volume in volumes:
            if volume.get("encrypted") is not True:
                report_violation(f"Instance {args.name} {label} is not encrypted. Set encrypted: true. See {DOCS}")
    elif args.resource_type == "aws:ec2/launchTemplate:LaunchTemplate":
        for mapping in args.props.get("blockDeviceMappings") or []:
            if str(get(mapping, "ebs", "encrypted")).lower() != "true":
                report_violation(f"LaunchTemplate {args.name} volume {mapping.get('deviceName')} is not encrypted. Set "
                                 f"ebs.encrypted: true. See {DOCS}")
    elif args.resource_type == "aws:ebs/volume:Volume" and args.props.get("encrypted") is not True:
        report_violation(f"Volume {args.name} is not encrypted. Set encrypted: true. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-encrypted-volumes",
    description="EC2 root and data volumes are encrypted.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
