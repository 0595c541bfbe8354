"""azure-dicom-role-scoped: a DICOM data role is assigned on one DICOM service, never wider.

The proxy's managed identity gets "DICOM Data Reader" (or "DICOM Data Owner" with STOW) on the stack's DICOM service
(components/azure/dicom_service.py). The same role on a workspace, a resource group or the subscription would let a
VM that is taken over read every DICOM service there. Reported: an assignment of either role whose scope is neither
a DICOM service of the stack nor an existing one's resource ID (…/workspaces/<w>/dicomservices/<s>).
"""

from __future__ import annotations

import re

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, resources_of

ASSIGNMENT = "azure-native:authorization:RoleAssignment"
DICOM_SERVICE = "azure-native:healthcareapis:DicomService"
# Built-in role definitions: DICOM Data Reader, DICOM Data Owner.
DICOM_ROLES = ("e89c7a3c-2f64-4fa1-a847-3e4c9ba4283a", "58a3b984-7adf-4c20-983a-32417c86fbc8")
ONE_SERVICE = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.HealthcareApis/"
                         r"workspaces/[^/]+/dicomservices/[^/]+$", re.I)


def validate(args, report_violation):
    services = {r.props.get("id") for r in resources_of(args, DICOM_SERVICE)}
    for assignment in resources_of(args, ASSIGNMENT):
        role, scope = str(assignment.props.get("roleDefinitionId", "")), assignment.props.get("scope")
        if not role.lower().endswith(DICOM_ROLES) or scope in services or ONE_SERVICE.match(str(scope)):
            continue
        report_violation(f"Role assignment {assignment.name} grants a DICOM data role on {scope}, wider than one "
                         f"DICOM service. Scope it to the service (components/azure/dicom_service.py). See {DOCS}",
                         assignment.urn)


POLICY = StackValidationPolicy(
    name="azure-dicom-role-scoped",
    description="DICOM Data Reader/Owner are assigned on one DICOM service, never a workspace, group or subscription.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
