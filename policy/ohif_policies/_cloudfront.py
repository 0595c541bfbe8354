"""CloudFront distribution props, as several rules read them; and which distribution serves the viewer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ._common import get, resources_of

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
FUNCTION = "aws:cloudfront/function:Function"
BUCKET_OBJECTS = ("aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject")
PAGE = re.compile(r"\buri\s*=[^;]*\.html?\b", re.I)
"""A function's code that rewrites the URI to an HTML page (`request.uri = BASE_PATH + 'index.html'`); a mere
mention, such as the entry files precompressed.js lists, is not one."""


def is_page(name: Any) -> bool:
    """Whether an object key or a path names an HTML page."""
    return str(name or "").lower().endswith((".html", ".htm"))


def behaviors(props: Any) -> Iterator[dict]:
    if props.get("defaultCacheBehavior"):
        yield props["defaultCacheBehavior"]
    yield from props.get("orderedCacheBehaviors") or []


def is_s3_origin(origin: dict) -> bool:
    domain = origin.get("domainName") or ""
    return bool(origin.get("s3OriginConfig")) or (".s3." in domain and domain.endswith(".amazonaws.com"))


def default_origin(props: Any) -> dict:
    """The origin the default behaviour reads; {} where none matches."""
    target = get(props, "defaultCacheBehavior", "targetOriginId")
    return next((o for o in props.get("origins") or [] if o.get("originId") == target), {})


def serves_the_viewer(args: Any, distribution: Any) -> bool:
    """Whether the distribution serves the viewer: its default behaviour reads S3 and answers with an HTML page.

    A page is what makes a site the viewer and not a file host (OHIF v2's packaged script, studies on their
    own origin), which serves scripts, DICOM and JSON only. Any one of these says so, so that a fork
    dropping one does not hide the viewer:
    - `defaultRootObject` is a page (index.html): `/` answers with it;
    - a CloudFront Function on the default behaviour rewrites to a page: the SPA fallback
      (components/render/spa_fallback.js) rewrites the viewer's routes to index.html, which the CORS
      preflight function of a file host never does;
    - a custom error response answers with a page (the error-page fallback aws-cloudfront-spa-fallback warns of);
    - the bucket the default behaviour reads holds a page (a BucketObjectv2 whose key ends in .html).
    """
    props = distribution.props
    origin = default_origin(props)
    if not is_s3_origin(origin):
        return False
    if is_page(props.get("defaultRootObject")) or \
            any(is_page(e.get("responsePagePath")) for e in props.get("customErrorResponses") or []):
        return True
    arns = {a.get("functionArn") for a in get(props, "defaultCacheBehavior", "functionAssociations", default=[])}
    if any(PAGE.search(str(f.props.get("code") or "")) for f in resources_of(args, FUNCTION)
           if f.props.get("arn") in arns):
        return True
    bucket = str(origin.get("domainName") or "").split(".s3.", 1)[0]
    return any(o.props.get("bucket") == bucket and is_page(o.props.get("key"))
               for token in BUCKET_OBJECTS for o in resources_of(args, token))
