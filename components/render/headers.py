"""The response headers every host of ours sends, in one place for CloudFront, Front Door and the sandbox's nginx.

COOP + COEP make the viewer's page cross-origin isolated: a page that shows patient data shares its process
with no other site's documents, and no window it opens keeps a handle on it. (Before OHIF 3.9, MPR also
needed the SharedArrayBuffer that isolation brings: OHIF issues #3033, #2897; since 3.9 it does not.) With
COEP `require-corp`, every cross-origin subresource must carry CORP or CORS, which is why the DICOMweb proxy
and our file hosts send `Cross-Origin-Resource-Policy: cross-origin`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

HSTS_MAX_AGE = 63072000  # two years, as hstspreload.org asks
TRANSPORT = {
    "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE}; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    # Study UIDs travel in viewer URLs; keep them out of Referer headers sent elsewhere.
    "Referrer-Policy": "no-referrer",
}
FRAME_ANCESTORS = "Content-Security-Policy"


def viewer_headers(frame_ancestors: Sequence[str] = ()) -> dict[str, str]:
    """The viewer's headers: framed by nothing but itself, or also by `frame_ancestors` (the embedded recipe).

    A framed viewer names its hosts in CSP `frame-ancestors`; X-Frame-Options cannot list origins, and a
    browser ignores it beside `frame-ancestors` anyway. Its documents then carry CORP `cross-origin`, without
    which a cross-origin isolated host (COEP `require-corp`) may not load them in its iframe.
    """
    isolation = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
    if not frame_ancestors:
        return {**isolation, "Cross-Origin-Resource-Policy": "same-origin", **TRANSPORT,
                "X-Frame-Options": "SAMEORIGIN"}
    return {**isolation, "Cross-Origin-Resource-Policy": "cross-origin", **TRANSPORT,
            FRAME_ANCESTORS: "frame-ancestors " + " ".join(("'self'", *frame_ancestors))}


VIEWER_HEADERS = viewer_headers()
# Files other origins load (the packaged script, studies on their own origin): CORS says who may read them.
FILE_HEADERS = {"Cross-Origin-Resource-Policy": "cross-origin", **TRANSPORT}

_SPA_FALLBACK = Path(__file__).with_name("spa_fallback.js")
_CORS_PREFLIGHT = Path(__file__).with_name("cors_preflight.js")
# What cors_preflight.js allows, for the CDN's CORS response headers to say the same.
FILE_CORS_METHODS = ("GET", "HEAD")
FILE_CORS_HEADERS = ("Accept",)


def spa_fallback_function(base_path: str) -> str:
    """The SPA fallback's JavaScript for a viewer served under `base_path`."""
    code = _SPA_FALLBACK.read_text()
    return code.replace("var BASE_PATH = '/';", f"var BASE_PATH = '{base_path}';")


def cors_preflight_function(allowed_origins: Sequence[str]) -> str:
    """The CORS preflight function's JavaScript for files that `allowed_origins` may read."""
    code = _CORS_PREFLIGHT.read_text()
    for line, value in (("var ALLOWED_ORIGINS = [];", list(allowed_origins)),
                        ("var ALLOWED_METHODS = 'GET, HEAD';", ", ".join(FILE_CORS_METHODS)),
                        ("var ALLOWED_HEADERS = 'Accept';", ", ".join(FILE_CORS_HEADERS))):
        code = code.replace(line, f"{line.split(' = ')[0]} = {json.dumps(value)};")
    return code
