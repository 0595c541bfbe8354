"""StaticSite on AWS: the viewer build in a private S3 bucket, served only by CloudFront.

    browser --HTTPS--> CloudFront --OAC (SigV4)--> S3 bucket (private, encrypted)
                        |  viewer request: the SPA fallback function, then the precompressed variant
                        |  responses: COOP/COEP/CORP, HSTS, nosniff (response headers policy)
                        +-- routes, such as /dicom-web/* --> a DicomwebProxy VM (same-origin topology)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.origin_vm import SECRET_ORIGINS, OriginRoute
from components.render.headers import (
    FILE_CORS_HEADERS,
    FILE_CORS_METHODS,
    FRAME_ANCESTORS,
    HSTS_MAX_AGE,
    spa_fallback_function,
    viewer_headers,
)
from components.render.viewer_build import SiteFile, object_key

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy
S3_ORIGIN = "viewer-bucket"


@dataclass
class StaticSiteArgs:
    files: Sequence[SiteFile]
    """The prepared viewer build (components.render.viewer_build.prepare_site), app-config.js aside."""
    base_path: str = "/"
    """The path the viewer is served under; objects are stored under the same prefix."""
    domain: str | None = None
    """A custom domain; None serves on the distribution's cloudfront.net name."""
    certificate_arn: str | None = None
    """The ACM certificate for `domain`, in us-east-1."""
    price_class: str = "PriceClass_100"
    """Which CloudFront edge locations serve the viewer."""
    routes: pulumi.Input[Sequence[OriginRoute]] = ()
    """Origins served from this distribution at their path patterns, such as a DicomwebProxy at /dicom-web/*."""
    frame_ancestors: Sequence[str] = ()
    """Origins that may frame the viewer besides its own."""
    web_acl_id: pulumi.Input[str] | None = None
    """The WAF web ACL (its ARN) in front of the distribution: who may reach it, and how fast."""


class StaticSite(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    viewer_origin: pulumi.Output[str]
    """https://<domain>, what CORS allow-lists and the realm's redirect URIs name."""
    viewer_url: pulumi.Output[str]
    """The viewer's start page: the origin plus the base path."""

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:StaticSite", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket, access = private_bucket(name, child)
        oac = origin_access_control(name, "OHIF viewer bucket, read by CloudFront only", child)
        spa = aws.cloudfront.Function(
            f"{name}-spa-fallback", runtime="cloudfront-js-2.0", publish=True,
            comment="Routes of the viewer get index.html; files are served as they are",
            code=spa_fallback_function(args.base_path), opts=child)
        headers = response_headers_policy(name, "Cross-origin isolation and security headers for the OHIF viewer",
                                          viewer_headers(args.frame_ancestors), opts=child)

        s3_origin = aws.cloudfront.DistributionOriginArgs(
            origin_id=S3_ORIGIN, domain_name=self.bucket.bucket_regional_domain_name, origin_access_control_id=oac.id)
        routes = pulumi.Output.from_input(args.routes)
        if args.domain:
            certificate = aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021")
        else:
            certificate = aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
        self.distribution = aws.cloudfront.Distribution(
            f"{name}-cdn", enabled=True, comment="OHIF Viewer", price_class=args.price_class,
            http_version="http2and3", is_ipv6_enabled=True, aliases=[args.domain] if args.domain else [],
            default_root_object="index.html", origins=routes.apply(lambda rs: [s3_origin, *(r.origin() for r in rs)]),
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=S3_ORIGIN, viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"], cached_methods=["GET", "HEAD"], compress=True,
                cache_policy_id=CACHING_OPTIMIZED, response_headers_policy_id=headers.id,
                function_associations=[aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                    event_type="viewer-request", function_arn=spa.arn)]),
            ordered_cache_behaviors=routes.apply(lambda rs: [r.ordered_behavior() for r in rs]),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=certificate, web_acl_id=args.web_acl_id,
            # Routes carry origin secrets; which routes a site gets may be known only later (AwsTarget).
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=SECRET_ORIGINS))

        readable_only_by(name, self.bucket, self.distribution, access, self)
        upload(name, self.bucket, args.base_path, args.files, child)

        self.bucket_name = self.bucket.bucket
        self.distribution_id = self.distribution.id
        self.viewer_origin = pulumi.Output.concat("https://", args.domain or self.distribution.domain_name)
        self.viewer_url = pulumi.Output.concat(self.viewer_origin, args.base_path)
        self.register_outputs({"bucket_name": self.bucket_name, "distribution_id": self.distribution_id,
                               "viewer_origin": self.viewer_origin, "viewer_url": self.viewer_url})


def private_bucket(name: str, opts: pulumi.ResourceOptions) -> tuple[aws.s3.Bucket, aws.s3.BucketPublicAccessBlock]:
    """A bucket no one can make public, encrypted and versioned; and its public access block."""
    bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=True, opts=opts)
    access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership", bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption", bucket=bucket.id, rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.
                BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"),
                bucket_key_enabled=True)], opts=opts)
    # Versioning: a bad release is rolled back by restoring the previous objects.
    aws.s3.BucketVersioning(
        f"{name}-versioning", bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=opts)
    return bucket, access


def origin_access_control(name: str, description: str,
                          opts: pulumi.ResourceOptions) -> aws.cloudfront.OriginAccessControl:
    return aws.cloudfront.OriginAccessControl(
        f"{name}-oac", description=description,
        origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=opts)


def readable_only_by(name: str, bucket: aws.s3.Bucket, distribution: aws.cloudfront.Distribution,
                     access: aws.s3.BucketPublicAccessBlock, parent: pulumi.Resource) -> None:
    """Only this distribution may read the bucket's objects, and only over TLS."""
    aws.s3.BucketPolicy(
        f"{name}-policy", bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, distribution.arn).apply(lambda a: json.dumps(bucket_policy(a[0], a[1]))),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[access]))


def upload(name: str, bucket: aws.s3.Bucket, path: str, files: Sequence[SiteFile],
           opts: pulumi.ResourceOptions) -> None:
    """One object per file under `path`, and per precompressed variant under its encoding's prefix; a file's hash is
    all its object depends on."""
    for f in files:
        stored_object(f"{name}-{object_key('/', f)}", bucket, path, f, pulumi.FileAsset(str(f.path)), opts)


def stored_object(resource_name: str, bucket: aws.s3.Bucket, path: str, f: SiteFile,
                  source: pulumi.Input[pulumi.Asset], opts: pulumi.ResourceOptions) -> aws.s3.BucketObjectv2:
    """`f` stored where object_key says, with its Content-Type, Cache-Control and Content-Encoding: S3 returns them
    with the object, and CloudFront compresses nothing that has a Content-Encoding already."""
    return aws.s3.BucketObjectv2(
        resource_name, bucket=bucket.id, key=object_key(path, f), source=source, content_type=f.content_type,
        cache_control=f.cache_control, content_encoding=f.content_encoding, opts=opts)


# CloudFront takes these headers in the security headers config only, never as custom headers.
_SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
                     FRAME_ANCESTORS)


def response_headers_policy(name: str, comment: str, headers: dict[str, str], opts: pulumi.ResourceOptions,
                            cors_origins: pulumi.Input[Sequence[str]] | None = None
                            ) -> aws.cloudfront.ResponseHeadersPolicy:
    """A policy that sets `headers` (components/render/headers.py) on every response, overriding the origin's,
    and with `cors_origins` answers their requests with CORS (cors_preflight.js answers their preflights)."""
    security = aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
        strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
            access_control_max_age_sec=HSTS_MAX_AGE, include_subdomains=True, override=True),
        content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
            override=True),
        referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
            referrer_policy=headers["Referrer-Policy"], override=True),
        frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
            frame_option=headers["X-Frame-Options"], override=True) if "X-Frame-Options" in headers else None,
        content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
            content_security_policy=headers[FRAME_ANCESTORS], override=True) if FRAME_ANCESTORS in headers else None)
    cors = aws.cloudfront.ResponseHeadersPolicyCorsConfigArgs(
        access_control_allow_credentials=False,
        access_control_allow_headers=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowHeadersArgs(
            items=list(FILE_CORS_HEADERS)),
        access_control_allow_methods=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowMethodsArgs(
            items=list(FILE_CORS_METHODS)),
        access_control_allow_origins=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowOriginsArgs(
            items=cors_origins),
        access_control_max_age_sec=600, origin_override=True) if cors_origins is not None else None
    return aws.cloudfront.ResponseHeadersPolicy(
        f"{name}-headers", comment=comment, cors_config=cors, security_headers_config=security,
        custom_headers_config=aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigArgs(items=[
            aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigItemArgs(header=k, value=v, override=True)
            for k, v in headers.items() if k not in _SECURITY_HEADERS]),
        opts=opts)


def bucket_policy(bucket_arn: str, distribution_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CloudFrontReadsViaOAC", "Effect": "Allow",
             "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
             "Resource": f"{bucket_arn}/*", "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}},
            # Without ListBucket, S3 answers a missing key with 403; with it, a missing file is a real 404
            # (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
            # private-content-restricting-access-to-s3.html).
            {"Sid": "CloudFrontSeesMissingKeys", "Effect": "Allow",
             "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:ListBucket",
             "Resource": bucket_arn, "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }
