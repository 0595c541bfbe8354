"""The example stacks, changed one key at a time, that the settings tests feed to `load()` and to the program."""

from __future__ import annotations

import json

import pytest

from settings import ConfigError, read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program


def stack(name: str, **changes: object) -> dict[str, str]:
    """An example stack with top-level ohif: keys replaced (None removes one); objects given as dicts."""
    config = read_stack_file(STACKS / f"Pulumi.{name}.yaml")
    for key, value in changes.items():
        key = f"ohif:{key}"
        if value is None:
            config.pop(key)
        else:
            config[key] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return config


def prod(**changes: object) -> dict[str, str]:
    return stack("prod", **changes)


def azure(**changes: object) -> dict[str, str]:
    return stack("prod-azure", **changes)


def azure_section(**changes: object) -> dict:
    return {**json.loads(azure()["ohif:azure"]), **changes}


def uac(**auth: object) -> dict[str, str]:
    """The prod-uac example with ohif:auth replaced (a production stack states what unscoped readers read)."""
    config = read_stack_file(STACKS / "Pulumi.prod-uac.yaml")
    config["ohif:auth"] = json.dumps({"unscoped_readers": "archive", **auth})
    return config


def aws_section(**changes: object) -> dict:
    """prod's ohif:aws with keys changed (None drops one)."""
    section = {**json.loads(prod()["ohif:aws"]), **changes}
    return {k: v for k, v in section.items() if v is not None}


def archive(**changes: object) -> dict:
    return {**json.loads(prod()["ohif:archive"]), **changes}


def embedded(**embed: object) -> dict[str, str]:
    """The prod-embedded example with ohif:embed changed."""
    return stack("prod-embedded", embed={**json.loads(stack("prod-embedded")["ohif:embed"]), **embed})


def dicom_json(**studies: object) -> dict[str, str]:
    return stack("prod-dicom-json", studies={**json.loads(stack("prod-dicom-json")["ohif:studies"]), **studies})


HEALTHIMAGING = {"datastore_id": "0123456789abcdef0123456789abcdef", "region": "us-east-1"}
DICOM_SERVICE_ID = ("/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/imaging/providers/"
                    "Microsoft.HealthcareApis/workspaces/ohifimages/dicomservices/studies")


def stops_before_any_resource(config: dict[str, str], expected: str, stack: str = "prod") -> None:
    """Bad stack config stops the program before the first resource, with one line per bad value."""
    program = Program()
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack=stack, program=program)
    assert f"invalid stack config: {expected}" in str(raised.value)
    assert program.resources == [], f"registered before failing: {[r.name for r in program.resources]}"
