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

# The services' kinds, roots and ArchiveService are the settings' (settings/services.py), which import no component.
from settings.services import DICOM_SERVICE, HEALTHIMAGING


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
