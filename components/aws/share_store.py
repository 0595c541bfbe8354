"""ShareStore on AWS: the share links' records and revocations in a private S3 bucket of their own, which only the
proxy's role reads and writes (components/render/dicomweb_proxy/share_store.py).

    proxy VMs (their role) ──SigV4, HTTPS──> bucket: shares/<owner>/<id>, revoked/<id>
                                             (private, encrypted, TLS only, versioned, protected; objects expire
                                              after the longest link)

The sandbox runs the same policy (proxy_policy) in moto's S3 with IAM checks on (sandbox/share_store.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.static_site import private_bucket
from components.render.dicomweb_proxy.share_store import RECORD_DAYS, RECOVERY_DAYS, ShareStoreAt
from settings.services import ArchiveAuth


def proxy_policy(bucket_arn: str) -> dict:
    """What the proxy's role may do in the store: list it, read and write links' records and revocations; never
    delete (a revocation stays until it expires)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ListShares", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "ReadWriteShares", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": [f"{bucket_arn}/shares/*", f"{bucket_arn}/revoked/*"]},
    ]}


def tls_only_policy(bucket_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


@dataclass
class ShareStoreArgs:
    role_name: pulumi.Input[str]
    """The proxy VMs' role, the only one granted the store."""


class ShareStore(pulumi.ComponentResource):
    at: pulumi.Output[ShareStoreAt]
    """Where the proxy finds the store, and how it signs for it."""

    def __init__(self, name: str, args: ShareStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ohif:aws:ShareStore", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Revocations are the sharers' own decisions: lost, a revoked link would work again. `pulumi destroy` must not
        # take them; the bucket is versioned (private_bucket), so an overwritten object can be brought back for a week.
        bucket, access = private_bucket(f"{name}-shares", pulumi.ResourceOptions(parent=self, protect=True))
        aws.s3.BucketPolicy(f"{name}-shares-tls-only", bucket=bucket.id,
                            policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
                            opts=pulumi.ResourceOptions(parent=self, depends_on=[access]))
        aws.s3.BucketLifecycleConfiguration(f"{name}-shares-expiry", bucket=bucket.id, rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-after-the-longest-link", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=RECORD_DAYS),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=RECOVERY_DAYS))], opts=child)
        aws.iam.RolePolicy(f"{name}-shares-access", role=args.role_name,
                           policy=bucket.arn.apply(lambda arn: json.dumps(proxy_policy(arn))), opts=child)
        self.at = pulumi.Output.all(bucket.bucket, bucket.region).apply(lambda a: ShareStoreAt(
            url=f"https://{a[0]}.s3.{a[1]}.amazonaws.com", auth=ArchiveAuth("sigv4", region=a[1], service="s3")))
        self.register_outputs({"bucket": bucket.bucket})
