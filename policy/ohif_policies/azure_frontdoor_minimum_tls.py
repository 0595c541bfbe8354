"""azure-frontdoor-minimum-tls: a custom domain serves TLS 1.2 or newer only.

Front Door's endpoint names (azurefd.net) have a fixed TLS policy; a custom domain states its own
(learn.microsoft.com/azure/frontdoor/standard-premium/tls-policy).
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._azure import CUSTOM_DOMAIN
from ._common import DOCS, get

ALLOWED = ("TLS12", "TLS13")


def validate(args, report_violation):
    if args.resource_type != CUSTOM_DOMAIN:
        return
    version = get(args.props, "tlsSettings", "minimumTlsVersion")
    if version not in ALLOWED:
        report_violation(f"AFDCustomDomain {args.name} accepts {version or 'an unstated TLS version'}. Set "
                         f"tlsSettings.minimumTlsVersion to TLS12. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="azure-frontdoor-minimum-tls",
    description="Front Door custom domains set tlsSettings.minimumTlsVersion TLS12 or newer.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
