"""Recipe `standalone`: the viewer on a CDN, in front of your DICOMweb archive.

    browser --HTTPS--> CloudFront (StaticSite) --OAC--> S3: the OHIF build + app-config.js
       |                   +-- /dicom-web/* --> ArchiveProxy VM --> your archive      (same-origin)
       +--HTTPS--> CloudFront (ArchiveProxy) --> ArchiveProxy VM --> your archive     (cross-origin, CORS)
       +--HTTPS--> your existing DICOMweb URL                                         (no proxy)

Fork here: this file is the whole composition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.archive_proxy_nginx import DICOMWEB_PATH
from components.aws.archive_proxy import ArchiveProxy, ArchiveProxyArgs
from components.aws.static_site import StaticSite, StaticSiteArgs
from components.viewer_build import CACHE, fetch_build, prepare_site, render_app_config
from settings import StackSettings


@dataclass
class Outputs:
    viewer_url: pulumi.Output[str]
    dicomweb_url: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    bucket_name: pulumi.Output[str]


def deploy(settings: StackSettings) -> Outputs:
    viewer, archive = settings.viewer, settings.archive
    files = prepare_site(fetch_build(), CACHE / "site" / pulumi.get_stack(), app_config=None,
                         base_path=viewer.base_path, include_source_maps=viewer.include_source_maps)
    site_args = StaticSiteArgs(files=files, base_path=viewer.base_path, domain=viewer.domain,
                               certificate_arn=viewer.certificate_arn, price_class=viewer.price_class)

    if not archive.uses_proxy:
        site = StaticSite("viewer", site_args)
        dicomweb_url = pulumi.Output.from_input(archive.dicomweb_url.rstrip("/"))
    elif archive.topology == "same-origin":
        proxy = ArchiveProxy("archive", ArchiveProxyArgs(
            upstream_url=archive.upstream_url, same_origin=True, enable_stow=archive.enable_stow,
            instance_type=archive.instance_type))
        site_args.archive = proxy
        site = StaticSite("viewer", site_args)
        dicomweb_url = pulumi.Output.concat(site.viewer_origin, DICOMWEB_PATH)
    else:
        site = StaticSite("viewer", site_args)
        proxy = ArchiveProxy("archive", ArchiveProxyArgs(
            upstream_url=archive.upstream_url, same_origin=False, enable_stow=archive.enable_stow,
            instance_type=archive.instance_type, price_class=viewer.price_class,
            allowed_origins=pulumi.Output.all(site.viewer_origin, *archive.allowed_origins)))
        dicomweb_url = proxy.dicomweb_url

    site.publish_app_config(dicomweb_url.apply(
        lambda url: render_app_config(dicomweb_url=url, base_path=viewer.base_path)))
    return Outputs(viewer_url=site.viewer_url, dicomweb_url=dicomweb_url,
                   distribution_id=site.distribution_id, bucket_name=site.bucket_name)
