"""Recipe `embedded`: the viewer inside a web application of another origin (the host).

    host page (https://portal…)
       +-- <iframe> --HTTPS--> static site (CDN + private storage): the v3 viewer, framed only by the hosts
       |                          (CSP frame-ancestors), reaching the archive as in standalone
       +-- <script> --HTTPS--> files (CDN + private storage, CORS for the hosts): OHIF v2's index.umd.js and
                                  its app-config.js; the viewer runs in the host's page and calls the
                                  DICOMweb proxy at its own URL, with CORS for the hosts

`embed.modes` picks iframe (v3, the maintained way), script (v2, its last release), or both.

Fork here: this file is the whole composition, and it runs wherever the stack says: AWS, Azure, or
this machine (`python -m sandbox up`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.render.embed import (
    SCRIPT_CONFIG,
    host_page_headers,
    iframe_snippet,
    render_script_config,
    script_files,
    script_snippet,
)
from components.target import FilesSpec, SiteSpec, Target
from recipes import standalone
from settings import StackSettings


@dataclass
class Outputs:
    dicomweb_url: pulumi.Output[str]
    viewer_url: pulumi.Output[str] | None = None
    iframe_snippet: pulumi.Output[str] | None = None
    """The element to paste into the host page."""
    host_page_headers: pulumi.Output[str] | None = None
    """What the host page may send to keep the framed viewer cross-origin isolated."""
    script_url: pulumi.Output[str] | None = None
    script_snippet: pulumi.Output[str] | None = None
    """The container, scripts and `OHIFViewer.installViewer` call to paste into the host page."""


def deploy(target: Target, settings: StackSettings) -> Outputs:
    embed, viewer = settings.embed, settings.viewer
    site = None
    if "iframe" in embed.modes:
        site = target.static_site("viewer", SiteSpec(
            base_path=viewer.base_path, domain=viewer.domain, include_source_maps=viewer.include_source_maps,
            frame_ancestors=embed.host_origins))
    # The viewer calls the archive from where it runs: its own site (iframe), the host pages (script).
    callers = ([site.origin] if site else []) + (list(embed.host_origins) if "script" in embed.modes else [])
    dicomweb_url = standalone.archive_path(target, settings, site, callers=callers)
    outputs = Outputs(dicomweb_url=dicomweb_url)
    if site:
        standalone.publish_app_config(target, settings, site, dicomweb_url)
        outputs.viewer_url, outputs.host_page_headers = site.url, pulumi.Output.from_input(host_page_headers())
        outputs.iframe_snippet = site.url.apply(iframe_snippet)
    if "script" in embed.modes:
        script = target.static_files("script", FilesSpec(files=script_files(), allowed_origins=embed.host_origins))
        target.publish(script, SCRIPT_CONFIG, dicomweb_url.apply(
            lambda url: render_script_config(dicomweb_url=url, router_basename=embed.host_page_path)))
        outputs.script_url, outputs.script_snippet = script.url, script.url.apply(script_snippet)
    return outputs
