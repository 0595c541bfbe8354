"""The cloud DICOM services an archive may be: AWS HealthImaging or Azure's DICOM service.

Data only, as the model is: the settings name a service, and the components that deploy or render its proxy
(components/render/archive_service.py) read the same `ArchiveService`.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHIMAGING = "healthimaging"
DICOM_SERVICE = "dicom-service"

HEALTHIMAGING_SIGNING_NAME = "medical-imaging"
"""SigV4's service name for HealthImaging (docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-search.html)."""
DICOM_SERVICE_AUDIENCE = "https://dicom.healthcareapis.azure.com"
"""The token audience of every Azure DICOM service
(learn.microsoft.com/azure/healthcare-apis/dicom/get-access-token)."""
DICOM_SERVICE_API = "v2"
"""The DICOM service's current API version, a required path segment (api-versioning-dicom-service)."""


def healthimaging_url(region: str, datastore_id: str) -> str:
    """A datastore's DICOMweb root (docs: dicomweb-retrieve-instance-frames)."""
    return f"https://dicom-medical-imaging.{region}.amazonaws.com/datastore/{datastore_id}/"


def dicom_service_url(workspace: str, service: str) -> str:
    """A DICOM service's DICOMweb root: https://<workspace>-<service>.dicom.azurehealthcareapis.com/v2/."""
    return f"https://{workspace}-{service}.dicom.azurehealthcareapis.com/{DICOM_SERVICE_API}/"


@dataclass(frozen=True)
class ArchiveAuth:
    """How the proxy proves itself to the archive: `sigv4` (region, service) or `bearer` (resource)."""

    scheme: str
    region: str = ""
    service: str = ""
    resource: str = ""


@dataclass(frozen=True)
class ArchiveService:
    """A cloud DICOM service the stack reads from; its `dicomweb_url` is what the proxy forwards to."""

    kind: str
    dicomweb_url: str
    region: str | None = None
    """HealthImaging: the datastore's region."""
    datastore_id: str | None = None
    """HealthImaging: the datastore."""
    workspace: str | None = None
    """Azure: the Health Data Services workspace."""
    name: str | None = None
    """Azure: the DICOM service in it."""
    resource_id: str | None = None
    """Azure: an existing DICOM service's resource ID (where its reader role is assigned); None: the recipe creates
    `workspace` and `name`."""

    @property
    def auth(self) -> ArchiveAuth:
        if self.kind == HEALTHIMAGING:
            return ArchiveAuth("sigv4", region=self.region, service=HEALTHIMAGING_SIGNING_NAME)
        return ArchiveAuth("bearer", resource=DICOM_SERVICE_AUDIENCE)
