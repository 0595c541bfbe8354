"""Recipe `standalone`: the viewer on a CDN, in front of your DICOMweb archive.

    browser --HTTPS--> static site (CDN + private storage): the OHIF build + app-config.js
       |                   +-- /dicom-web/* --> DICOMweb proxy --> your archive      (same-origin)
       +--HTTPS--> DICOMweb proxy at its own URL, with CORS --> your archive         (cross-origin)
       +--HTTPS--> your existing DICOMweb URL                                        (no proxy)

    your archive: a DICOMweb server, or a cloud DICOM service (HealthImaging, Azure's DICOM service) that the
    proxy reads with its VM's own cloud identity

Fork here: this file is the whole composition, and it runs wherever the stack says: AWS, Azure, or
this machine (`python -m sandbox up`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pulumi

from components.render.dicomweb_proxy.token_check import TokenCheck
from components.render.viewer_build import APP_CONFIG, render_app_config
from components.target import ProxySpec, Site, SiteSpec, Target, same_origin_url
from settings import StackSettings


@dataclass
class Outputs:
    viewer_url: pulumi.Output[str]
    dicomweb_url: pulumi.Output[str]


def deploy(target: Target, settings: StackSettings) -> Outputs:
    site = viewer_site(target, settings)
    dicomweb_url = archive_path(target, settings, site)
    publish_app_config(target, settings, site, dicomweb_url)
    return Outputs(viewer_url=site.url, dicomweb_url=dicomweb_url)


def viewer_site(target: Target, settings: StackSettings) -> Site:
    viewer = settings.viewer
    return target.static_site("viewer", SiteSpec(base_path=viewer.base_path, domain=viewer.domain,
                                                 include_source_maps=viewer.include_source_maps))


def archive_path(target: Target, settings: StackSettings, site: Site | None,
                 token_check: pulumi.Input[TokenCheck] | None = None,
                 callers: Sequence[pulumi.Input[str]] | None = None) -> pulumi.Output[str]:
    """The DICOMweb root the viewer calls: the archive's own, or a proxy's (with the token check, if given):
    at `site`'s /dicom-web/ (same-origin), or at its own URL with CORS for the origins the viewer runs on
    (`callers`, by default the site's) and the archive's allowed_origins."""
    archive = settings.archive
    if not archive.uses_proxy:
        return pulumi.Output.from_input(archive.dicomweb_url.rstrip("/"))
    spec = ProxySpec(upstream_url=archive.proxied_url, enable_stow=archive.enable_stow, token_check=token_check,
                     share=settings.share, scale=archive.scale, archive_service=archive.service)
    if archive.topology == "same-origin":
        target.dicomweb_proxy("proxy", spec, on_site=site)
        return same_origin_url(site)
    callers = [site.origin] if callers is None else callers
    spec = replace(spec, allowed_origins=pulumi.Output.all(*callers, *archive.allowed_origins))
    return target.dicomweb_proxy("proxy", spec).url


def publish_app_config(target: Target, settings: StackSettings, site: Site, dicomweb_url: pulumi.Input[str],
                       oidc: pulumi.Input[dict] | None = None) -> None:
    base_path, kind = settings.viewer.base_path, settings.archive.kind
    target.publish(site, APP_CONFIG, pulumi.Output.all(dicomweb_url, oidc).apply(
        lambda a: render_app_config(base_path=base_path, dicomweb_url=a[0], oidc=a[1], archive_kind=kind,
                                    share_links=settings.share is not None)))
