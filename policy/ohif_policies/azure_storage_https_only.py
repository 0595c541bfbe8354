"""azure-storage-https-only: storage refuses plain HTTP.

pulumi-azure-native 3.x names the setting `enableHttpsTrafficOnly` (the ARM API's `supportsHttpsTrafficOnly`);
its default is true since API 2019-04-01, so only an explicit false is reported.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import STORAGE_ACCOUNT
from ._common import DOCS


def validate(args, report_violation):
    if args.resource_type == STORAGE_ACCOUNT and (args.props.get("enableHttpsTrafficOnly") is False
                                                  or args.props.get("supportsHttpsTrafficOnly") is False):
        report_violation(f"StorageAccount {args.name} accepts plain HTTP. Set enableHttpsTrafficOnly true. "
                         f"See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-storage-https-only",
    description="Storage accounts accept HTTPS only (enableHttpsTrafficOnly is not false).",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
