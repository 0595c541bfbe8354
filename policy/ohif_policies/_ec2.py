"""EC2 as several rules read it: the cloud-init of an instance, or of a launch template (an Auto Scaling group's
instances), whose user data is base64."""

from __future__ import annotations

import base64
import binascii
from typing import Any

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"


def user_data(args: Any) -> str | None:
    """The cloud-init of an instance or a launch template; None for anything else, "" where it is unknown."""
    if args.resource_type == INSTANCE:
        return args.props.get("userData") or ""
    if args.resource_type == LAUNCH_TEMPLATE:
        encoded = args.props.get("userData")
        try:
            return base64.b64decode(encoded, validate=True).decode() if isinstance(encoded, str) else ""
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return None


def kind(args: Any) -> str:
    return "Instance" if args.resource_type == INSTANCE else "LaunchTemplate"
