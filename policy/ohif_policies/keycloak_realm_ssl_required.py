"""keycloak-realm-ssl-required: a deployed realm never allows logins over plain HTTP from outside.

Only the local sandbox (which never runs through Pulumi) may use sslRequired none.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS
from ._keycloak import ssl_required


def validate(args, report_violation):
    for realm, ssl in ssl_required(args):
        if ssl == "none":
            report_violation(f"Keycloak realm {realm} ({args.name}) has sslRequired none. Use external or all. "
                             f"See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="keycloak-realm-ssl-required",
    description="Keycloak realms require TLS (sslRequired is not none) outside the sandbox.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
