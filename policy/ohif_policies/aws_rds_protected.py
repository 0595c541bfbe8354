"""aws-rds-protected: a database that holds users' accounts survives what it must.

Each RDS instance: encrypted storage, no public address, TLS required (its parameter group sets rds.force_ssl 1),
deletion protection, a final snapshot on delete, Pulumi's `protect`, and in production at least a week of automated
backups (point-in-time restore). Keycloak's users, credentials and sessions live there (components/aws/database.py).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, PRODUCTION_SCHEMA, get, resources_of
from ._database import report, shared_problems

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"


def _forces_tls(args, group_name) -> bool:
    return any(get(g.props, "name") == group_name and any(
        p.get("name") == "rds.force_ssl" and str(p.get("value")) == "1" for p in g.props.get("parameters") or [])
        for g in resources_of(args, PARAMETER_GROUP))


def validate(args, report_violation):
    for db in resources_of(args, INSTANCE):
        p, problems = db.props, []
        if not p.get("storageEncrypted"):
            problems.append("its storage is not encrypted (storageEncrypted)")
        if p.get("publiclyAccessible"):
            problems.append("it is publicly accessible")
        if not _forces_tls(args, p.get("parameterGroupName")):
            problems.append("its parameter group does not set rds.force_ssl 1 (TLS required)")
        if not p.get("deletionProtection"):
            problems.append("deletion protection is off")
        if p.get("skipFinalSnapshot"):
            problems.append("it skips the final snapshot on delete")
        problems += shared_problems(args, db, p.get("backupRetentionPeriod") or 0)
        report(report_violation, "RDS instance", db.name, db.urn, problems,
               f"Keep components/aws/database.py's settings. See {DOCS}")


POLICY = StackValidationPolicy(
    name="aws-rds-protected",
    description="RDS instances are encrypted, private, TLS-only, deletion-protected, protected in Pulumi, with a "
                "final snapshot and (in production) at least 7 days of backups.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate,
    config_schema=PRODUCTION_SCHEMA)
