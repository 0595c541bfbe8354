"""azure-postgres-protected: a database that holds users' accounts survives what it must.

Each Azure Database for PostgreSQL Flexible Server: no public network access (private access in a delegated
subnet), TLS required (require_secure_transport on), a CanNotDelete lock on it, Pulumi's `protect`, and in
production at least a week of automated backups (point-in-time restore). Its storage is always encrypted at rest.
Keycloak's users, credentials and sessions live there (components/azure/database.py).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, PRODUCTION_SCHEMA, get, resources_of
from ._database import report, shared_problems

SERVER = "azure-native:dbforpostgresql:Server"
CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
LOCK = "azure-native:authorization:ManagementLockByScope"


def validate(args, report_violation):
    for db in resources_of(args, SERVER):
        p, problems = db.props, []
        if get(p, "network", "publicNetworkAccess") != "Disabled" or not get(p, "network", "delegatedSubnetResourceId"):
            problems.append("it is not private (network: a delegated subnet, publicNetworkAccess Disabled)")
        if not any(c.props.get("serverName") == p.get("name") and c.props.get("configurationName") ==
                   "require_secure_transport" and str(c.props.get("value")).lower() == "on"
                   for c in resources_of(args, CONFIGURATION)):
            problems.append("it does not set require_secure_transport on (TLS required)")
        if not any(c.props.get("scope") == p.get("id") and c.props.get("level") == "CanNotDelete"
                   for c in resources_of(args, LOCK)):
            problems.append("no CanNotDelete lock protects it from deletion")
        problems += shared_problems(args, db, get(p, "backup", "backupRetentionDays", default=0))
        report(report_violation, "PostgreSQL server", db.name, db.urn, problems,
               f"Keep components/azure/database.py's settings. See {DOCS}")


POLICY = StackValidationPolicy(
    name="azure-postgres-protected",
    description="Flexible Servers are private, TLS-only, locked against deletion, protected in Pulumi, and (in "
                "production) keep at least 7 days of backups.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate,
    config_schema=PRODUCTION_SCHEMA)
