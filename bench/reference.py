"""The reference: OHIF's own "nginx + image archive" recipe (platform/app/.recipes/Nginx-Orthanc/config/nginx.conf in
OHIF/Viewers), rendered for this machine.

One nginx serves the same prepared build as ours, with the recipe's own app-config.js (its data source settings, at
this machine's URL), plain files only (the recipe has no precompressed variants), with
the recipe's settings: gzip at level 9 for text types, `no-store` on every file, COOP/COEP for cross-origin
isolation, and Orthanc proxied under /pacs/ on the same origin, with `expires 0`. It runs against the same Orthanc
as ours, so the archive's cost is the same on both sides.

The recipe listens on plain HTTP/1.1 and leaves TLS to whoever deploys it; no browser reaches a hospital's viewer
without it. So the reference gets TLS added and nothing else: the same certificate and TLS versions as ours,
HTTP/1.1 as the recipe's nginx speaks it. What then differs is the recipe's choices against ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from components.render.viewer_build import CONTENT_TYPES, fetch_build, prepare_site
from sandbox.nginx import nginx_service
from sandbox.tls import RunTls

PACS_PATH = "/pacs"


def _types() -> str:
    return "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))


def render_reference_app_config(dicomweb_url: str) -> str:
    """The recipe's app-config.js (docker_nginx-orthanc.js there): its DICOMweb source's settings, OHIF's defaults
    for everything it leaves out. Its other sources (dicomjson, dicomlocal) load nothing when a study is opened by
    URL, so they are left out."""
    config = {
        "routerBasename": "/", "showStudyList": True, "extensions": [], "modes": [],
        "showWarningMessageForCrossOrigin": True, "showCPUFallbackMessage": True, "showLoadingIndicator": True,
        "strictZSpacingForVolumeViewport": True, "defaultDataSourceName": "dicomweb",
        "dataSources": [{
            "namespace": "@ohif/extension-default.dataSourcesModule.dicomweb", "sourceName": "dicomweb",
            "configuration": {"friendlyName": "Orthanc Server", "name": "Orthanc", "wadoUriRoot": dicomweb_url,
                              "qidoRoot": dicomweb_url, "wadoRoot": dicomweb_url, "qidoSupportsIncludeField": False,
                              "imageRendering": "wadors", "thumbnailRendering": "wadors",
                              "omitQuotationForMultipartRequest": True},
        }],
    }
    return f"window.config = {json.dumps(config, indent=2)};\n"


def render_reference_conf(*, port: int, root: Path, orthanc_port: int) -> str:
    return f"""\
# OHIF's Nginx-Orthanc recipe, as bench/reference.py renders it.
server {{
    listen 127.0.0.1:{port} ssl;
    server_name _;
    root {root};
    gzip on;
    gzip_comp_level 9;
    gzip_types text/css application/javascript text/javascript application/json image/svg+xml;
    types {{
{_types()}    }}
    default_type application/octet-stream;

    location / {{
        try_files $uri $uri/ /index.html;
        add_header Cache-Control "no-store, no-cache, must-revalidate";
        add_header Cross-Origin-Opener-Policy same-origin;
        add_header Cross-Origin-Embedder-Policy require-corp;
    }}
    location {PACS_PATH}/ {{
        proxy_pass http://127.0.0.1:{orthanc_port}/;
        expires 0;
        add_header Cache-Control private;
    }}
}}
"""


@contextmanager
def reference_site(run_dir: Path, port: int, *, orthanc_port: int, tls: RunTls) -> Iterator[str]:
    """The reference on `port` while the block runs; yields its viewer URL."""
    root = run_dir / "site"
    prepare_site(fetch_build(), root, base_path="/", preload=False,
                 app_config=render_reference_app_config(f"https://127.0.0.1:{port}{PACS_PATH}/dicom-web"))
    conf = run_dir / "reference.conf"
    conf.write_text(render_reference_conf(port=port, root=root, orthanc_port=orthanc_port))
    url = f"https://127.0.0.1:{port}/"
    service = nginx_service(run_dir, [conf], ports=[port], ready_url=url, tls=tls)
    try:
        service.start()
        yield url
    finally:
        service.stop()
