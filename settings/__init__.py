"""The stack's settings: one typed model, read from Pulumi config and validated whole.

`load()` turns the raw `ohif:*` config (what `pulumi up` hands the program, or what the sandbox
reads from the same stack file) into `StackSettings`, or raises `ConfigError` naming every bad
key, its value and what is allowed, one line each. Recipes call it before registering anything,
so a bad stack leaves nothing half-done.

    model.py     the typed model and its vocabulary (data only: anything may import it)
    services.py  the cloud DICOM services an archive may be (data only)
    errors.py    ConfigError, and the collector of its lines
    checks.py    the checks sections share: whole numbers, URLs, origins, CIDRs, database URLs
    sections.py  one reader per cloud-neutral section
    clouds.py    the cloud sections, ohif:aws and ohif:azure
    rules.py     the rules across sections
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from settings.clouds import read_aws, read_azure
from settings.errors import ConfigError, Errors
from settings.model import (
    DATABASE_PASSWORD_KEY,
    NAMESPACE,
    PROJECT,
    RATE_LIMIT_RANGE,
    RECIPES,
    AccessSettings,
    AwsDatabaseSettings,
    AwsSettings,
    AzureDatabaseSettings,
    AzureSettings,
    ScaleSettings,
    ShareSettings,
    StackSettings,
    database_tier,
)
from settings.rules import RULES
from settings.sections import (
    read_access,
    read_archive,
    read_auth,
    read_embed,
    read_share,
    read_studies,
    read_top_level,
    read_viewer,
)

# What the rest of the project imports from `settings`.
__all__ = ["DATABASE_PASSWORD_KEY", "NAMESPACE", "PROJECT", "RATE_LIMIT_RANGE", "RECIPES", "AccessSettings",
           "AwsDatabaseSettings", "AwsSettings", "AzureDatabaseSettings", "AzureSettings", "ConfigError",
           "ScaleSettings", "ShareSettings", "StackSettings", "database_tier", "from_pulumi", "load", "read_stack_file"]


def load(config: Mapping[str, Any], stack: str | None = None) -> StackSettings:
    """The settings from raw `ohif:*` config values (strings; structured keys as JSON), or ConfigError.

    `stack`: the Pulumi stack's name, which names what the stack does not (the Azure resource group); None, as in the
    sandbox, leaves those defaults unchecked."""
    errors = Errors()
    ours = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}
    recipe, cloud, production, highly_available = read_top_level(errors, ours)
    viewer = read_viewer(errors, ours.get("viewer"))
    access = read_access(errors, ours.get("access"), recipe, production)
    archive = read_archive(errors, ours.get("archive"), recipe, production, cloud)
    auth = read_auth(errors, ours.get("auth"), recipe, production)
    share = read_share(errors, ours.get("share"), auth)
    embed = read_embed(errors, ours.get("embed"), recipe, production)
    studies = read_studies(errors, ours.get("studies"), recipe, cloud, production)
    aws = read_aws(errors, ours.get("aws"), viewer, archive, auth, production) if cloud == "aws" else None
    azure = read_azure(errors, ours.get("azure"), archive, auth, production, stack) if cloud == "azure" else None
    settings = StackSettings(recipe=recipe, cloud=cloud, production=production, highly_available=highly_available,
                             viewer=viewer, access=access, archive=archive, auth=auth, share=share, embed=embed,
                             studies=studies, aws=aws, azure=azure)
    for rule in RULES:
        rule(errors, settings, config)
    errors.raise_if_any()
    return settings


def from_pulumi() -> StackSettings:
    """The settings of the stack `pulumi up` is running (or that a test set with set_all_config)."""
    raw = {**pulumi.runtime.config.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    settings = load(raw, stack=pulumi.get_stack())
    if settings.cloud == "local":
        raise ConfigError('invalid stack config: ohif:cloud = "local": this stack runs in the sandbox '
                          "(python -m sandbox up --stack <name>), not with pulumi up")
    return settings


def read_stack_file(path: Path) -> dict[str, str]:
    """A `Pulumi.<stack>.yaml`'s config as Pulumi hands it to the program: strings, objects as JSON."""
    doc = yaml.safe_load(path.read_text()) or {}
    raw: dict[str, str] = {}
    for key, value in (doc.get("config") or {}).items():
        if isinstance(value, (dict, list)):
            raw[key] = json.dumps(value)
        elif isinstance(value, bool):
            raw[key] = "true" if value else "false"
        else:
            raw[key] = str(value)
    return raw
