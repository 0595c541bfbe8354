"""The response headers every viewer host sends, in one place for CloudFront and the sandbox's nginx.

COOP + COEP make the page cross-origin isolated, which OHIF needs for SharedArrayBuffer (MPR and
3D volumes; OHIF issues #3033, #2897). With COEP `require-corp`, every cross-origin subresource must
carry CORP or CORS, which is why the DICOMweb proxy sends `Cross-Origin-Resource-Policy: cross-origin`.
"""

from pathlib import Path

ISOLATION = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS_MAX_AGE = 63072000  # two years, as hstspreload.org asks
SECURITY = {
    "Strict-Transport-Security": f"max-age={HSTS_MAX_AGE}; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    # Study UIDs travel in viewer URLs; keep them out of Referer headers sent elsewhere.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
}
VIEWER_HEADERS = {**ISOLATION, **SECURITY}

_SPA_FALLBACK = Path(__file__).with_name("spa_fallback.js")


def spa_fallback_function(base_path: str) -> str:
    """The SPA fallback's JavaScript for a viewer served under `base_path`."""
    code = _SPA_FALLBACK.read_text()
    return code.replace("var BASE_PATH = '/';", f"var BASE_PATH = '{base_path}';")
