"""Recipe `standalone`: the viewer on a CDN, in front of your DICOMweb archive.

    browser --HTTPS--> CloudFront (StaticSite) --OAC--> S3: the OHIF build + app-config.js
       |                   +-- /dicom-web/* --> ArchiveProxy VM --> your archive      (same-origin)
       +--HTTPS--> CloudFront (ArchiveProxy) --> ArchiveProxy VM --> your archive     (cross-origin, CORS)
       +--HTTPS--> your existing DICOMweb URL                                         (no proxy)

Fork here: this file is the whole composition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.archive_proxy_nginx import DICOMWEB_PATH, JwtAuth
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
    site, outputs = compose(settings)
    return outputs


def compose(settings: StackSettings, *, proxy_auth: pulumi.Input[JwtAuth] | None = None,
            oidc: pulumi.Input[dict] | None = None) -> tuple[StaticSite, Outputs]:
    """The viewer and the archive path; `proxy_auth` and `oidc` add login (recipe user-account-control)."""
    viewer, archive = settings.viewer, settings.archive
    files = prepare_site(fetch_build(), CACHE / "site" / pulumi.get_stack(), app_config=None,
                         base_path=viewer.base_path, include_source_maps=viewer.include_source_maps)
    site_args = StaticSiteArgs(files=files, base_path=viewer.base_path, domain=viewer.domain,
                               certificate_arn=viewer.certificate_arn, price_class=viewer.price_class)
    proxy_args = dict(upstream_url=archive.upstream_url, enable_stow=archive.enable_stow,
                      instance_type=archive.instance_type, price_class=viewer.price_class, auth=proxy_auth)

    if not archive.uses_proxy:
        site = StaticSite("viewer", site_args)
        dicomweb_url = pulumi.Output.from_input(archive.dicomweb_url.rstrip("/"))
    elif archive.topology == "same-origin":
        site_args.archive = ArchiveProxy("archive", ArchiveProxyArgs(same_origin=True, **proxy_args))
        site = StaticSite("viewer", site_args)
        dicomweb_url = pulumi.Output.concat(site.viewer_origin, DICOMWEB_PATH)
    else:
        site = StaticSite("viewer", site_args)
        proxy = ArchiveProxy("archive", ArchiveProxyArgs(
            same_origin=False, allowed_origins=pulumi.Output.all(site.viewer_origin, *archive.allowed_origins),
            **proxy_args))
        dicomweb_url = proxy.dicomweb_url

    site.publish_app_config(pulumi.Output.all(dicomweb_url, oidc).apply(
        lambda a: render_app_config(dicomweb_url=a[0], base_path=viewer.base_path, oidc=a[1])))
    return site, Outputs(viewer_url=site.viewer_url, dicomweb_url=dicomweb_url,
                         distribution_id=site.distribution_id, bucket_name=site.bucket_name)
