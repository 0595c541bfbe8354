"""EC2 as several rules read it: the cloud-init of an instance, or of a launch template (an Auto Scaling group's
instances), whose user data is base64 (and gzip-compressed, as components/aws/origin_vm.py packs it)."""

from __future__ import annotations

import base64
import binascii
import gzip
from typing import Any

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"
GZIP_MAGIC = b"\x1f\x8b"


def user_data(args: Any) -> str | None:
    """The cloud-init of an instance or a launch template; None for anything else, "" where it is unknown."""
    if args.resource_type == INSTANCE:
        return args.props.get("userData") or _unpacked(args.props.get("userDataBase64"))
    if args.resource_type == LAUNCH_TEMPLATE:
        return _unpacked(args.props.get("userData"))
    return None


def _unpacked(encoded: Any) -> str:
    """Base64 user data, gzip-compressed or not (cloud-init reads both); "" where it cannot be read."""
    try:
        data = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        return (gzip.decompress(data) if data[:2] == GZIP_MAGIC else data).decode()
    except (binascii.Error, OSError, EOFError, UnicodeDecodeError):
        return ""


def kind(args: Any) -> str:
    return "Instance" if args.resource_type == INSTANCE else "LaunchTemplate"
