"""aws-s3-encryption: every bucket states its default encryption."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, buckets_lacking, get

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
TOKEN = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _encrypts(props) -> bool:
    rules = get(props, "rules", default=[])
    return bool(rules) and all(get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ALGORITHMS
                               for r in rules)


def validate(args, report_violation):
    for bucket in buckets_lacking(args, TOKEN, _encrypts):
        report_violation(f"Bucket {bucket.name} has no default encryption. Add a "
                         f"BucketServerSideEncryptionConfiguration with AES256 or aws:kms. See {DOCS}", bucket.urn)


POLICY = StackValidationPolicy(
    name="aws-s3-encryption",
    description="S3 buckets have default server-side encryption (AES256 or KMS).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
