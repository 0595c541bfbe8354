"""aws-s3-encryption: every bucket states its default encryption."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, get, resources_of

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
TOKEN = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def validate(args, report_violation):
    encrypted = {get(r.props, "bucket") for r in resources_of(args, TOKEN)
                 if all(get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ALGORITHMS
                        for rule in get(r.props, "rules", default=[])) and get(r.props, "rules")}
    for bucket in resources_of(args, "aws:s3/bucket:Bucket"):
        if bucket.props.get("bucket") not in encrypted:
            report_violation(f"Bucket {bucket.name} has no default encryption. Add a "
                             f"BucketServerSideEncryptionConfiguration with AES256 or aws:kms. See {DOCS}", bucket.urn)


POLICY = StackValidationPolicy(
    name="aws-s3-encryption",
    description="S3 buckets have default server-side encryption (AES256 or KMS).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
