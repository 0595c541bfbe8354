"""aws-ec2-proxy-cors-no-wildcard: in production, the archive proxy's CORS allow-list names its origins.

The allow-list is visible in the proxy VM's user data: the nginx `map $http_origin` block that
cloud-init installs (components/render/proxy_nginx.py renders it).
"""

from __future__ import annotations

import re

import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, PRODUCTION_SCHEMA, is_production

ORIGIN_MAP = re.compile(r"map \$http_origin \$\w+ \{(.*?)\}", re.S)


def allowed_origins(user_data: str) -> list[str]:
    """The origins of every CORS map in the nginx files a cloud-init document writes."""
    try:
        config = yaml.safe_load(user_data)
    except yaml.YAMLError:
        return []
    files = config.get("write_files", []) if isinstance(config, dict) else []
    origins = []
    for content in (f.get("content", "") for f in files if str(f.get("path", "")).endswith(".conf")):
        for body in ORIGIN_MAP.findall(content):
            for key, value in re.findall(r'^\s*"([^"]*)"\s+(\S+);', body, re.M):
                origins.append("*" if value == '"*"' else key)
    return origins


def validate(args, report_violation):
    if args.resource_type != "aws:ec2/instance:Instance" or not is_production(args):
        return
    if "*" in allowed_origins(args.props.get("userData") or ""):
        report_violation(f"Instance {args.name} runs a DICOMweb proxy whose CORS allows any origin in a production "
                         f"stack. List the viewer origins in archive.allowed_origins. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-ec2-proxy-cors-no-wildcard",
    description="The archive proxy's CORS allow-list (in the VM's user data) has no * in a production stack.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, config_schema=PRODUCTION_SCHEMA,
    validate=validate)
