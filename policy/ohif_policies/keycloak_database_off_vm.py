"""keycloak-database-off-vm: in production, a provisioned Keycloak keeps its accounts off its own VM.

Users, their credentials and sessions, and realm changes made at run time live in Keycloak's database. On the VM's
own disk (a PostgreSQL at 127.0.0.1, or Keycloak's dev store) they die with the VM: a new image, another subnet, a
zone failure. Reported, for a VM whose cloud-init runs Keycloak: a --db-url to a loopback host, a dev store
(start-dev, --db=dev-file or dev-mem), or PostgreSQL installed beside it.
"""

from __future__ import annotations

import re
import shlex

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import VM, custom_data
from ._cloud_init import packages, written_files
from ._common import DOCS, PRODUCTION_SCHEMA, is_production
from ._ec2 import INSTANCE, user_data

UNIT = "/etc/systemd/system/keycloak.service"
LOOPBACK = re.compile(r"^jdbc:postgresql://(localhost|127\.[0-9.]+|\[::1\])[:/]")


def _cloud_init(args) -> str | None:
    if args.resource_type == INSTANCE:
        return user_data(args)
    return custom_data(args.props) if args.resource_type == VM else None


def _on_the_vm(cloud_init) -> str | None:
    unit = next((str(f.get("content")) for f in written_files(cloud_init) if f.get("path") == UNIT), None)
    if unit is None:
        return None
    words = shlex.split(unit.replace("\\\n", " "))
    url = next((w.split("=", 1)[1] for w in words if w.startswith("--db-url=")), "")
    if LOOPBACK.match(url):
        return f"--db-url to {url.split('//', 1)[1].split('/', 1)[0]}"
    if "start-dev" in words or any(w in ("--db=dev-file", "--db=dev-mem") for w in words):
        return "Keycloak's dev store"
    if "postgresql" in packages(cloud_init):
        return "PostgreSQL installed on the VM"
    return None


def validate(args, report_violation):
    if not is_production(args):
        return
    where = _on_the_vm(_cloud_init(args))
    if where:
        report_violation(f"{args.name} keeps Keycloak's accounts on the VM itself ({where}) in a production stack: "
                         f"they are lost when the VM is replaced. Use the cloud's managed PostgreSQL "
                         f"(components/aws/database.py, components/azure/database.py) or auth.keycloak_database_url. "
                         f"See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="keycloak-database-off-vm",
    description="In production, a provisioned Keycloak's database is not on its own VM.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate,
    config_schema=PRODUCTION_SCHEMA)
