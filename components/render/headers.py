"""The response headers every host of ours sends, in one place for CloudFront, Front Door and the sandbox's nginx.

COOP + COEP make the viewer's page cross-origin isolated: a page that shows patient data shares its process
with no other site's documents, and no window it opens keeps a handle on it. (Before OHIF 3.9, MPR also
needed the SharedArrayBuffer that isolation brings: OHIF issues #3033, #2897; since 3.9 it does not.) With
COEP `require-corp`, every cross-origin subresource must carry CORP or CORS, which is why the DICOMweb proxy
and our file hosts send `Cross-Origin-Resource-Policy: cross-origin`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from components.render.viewer_build import COMPRESSIBLE_TYPES, CONTENT_TYPES, ENCODINGS, ENTRY_FILES

HSTS_MAX_AGE = 63072000  # two years, as hstspreload.org asks
TRANSPORT = {
    "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE}; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    # Study UIDs travel in viewer URLs; keep them out of Referer headers sent elsewhere.
    "Referrer-Policy": "no-referrer",
}
FRAME_ANCESTORS = "Content-Security-Policy"
# The same URL is sent in several encodings (precompressed.js, and the CDN's own compression): a shared cache must
# keep them apart.
VARY_ENCODING = {"Vary": "Accept-Encoding"}


def viewer_headers(frame_ancestors: Sequence[str] = ()) -> dict[str, str]:
    """The viewer's headers: framed by nothing but itself, or also by `frame_ancestors` (the embedded recipe).

    A framed viewer names its hosts in CSP `frame-ancestors`; X-Frame-Options cannot list origins, and a
    browser ignores it beside `frame-ancestors` anyway. Its documents then carry CORP `cross-origin`, without
    which a cross-origin isolated host (COEP `require-corp`) may not load them in its iframe.
    """
    isolation = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
    if not frame_ancestors:
        return {**isolation, "Cross-Origin-Resource-Policy": "same-origin", **TRANSPORT,
                "X-Frame-Options": "SAMEORIGIN", **VARY_ENCODING}
    return {**isolation, "Cross-Origin-Resource-Policy": "cross-origin", **TRANSPORT,
            FRAME_ANCESTORS: "frame-ancestors " + " ".join(("'self'", *frame_ancestors)), **VARY_ENCODING}


VIEWER_HEADERS = viewer_headers()
# Files other origins load (the packaged script, studies on their own origin): CORS says who may read them.
# A CDN keeps one copy of a file whatever the request's Origin, and a browser may reuse a response fetched without
# CORS for a CORS request: they vary by Origin too.
FILE_HEADERS = {"Cross-Origin-Resource-Policy": "cross-origin", **TRANSPORT, "Vary": "Origin, Accept-Encoding"}

_SPA_FALLBACK = Path(__file__).with_name("spa_fallback.js")
_CORS_PREFLIGHT = Path(__file__).with_name("cors_preflight.js")
_PRECOMPRESSED = Path(__file__).with_name("precompressed.js")
# What cors_preflight.js allows, for the CDN's CORS response headers to say the same.
FILE_CORS_METHODS = ("GET", "HEAD")
FILE_CORS_HEADERS = ("Accept",)


def spa_fallback_function(base_path: str) -> str:
    """The viewer's viewer-request function: the SPA fallback for a viewer served under `base_path`, then the choice of
    a precompressed variant."""
    return _precompressed_code() + _set(_SPA_FALLBACK.read_text(), {"BASE_PATH": "/"}, {"BASE_PATH": base_path})


def cors_preflight_function(allowed_origins: Sequence[str]) -> str:
    """The viewer-request function of files that `allowed_origins` may read: preflights answered, other requests sent
    to a precompressed variant."""
    return _precompressed_code() + _set(
        _CORS_PREFLIGHT.read_text(),
        {"ALLOWED_ORIGINS": [], "ALLOWED_METHODS": "GET, HEAD", "ALLOWED_HEADERS": "Accept"},
        {"ALLOWED_ORIGINS": list(allowed_origins), "ALLOWED_METHODS": ", ".join(FILE_CORS_METHODS),
         "ALLOWED_HEADERS": ", ".join(FILE_CORS_HEADERS)})


def _precompressed_code() -> str:
    """precompressed.js with what components/render/viewer_build.py stores: which files have variants, and where."""
    extensions = sorted(ext for ext, t in CONTENT_TYPES.items() if t.split(";")[0] in COMPRESSIBLE_TYPES)
    return _set(_PRECOMPRESSED.read_text(), {"PRECOMPRESSED_EXTENSIONS": [], "ENTRY_FILES": [], "ENCODINGS": []},
                {"PRECOMPRESSED_EXTENSIONS": extensions, "ENTRY_FILES": list(ENTRY_FILES),
                 "ENCODINGS": [[encoding, prefix] for encoding, prefix in ENCODINGS.items()]})


def _set(code: str, placeholders: dict, values: dict) -> str:
    """`code` with each `var NAME = <placeholder>;` line given its value, failing loudly if a line is missing."""
    for name, placeholder in placeholders.items():
        line = f"var {name} = {json.dumps(placeholder).replace(chr(34), chr(39))};"
        if line not in code:
            raise ValueError(f"{line!r} is missing from the function's code")
        code = code.replace(line, f"var {name} = {json.dumps(values[name])};")
    return code
