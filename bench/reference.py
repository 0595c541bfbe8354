"""The reference: OHIF's own "nginx + image archive" recipe (platform/app/.recipes/Nginx-Orthanc/config/nginx.conf in
OHIF/Viewers), rendered for this machine.

One nginx serves the same prepared build as ours, plain files only (the recipe has no precompressed variants), with
the recipe's settings: gzip at level 9 for text types, `no-store` on every file, COOP/COEP for cross-origin
isolation, and Orthanc proxied under /pacs/ on the same origin, with `expires 0`. It runs against the same Orthanc
as ours, so the archive's cost is the same on both sides.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from components.render.viewer_build import CONTENT_TYPES, fetch_build, prepare_site, render_app_config
from sandbox.nginx import nginx_service

PACS_PATH = "/pacs"


def _types() -> str:
    return "".join(f"        {t.split(';')[0]} {ext};\n" for ext, t in sorted(CONTENT_TYPES.items()))


def render_reference_conf(*, port: int, root: Path, orthanc_port: int) -> str:
    return f"""\
# OHIF's Nginx-Orthanc recipe, as bench/reference.py renders it.
server {{
    listen 127.0.0.1:{port};
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
def reference_site(run_dir: Path, port: int, *, orthanc_port: int) -> Iterator[str]:
    """The reference on `port` while the block runs; yields its viewer URL."""
    root = run_dir / "site"
    prepare_site(fetch_build(), root, base_path="/", app_config=render_app_config(
        base_path="/", dicomweb_url=f"http://127.0.0.1:{port}{PACS_PATH}/dicom-web"))
    conf = run_dir / "reference.conf"
    conf.write_text(render_reference_conf(port=port, root=root, orthanc_port=orthanc_port))
    url = f"http://127.0.0.1:{port}/"
    service = nginx_service(run_dir, [conf], ports=[port], ready_url=url)
    try:
        service.start()
        yield url
    finally:
        service.stop()
