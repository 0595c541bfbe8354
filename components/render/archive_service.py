"""A cloud DICOM service as the archive: AWS HealthImaging or Azure's DICOM service, behind our proxy.

    browser --(realm token, or none)--> proxy --(the VM's cloud credential)--> HealthImaging / DICOM service

The proxy reaches the service with its VM's own identity (components/render/archive_credentials.js): SigV4 with the
instance role's credentials from IMDSv2 on AWS, the managed identity's bearer token on Azure. The browser never
holds a cloud credential, and the user's token is never forwarded.

What each service answers differs from an Orthanc's; the viewer's data-source settings for each come from one table
here (DATA_SOURCES), with the sources they were read from (the README lists them).
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHIMAGING = "healthimaging"
DICOM_SERVICE = "dicom-service"
KINDS = (HEALTHIMAGING, DICOM_SERVICE)

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


@dataclass(frozen=True)
class ArchiveCredentialFiles:
    """Where a host keeps the credential: the target's choice."""

    module_path: str
    """Where archive_credentials.js lies on the proxy host."""
    credentials_file: str
    """The credential, shared by nginx's workers, in a directory only the nginx user may enter."""
    metadata_url: str
    """The instance metadata endpoint (the sandbox: its stand-in)."""


INSTANCE_METADATA_URL = "http://169.254.169.254"
"""The instance metadata endpoint on both clouds, which only the VM itself reaches."""

# The viewer's data-source settings per archive (OHIF's dicomweb data source). Each value is what that archive
# answers, read from its documentation, or from the service's own OHIF sample where the documentation is silent:
#   dicomweb: Orthanc, dcm4chee and other archives behind the proxy (default attributes, no includefield);
#   healthimaging: docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-search.html (wildcards `*` `?`;
#     fuzzy matching prefix-words of names only), dicomweb-retrieve.html (series and instance metadata, no study
#     metadata or rendered images: lazy study load), supported-transfer-syntaxes.html (HTJ2K stored);
#     aws-samples/aws-healthimaging-samples AHI-OIDC-OHIF-installer (no includefield, bulk data single part);
#   dicom-service: learn.microsoft.com/azure/healthcare-apis/dicom/dicom-services-conformance-statement-v2
#     (includefield, fuzzymatching; `*` is not documented: microsoft/dicom-server#1114 asks for it; transcoding to
#     explicit little endian or JPEG 2000 only; rendered JPEG), OHIF/Viewers platform/docs/docs/deployment/azure.md.
DATA_SOURCES: dict[str, dict] = {
    "dicomweb": {
        "qidoSupportsIncludeField": False,
        "imageRendering": "wadors",
        "thumbnailRendering": "wadors",
        "enableStudyLazyLoad": True,
        "supportsFuzzyMatching": False,
        "supportsWildcard": True,
        "omitQuotationForMultipartRequest": True,
        "bulkDataURI": {"enabled": True},
    },
    HEALTHIMAGING: {
        "qidoSupportsIncludeField": False,
        "imageRendering": "wadors",
        "thumbnailRendering": "wadors",
        "enableStudyLazyLoad": True,
        "supportsFuzzyMatching": False,
        "supportsWildcard": True,
        "omitQuotationForMultipartRequest": True,
        # OHIF's default Accept (`transfer-syntax=*`) gets explicit little endian. An HTJ2K `acceptHeader` would
        # carry a fifth of the bytes, but OHIF 3.13 sends it on metadata requests too, which AWS's sample has to
        # patch out of the build: not set.
        "singlepart": "bulkdata,video",
        "bulkDataURI": {"enabled": True},
    },
    DICOM_SERVICE: {
        "qidoSupportsIncludeField": True,
        "imageRendering": "wadors",
        "thumbnailRendering": "wadors",
        "enableStudyLazyLoad": True,
        "supportsFuzzyMatching": True,
        "supportsWildcard": False,
        "omitQuotationForMultipartRequest": True,
        "singlepart": "bulkdata,pdf,video",
        "bulkDataURI": {"enabled": True},
    },
}
