"""aws-s3-versioning (advisory): a bad release is rolled back by restoring the previous objects."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from ._common import DOCS, get, resources_of


def validate(args, report_violation):
    versioned = {get(r.props, "bucket") for r in resources_of(args, "aws:s3/bucketVersioning:BucketVersioning")
                 if get(r.props, "versioningConfiguration", "status") == "Enabled"}
    for bucket in resources_of(args, "aws:s3/bucket:Bucket"):
        if bucket.props.get("bucket") not in versioned:
            report_violation(f"Bucket {bucket.name} is not versioned. Add a BucketVersioning with status Enabled to "
                             f"roll back a bad release. See {DOCS}", bucket.urn)


POLICY = StackValidationPolicy(
    name="aws-s3-versioning",
    description="The viewer bucket keeps object versions.",
    enforcement_level=EnforcementLevel.ADVISORY, severity=Severity.LOW, validate=validate)
