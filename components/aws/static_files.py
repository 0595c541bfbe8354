"""StaticFiles on AWS: files served as they are from a private S3 bucket, on a CloudFront origin of their own.

    host page / viewer --HTTPS, CORS--> CloudFront --OAC (SigV4)--> S3 bucket (private, encrypted)
                        viewer request: CORS preflights answered at the edge (components/render/cors_preflight.js)
                        responses: CORS for the allowed origins, CORP, HSTS, nosniff (response headers policy)

For OHIF v2's packaged script and for a study set on its own origin. Files on a site's own origin go into
the site's bucket instead (AwsTarget.static_files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.object_sync import PublishedObjects
from components.aws.static_site import (
    CACHING_OPTIMIZED,
    origin_access_control,
    private_bucket,
    readable_only_by,
    response_headers_policy,
)
from components.render.headers import FILE_HEADERS, cors_preflight_function
from components.render.viewer_build import SiteFile
from components.sync import items_of

S3_ORIGIN = "files-bucket"


@dataclass
class StaticFilesArgs:
    files: Sequence[SiteFile]
    """What to serve, each with its Content-Type and Cache-Control."""
    allowed_origins: Sequence[pulumi.Input[str]]
    """The origins CORS lets read the files."""
    path: str = "/"
    """The URL path the files are served under; objects are stored under the same prefix."""
    price_class: str = "PriceClass_100"
    """Which CloudFront edge locations serve the files."""
    web_acl_id: pulumi.Input[str] | None = None
    """The WAF web ACL (its ARN) in front of the distribution: who may reach it, and how fast."""


class StaticFiles(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    origin: pulumi.Output[str]
    """https://<distribution>.cloudfront.net"""
    url: pulumi.Output[str]
    """The origin plus the path."""

    def __init__(self, name: str, args: StaticFilesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:StaticFiles", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket, access = private_bucket(name, child)
        oac = origin_access_control(name, "OHIF files bucket, read by CloudFront only", child)
        origins = pulumi.Output.all(*args.allowed_origins)
        preflight = aws.cloudfront.Function(
            f"{name}-cors-preflight", runtime="cloudfront-js-2.0", publish=True,
            comment="CORS preflights of the allowed origins get 204 at the edge",
            code=origins.apply(cors_preflight_function), opts=child)
        headers = response_headers_policy(name, "CORS and security headers for files other origins read",
                                          FILE_HEADERS, opts=child, cors_origins=origins)
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-cdn", enabled=True, comment="OHIF files", price_class=args.price_class,
            http_version="http2and3", is_ipv6_enabled=True,
            origins=[aws.cloudfront.DistributionOriginArgs(
                origin_id=S3_ORIGIN, domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=oac.id)],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=S3_ORIGIN, viewer_protocol_policy="redirect-to-https",
                # OPTIONS reaches the viewer-request function, which answers it; S3 never sees one.
                allowed_methods=["GET", "HEAD", "OPTIONS"], cached_methods=["GET", "HEAD"], compress=True,
                cache_policy_id=CACHING_OPTIMIZED, response_headers_policy_id=headers.id,
                function_associations=[aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                    event_type="viewer-request", function_arn=preflight.arn)]),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
            web_acl_id=args.web_acl_id, opts=child)
        readable_only_by(name, self.bucket, self.distribution, access, self)
        # One resource for the whole set, however many files (components/sync).
        PublishedObjects(f"{name}-files", self.bucket.bucket, args.path, items_of(args.files, args.path),
                         opts=child)

        self.bucket_name = self.bucket.bucket
        self.distribution_id = self.distribution.id
        self.origin = pulumi.Output.concat("https://", self.distribution.domain_name)
        self.url = pulumi.Output.concat(self.origin, args.path)
        self.register_outputs({"bucket_name": self.bucket_name, "distribution_id": self.distribution_id,
                               "origin": self.origin, "url": self.url})
