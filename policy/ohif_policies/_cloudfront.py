"""CloudFront distribution props, as several rules read them."""

from __future__ import annotations

from typing import Any, Iterator

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def behaviors(props: Any) -> Iterator[dict]:
    if props.get("defaultCacheBehavior"):
        yield props["defaultCacheBehavior"]
    yield from props.get("orderedCacheBehaviors") or []


def is_s3_origin(origin: dict) -> bool:
    domain = origin.get("domainName") or ""
    return bool(origin.get("s3OriginConfig")) or (".s3." in domain and domain.endswith(".amazonaws.com"))
