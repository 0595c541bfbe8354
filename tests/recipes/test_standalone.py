"""The standalone recipe's resource graph under Pulumi mocks, for the prod stack in both topologies."""

from __future__ import annotations

import json

import pytest

from settings import read_stack_file
from tests.conftest import STACKS
from tests.pulumi_mocks import Program, run_program


def prod_config(**archive_changes) -> dict[str, str]:
    config = read_stack_file(STACKS / "Pulumi.prod.yaml")
    archive = {**json.loads(config["ohif:archive"]), **archive_changes}
    config["ohif:archive"] = json.dumps(archive)
    return config


@pytest.fixture(scope="module", params=["same-origin", "cross-origin"])
def prod(request) -> Program:
    return run_program(prod_config(topology=request.param))


def test_runs(prod):
    assert len(prod.resources) > 200, [r.type for r in prod.resources]
