"""azure-storage-minimum-tls: storage accepts TLS 1.2 or newer only.

The API's default is TLS 1.0 (pulumi-azure-native's MinimumTlsVersion), so the account must say it.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import STORAGE_ACCOUNT
from ._common import DOCS

ALLOWED = ("TLS1_2", "TLS1_3")


def validate(args, report_violation):
    if args.resource_type != STORAGE_ACCOUNT:
        return
    version = args.props.get("minimumTlsVersion")
    if version not in ALLOWED:
        report_violation(f"StorageAccount {args.name} accepts {version or 'TLS1_0 (the default)'}. Set "
                         f"minimumTlsVersion to TLS1_2. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-storage-minimum-tls",
    description="Storage accounts set minimumTlsVersion TLS1_2 or newer.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
