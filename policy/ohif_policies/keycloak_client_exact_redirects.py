"""keycloak-client-exact-redirects: redirect URIs and web origins are exact, never wildcards.

A wildcard redirect lets an attacker's page on a matching URL receive a user's authorization code.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS
from ._keycloak import clients


def validate(args, report_violation):
    for c in clients(args):
        wild = [u for u in c["redirects"] + c["origins"] if "*" in u or u == "+"]
        if wild:
            report_violation(f"Keycloak client {c['name']} ({args.name}) allows {', '.join(wild)}. List exact URIs "
                             f"(components/render/realm.py derives them from the viewer URL). See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="keycloak-client-exact-redirects",
    description="Keycloak clients have no wildcard redirect URI or web origin.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
