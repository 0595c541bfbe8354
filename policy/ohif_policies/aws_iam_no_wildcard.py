"""aws-iam-no-wildcard: a role's inline policy names its actions and resources.

The stack's roles are the VMs' instance roles: each reads its own secret, and the proxy's reads one HealthImaging
datastore (components/aws/vm_secrets.py, components/aws/healthimaging.py). A wildcard in an Allow statement's
action (`*`, `medical-imaging:*`, `medical-imaging:Get*`) or resource (`*`, `…:datastore/*`) would let a VM that is
taken over read, write or delete what the stack never meant it to. Reported: each such statement. One form is
allowed: the objects under one key prefix of one named bucket (`arn:aws:s3:::<bucket>/<prefix>/*`, as the proxy's
grant on the share store's `shares/` and `revoked/`), since S3 objects cannot be named one by one ahead of time and a
prefix is the narrowest grant there is.
"""

from __future__ import annotations

import json
import re

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS

POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
S3_KEY_PREFIX = re.compile(r"^arn:aws:s3:::[^*/]+/[^*/][^*]*/\*$")


def _statements(document) -> list[dict]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return []
    if not isinstance(document, dict):
        return []  # unknown in a preview
    statements = document.get("Statement") or []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _listed(value) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value] if value is not None else [])]


def validate(args, report_violation):
    if args.resource_type not in POLICY_TYPES:
        return
    for statement in _statements(args.props.get("policy")):
        if statement.get("Effect") != "Allow":
            continue
        wild = [f"action {a}" for a in _listed(statement.get("Action")) if "*" in a]
        wild += [f"resource {r}" for r in _listed(statement.get("Resource")) if "*" in r and not S3_KEY_PREFIX.match(r)]
        if "NotAction" in statement or "NotResource" in statement:
            wild.append("NotAction/NotResource (everything but a list)")
        if wild:
            report_violation(f"IAM policy {args.name} allows a wildcard ({', '.join(wild)}). Name each action and "
                             f"resource, as components/aws/healthimaging.py does for one datastore. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="aws-iam-no-wildcard",
    description="Inline IAM policies allow named actions on named resources: no wildcard.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
