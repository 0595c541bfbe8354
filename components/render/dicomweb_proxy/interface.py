"""What the DICOMweb proxy serves and refuses, as clients and the clouds see it: its paths, its request classes and
how each is cached, its limits, its error bodies and the headers our CDNs send it.

A leaf: it imports nothing of ours, so every renderer, target and test may import it.
"""

from __future__ import annotations

from typing import NamedTuple

# The UIDs, frame lists and bulk-data tags DICOMweb paths carry; nothing else gets through.
_STUDY = r"studies/[0-9.]+"
_SERIES = rf"{_STUDY}/series/[0-9.]+"
INSTANCE_UIDS = rf"{_SERIES}/instances/[0-9.]+"
"""An instance, named by its study, series and instance UIDs."""
# QIDO-RS searches and WADO-RS retrieves (PS3.18 §10.4, §10.6) at study, series and instance level, in three classes
# that are cached differently (READ_CLASSES):
# searches, never stored anywhere, so a new study shows at once;
SEARCH_PATH = rf"(studies|series|instances|{_STUDY}/(series|instances)|{_SERIES}/instances)"
# metadata, and whole studies and series, which gain instances while a study arrives: never stored by browsers (the
# archive gives no validator to revalidate a stored copy with, so it would only leave patient data on the
# workstation's disk), kept briefly by the proxy;
CHANGING_PATH = rf"(({_STUDY}|{_SERIES})(/(metadata|rendered|thumbnail))?|{INSTANCE_UIDS}/metadata)"
# an instance's data, named by its UID, which never changes: kept by the browser and the proxy.
INSTANCE_PATH = rf"({INSTANCE_UIDS}(/(rendered|thumbnail|frames/[0-9,]+(/rendered)?|bulk/[0-9A-Fa-f/]+))?)"
# STOW-RS stores (PS3.18 §10.5).
DICOMWEB_STORE_PATH = r"(studies(/[0-9.]+)?)"

DICOMWEB_PATH = "/dicom-web"
"""Where the proxy serves DICOMweb, on its own host or beside the viewer."""
HEALTH_PATH = "/healthz"
"""What a cloud balancer asks each proxy VM, on a port of its own: 200 while the archive answers."""
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
"""The header CloudFront sends with a generated secret; on Azure, Front Door's own X-Azure-FDID plays this part."""
FRONT_DOOR_ID_HEADER = "X-Azure-FDID"
"""The header Front Door sends with its profile's ID (learn.microsoft.com/azure/frontdoor/origin-security)."""
CORS_ALLOWED_HEADERS = "Accept, Authorization, Content-Type"
MAX_FRAMES = 64
"""Frames one request may ask for: OHIF asks for one at a time, and a long list multiplies the answer's size
(`frames/1,1,…` ×3500 made Orthanc send 116 MB for a few KB of URL)."""
MAX_URI = 8192
"""The longest request line the proxy takes: CloudFront's and Front Door's own limit on a URL."""
RETRY_AFTER_SECONDS = 5
# The proxy's cache of instance data and metadata, shared by every reader: with login on, a request reaches it only
# after its token check (auth_request runs in the access phase, the cache in the content phase).
CHANGING_CACHE_SECONDS = 30
"""How long the proxy keeps metadata: how stale a series still arriving may look to a second reader."""
INSTANCE_CACHE = "7d"
CACHE_MAX_SIZE = "2g"  # of the VMs' 10 GB encrypted disk
INSTANCE_CACHE_CONTROL = "private, max-age=31536000, immutable"
"""Browsers keep an instance's data; `private`: never a shared cache, login or not."""


class ReadClass(NamedTuple):
    """DICOMweb reads that are cached alike."""

    name: str
    path: str
    """The paths of the class, below DICOMWEB_PATH (a regex)."""
    proxy_cache: str | None
    """How long the proxy keeps a 200 (an nginx time), or None: never."""
    cache_control: str
    """What 200 responses tell browsers."""
    names_archive: bool
    """Its JSON answers carry URLs the archive built from its own root, which the proxy replaces with its own."""


READ_CLASSES = (
    ReadClass("search", SEARCH_PATH, None, "no-store", names_archive=True),
    ReadClass("changing", CHANGING_PATH, f"{CHANGING_CACHE_SECONDS}s", "no-store", names_archive=True),
    ReadClass("instance", INSTANCE_PATH, INSTANCE_CACHE, INSTANCE_CACHE_CONTROL, names_archive=False),
)
# The proxy's own error bodies: short JSON, never the archive's (Orthanc's carry its internals). 502 and 504
# (the archive down or silent) become 503 with Retry-After: the archive, not the request, is at fault.
ERRORS = {
    400: "bad request: not a DICOMweb read this proxy serves",
    401: "a valid token of the viewer realm is required",
    403: "forbidden",
    404: "not found: the proxy serves DICOMweb reads (QIDO-RS, WADO-RS) only",
    405: "method not allowed: GET, HEAD and OPTIONS only",
    413: "request too large",
    429: "too many requests from this address; try again in a minute",
    500: "the archive could not answer this request",
    501: "not implemented",
    503: "the archive is not reachable; try again shortly",
}
