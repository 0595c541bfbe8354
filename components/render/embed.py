"""What the embedded recipe hands a host application: the viewer in an iframe, or OHIF v2's packaged script.

iframe (OHIF v3's way; platform/docs/docs/deployment/iframe.md): the v3 viewer on its own origin, which
names the host origins in CSP frame-ancestors (components/render/headers.py).

script (the v2 line, `@ohif/viewer` 4.12.51, its last release): `index.umd.js` defines
`window.OHIFViewer.installViewer(config, containerId)` and draws into the host's own page. Its
`window.config` has v2's shape (`servers.dicomWeb`, no `dataSources`) and its router lives under the
host page's path. v3 deprecated this way of embedding; it is here for host applications built on it.
"""

from __future__ import annotations

import html
import json

from components.render.viewer_build import REPO, SiteFile, dicomweb_server, fetch_package, stored_files

SCRIPT_LOCK_FILE = REPO / "viewer" / "ohif-viewer.lock.json"
SCRIPT = "index.umd.js"
SCRIPT_CONFIG = "app-config.js"
CONTAINER_ID = "ohif-viewer"
# What a host page sends to keep the framed viewer cross-origin isolated: the browser isolates a frame only
# inside an isolated top-level page, and only with allow="cross-origin-isolated". OHIF 3.9+ runs without it
# (tests/sandbox/test_embedded.py draws MPR in a plain host); isolation keeps other sites out of its process.
HOST_ISOLATION_HEADERS = {"Cross-Origin-Opener-Policy": "same-origin",
                          "Cross-Origin-Embedder-Policy": "require-corp"}
# Permissions the viewer uses inside a frame: full screen, copying measurements, isolation when the host has it.
IFRAME_ALLOW = "fullscreen; clipboard-write; cross-origin-isolated"


def iframe_snippet(viewer_url: str) -> str:
    return (f'<iframe src="{html.escape(viewer_url)}" title="OHIF Viewer" allow="{IFRAME_ALLOW}" '
            'style="width: 100%; height: 800px; border: 0"></iframe>')


def host_page_headers() -> str:
    """The iframe's host needs nothing to show the viewer; these headers keep it cross-origin isolated."""
    return "\n".join(f"{name}: {value}" for name, value in HOST_ISOLATION_HEADERS.items())


def script_snippet(files_url: str) -> str:
    """The v2 viewer in a host page: a container, the rendered config, the script, and the call."""
    base = html.escape(files_url)
    return (f'<div id="{CONTAINER_ID}" style="width: 100%; height: 800px"></div>\n'
            f'<script src="{base}{SCRIPT_CONFIG}" crossorigin></script>\n'
            f'<script src="{base}{SCRIPT}" crossorigin></script>\n'
            f"<script>OHIFViewer.installViewer(window.config, '{CONTAINER_ID}');</script>")


def render_script_config(*, dicomweb_url: str, router_basename: str) -> str:
    """v2's `window.config` for one DICOMweb server, with the same server settings as v3's app-config.js."""
    config = {
        "routerBasename": router_basename.rstrip("/") or "/",
        "showStudyList": True,
        "extensions": [],
        "filterQueryParam": False,
        "servers": {"dicomWeb": [{"name": "DICOMweb archive", **dicomweb_server(dicomweb_url)}]},
    }
    return ("/** Rendered from the stack config by components/render/embed.py; do not edit. */\n"
            f"window.config = {json.dumps(config, indent=2)};\n")


def script_files() -> list[SiteFile]:
    """The pinned v2 package's script, checked against its lock file. Its `index.html` and `app-config.js`
    are the package's demo (the former loads a third-party polyfill service), so only the script is served."""
    path = fetch_package(SCRIPT_LOCK_FILE) / SCRIPT
    return stored_files([(SCRIPT, path)])
