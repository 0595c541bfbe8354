"""aws-s3-no-public-access: viewer buckets are read by CloudFront alone, never by the public."""

from __future__ import annotations

import json

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, get, resources_of

BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")


def _public_statements(policy: str) -> list[dict]:
    statements = json.loads(policy).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if s.get("Effect") == "Allow" and not s.get("Condition")
            and s.get("Principal") in ("*", {"AWS": "*"})]


def validate(args, report_violation):
    blocks = {get(r.props, "bucket"): r
              for r in resources_of(args, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")}
    for bucket in resources_of(args, "aws:s3/bucket:Bucket"):
        block = blocks.get(bucket.props.get("bucket"))
        if block is None:
            report_violation(f"Bucket {bucket.name} has no BucketPublicAccessBlock. Add one with all four flags true; "
                             f"CloudFront reads through Origin Access Control. See {DOCS}", bucket.urn)
        elif off := [f for f in BLOCK_FLAGS if block.props.get(f) is not True]:
            report_violation(f"BucketPublicAccessBlock {block.name} leaves {', '.join(off)} off. Set all four flags "
                             f"true. See {DOCS}", block.urn)
    for acl in resources_of(args, "aws:s3/bucketAcl:BucketAcl"):
        if acl.props.get("acl") in PUBLIC_ACLS:
            report_violation(f"BucketAcl {acl.name} grants {acl.props['acl']}. Remove it: buckets are owner-enforced "
                             f"and private. See {DOCS}", acl.urn)
    for policy in resources_of(args, "aws:s3/bucketPolicy:BucketPolicy"):
        if isinstance(policy.props.get("policy"), str) and _public_statements(policy.props["policy"]):
            report_violation(f"BucketPolicy {policy.name} allows Principal * without a condition. Allow only "
                             f"cloudfront.amazonaws.com with an AWS:SourceArn condition. See {DOCS}", policy.urn)


POLICY = StackValidationPolicy(
    name="aws-s3-no-public-access",
    description="S3 buckets block all public access (complete public access block, no public ACL or policy).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.CRITICAL, validate=validate)
