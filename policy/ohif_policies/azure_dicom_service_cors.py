"""azure-dicom-service-cors: a DICOM service's CORS allows no wildcard origin.

The recipe's proxy calls the service server to server, so a service it creates has no CORS at all
(components/azure/dicom_service.py). OHIF's own Azure guide sets the origins, headers and methods to `*`, which lets
any web page a signed-in user visits read the service with their token. Reported: a DICOM service whose CORS origins
include `*` (empty, or named origins, pass).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS, get

DICOM_SERVICE = "azure-native:healthcareapis:DicomService"


def validate(args, report_violation):
    if args.resource_type != DICOM_SERVICE:
        return
    origins = get(args.props, "corsConfiguration", "origins", default=[]) or []
    if any("*" in str(o) for o in origins):
        report_violation(f"DICOM service {args.name} allows any origin by CORS ({', '.join(map(str, origins))}). "
                         f"Leave CORS empty: the proxy calls the service server to server. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-dicom-service-cors",
    description="DICOM services allow no wildcard CORS origin (none at all behind the proxy).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
