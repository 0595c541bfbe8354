"""keycloak-client-pkce-code-flow: the viewer logs in with the code flow and PKCE S256, nothing weaker.

A public client cannot keep a secret, so PKCE is what binds a code to the browser that asked for it;
the implicit flow and password grants (direct access) put tokens or passwords where they leak. A public client
without the code flow (`python3 -m share`'s, which has the device grant alone) has no code to bind.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from ._common import DOCS
from ._keycloak import clients


def validate(args, report_violation):
    for c in clients(args):
        wrong = [label for label, bad in (("PKCE is not S256", c["public"] and c["code_flow"] and c["pkce"] != "S256"),
                                          ("the implicit flow is on", c["implicit"]),
                                          ("direct access grants are on", c["password_grant"])) if bad]
        if wrong:
            report_violation(f"Keycloak client {c['name']} ({args.name}): {', '.join(wrong)}. Use the code flow "
                             f"with PKCE S256 only. See {DOCS}")


POLICY = ResourceValidationPolicy(
    name="keycloak-client-pkce-code-flow",
    description="Public clients use PKCE S256; implicit flow and direct access grants are off.",
    enforcement_level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, validate=validate)
