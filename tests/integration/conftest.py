"""Fixtures for the loader tests: synthetic returns in a private landing zone, one GE validator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestration.lib import paths
from orchestration.lib.checks.expectations import Validator
from synthetic import generate_returns


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic returns for Barking and Dagenham (301), 2022 and 2023, made once per module."""
    out = tmp_path_factory.mktemp("generated")
    generate_returns(out_dir=out, seed=7, years=[2022, 2023], la_codes=["301"])
    return out


@pytest.fixture
def landing(workspace: Path, generated: Path) -> Path:
    """A landing zone holding those returns (XML only: sidecars are the generator's business)."""
    shutil.copytree(generated, paths.returns_dir(), dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.json"))
    return paths.returns_dir()
