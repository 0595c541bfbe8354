"""PublishedObjects: a large set of files in an S3 bucket as one Pulumi resource (components/sync), synced with boto3.

It uses the credentials pulumi-aws uses (the environment, the profile, an assumed role) and the stack's region.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from components import sync

TYPE_HINT = "ohif:aws:PublishedObjects"
DELETE_BATCH = 1000  # S3's DeleteObjects takes at most 1,000 keys


class S3Store:
    def __init__(self, bucket: str, region: str | None) -> None:
        # Imported where the engine runs the provider, which has the program's environment.
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.s3 = boto3.session.Session(region_name=region).client(
            "s3", config=Config(max_pool_connections=sync.WORKERS))

    def put(self, item: sync.SyncItem) -> None:
        extra = {"ContentType": item.content_type, "CacheControl": item.cache_control}
        if item.content_encoding:
            extra["ContentEncoding"] = item.content_encoding
        with open(item.path, "rb") as body:
            self.s3.put_object(Bucket=self.bucket, Key=item.key, Body=body, **extra)

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start:start + DELETE_BATCH]
            answer = self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in batch], "Quiet": True})
            if answer.get("Errors"):
                raise RuntimeError(f"S3 refused to delete {answer['Errors'][:3]}")


class _Provider(sync.SyncProvider):
    location = ("bucket", "region")

    def store(self, props: dict[str, Any]) -> S3Store:
        return S3Store(props["bucket"], props.get("region"))


class PublishedObjects(dynamic.Resource):
    """`items` (components/sync.items_of) in `bucket`, as one resource."""

    def __init__(self, name: str, bucket: pulumi.Input[str], prefix: str, items: Sequence[sync.SyncItem],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        region = pulumi.Config("aws").get("region")
        super().__init__(_Provider(), name, {"bucket": bucket, "prefix": prefix, "region": region,
                                             "items": sync.as_inputs(items)}, opts)
