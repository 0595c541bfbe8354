"""proxy-share-lifetime: in production, a share link lasts no longer than the organisation allows.

A share link reads a study without an account until it expires; its lifetime is the proxy's to enforce
(components/render/access.js). The proxy VM's cloud-init sets the default and the longest lifetime
(ohif:share.default_minutes, ohif:share.max_minutes) in its nginx config. Reported, on an EC2 instance or launch
template, an Azure VM or scale set: a longest lifetime over the pack's `share_max_minutes`, or a default over the
stack's own longest.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, Severity

from ._cloud_init import share_lifetimes, vm_cloud_init
from ._common import DOCS, PRODUCTION_SCHEMA, is_production

SHARE_MAX_MINUTES = 10080
"""Seven days: the pack's default ceiling, which an organisation sets with --policy-pack-config."""


def validate(args, report_violation):
    found = vm_cloud_init(args)
    if found is None or not is_production(args):
        return
    lifetimes = share_lifetimes(found[1])
    ceiling = int(args.get_config().get("share_max_minutes", SHARE_MAX_MINUTES))
    longest, default = lifetimes.get("max"), lifetimes.get("default")
    if longest is not None and longest > ceiling:
        report_violation(f"{found[0]} {args.name} lets share links last up to {longest} minutes in a production "
                         f"stack; this pack allows {ceiling} (policy config share_max_minutes). Lower "
                         f"ohif:share.max_minutes. See {DOCS}")
    elif default is not None and longest is not None and default > longest:
        report_violation(f"{found[0]} {args.name} gives share links {default} minutes by default, more than its own "
                         f"longest ({longest}). Lower ohif:share.default_minutes. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="proxy-share-lifetime",
    description="In production, share links last at most the pack's share_max_minutes, and by default no longer "
                "than the stack's own longest.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate,
    config_schema=PolicyConfigSchema(properties={
        **PRODUCTION_SCHEMA.properties,
        "share_max_minutes": {"type": "integer", "default": SHARE_MAX_MINUTES, "minimum": 5,
                              "description": "The longest a share link may last, in minutes."}}))
