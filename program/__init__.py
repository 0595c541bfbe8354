"""The Pulumi program's body, for `__main__.py` and the tests: the stack's cloud target, chosen here, above the
interface the targets implement (so no recipe names a cloud), the recipe realised on it, its outputs exported."""

from __future__ import annotations

import pulumi

from components.target import Target
from recipes import realise
from settings import DATABASE_PASSWORD_KEY, NAMESPACE, StackSettings


def cloud_target(settings: StackSettings) -> Target:
    """The target `pulumi up` realises a recipe on (imported here: each cloud's SDK loads only when used)."""
    # An existing Keycloak database's password, kept a secret from the stack file on (settings checked it is there).
    database_password = pulumi.Config(NAMESPACE).get_secret(DATABASE_PASSWORD_KEY)
    if settings.cloud == "aws":
        from components.aws.target import AwsTarget
        return AwsTarget(settings.aws, settings.access, database_password)
    from components.azure.target import AzureTarget
    return AzureTarget(settings.azure, settings.access, database_password)


def run(settings: StackSettings) -> dict[str, pulumi.Output]:
    """`pulumi up`: realise the recipe in the stack's cloud and export its outputs (also returned, for tests)."""
    outputs = realise(cloud_target(settings), settings)
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs
