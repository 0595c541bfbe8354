"""aws-s3-versioning (advisory): a bad release is rolled back by restoring the previous objects."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, buckets_lacking, get


def _enabled(props) -> bool:
    return get(props, "versioningConfiguration", "status") == "Enabled"


def validate(args, report_violation):
    for bucket in buckets_lacking(args, "aws:s3/bucketVersioning:BucketVersioning", _enabled):
        report_violation(f"Bucket {bucket.name} is not versioned. Add a BucketVersioning with status Enabled to "
                         f"roll back a bad release. See {DOCS}", bucket.urn)


POLICY = StackValidationPolicy(
    name="aws-s3-versioning",
    description="The viewer bucket keeps object versions.",
    enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW, validate=validate)
