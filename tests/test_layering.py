"""The layering contracts (.importlinter) hold here, and each one fails when a fork breaks it: a copy of the
project's Python packages gets one forbidden import, and `lint-imports` must name that contract as broken."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / ".importlinter"
ROOTS = configparser.ConfigParser()
ROOTS.read(CONFIG)
PACKAGES = ROOTS["importlinter"]["root_packages"].split()

# Contract id: (file a fork edits, the import it adds). Each import is one a newcomer might plausibly write.
FORKS = {
    "layers": ("settings/__init__.py", "import program"),
    "recipes-name-no-cloud": ("recipes/standalone.py", "import components.aws.target"),
    "target-choice-above-interface": ("components/target.py", "import sandbox"),
    "renderers-neutral": ("components/render/headers.py", "import pulumi_aws"),
    "settings-import-no-components": ("settings/__init__.py", "import components.target"),
    "clouds-independent": ("components/aws/target.py", "import components.azure.network"),
    "no-sibling-cycles": ("components/render/dicomweb_proxy/token_check.py", "import components.render.realm"),
}


def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    return subprocess.run(["lint-imports", "--no-logo", "--no-cache", "--config", str(root / ".importlinter"),
                           *(a for c in contracts for a in ("--contract", c))],
                          cwd=root, capture_output=True, text=True, timeout=120)


def test_the_project_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_every_contract_has_a_breaking_fork():
    assert set(FORKS) == {s.split(":", 2)[2] for s in ROOTS.sections() if s.startswith("importlinter:contract:")}


@pytest.mark.parametrize("contract", sorted(FORKS))
def test_a_fork_that_breaks_a_contract_fails(tmp_path, contract):
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.json",
                                                                                           "*.js", "*.md"))
    shutil.copy(CONFIG, tmp_path / ".importlinter")
    path, line = FORKS[contract]
    forked = tmp_path / path
    forked.write_text(forked.read_text() + f"\n{line}\n")
    result = lint_imports(tmp_path, contract)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout and "KEPT" not in result.stdout, result.stdout
