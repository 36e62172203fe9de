"""Fixtures for the loader tests: synthetic returns in a private landing zone, one GE validator, and
loading what the landing zone's door lets in, as the returns asset does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestration.lib import paths, warehouse
from orchestration.lib.checks.expectations import Validator
from orchestration.lib.landing import RETURNS, decide
from orchestration.lib.load.outcomes import LoadSummary
from orchestration.lib.load.published import DFE_INDICATORS
from orchestration.lib.load.returns import ReturnFile, ReturnLoader
from synthetic import generate_returns
from tests.conftest import TEST_PSEUDONYM_KEY
from tests.integration.helpers import first_run_base


@pytest.fixture
def after_a_first_run(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`workspace` as one clean run over its landing zone (DfE's and Ofsted's files) leaves it:
    a copy of the session's first run (tests/integration/helpers.py `first_run_base`)."""
    shutil.copytree(first_run_base(tmp_path_factory) / "data", workspace / "data", symlinks=True)
    return workspace


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


def load_landing_zone(validator: Validator, run_id: str = "test") -> LoadSummary:
    """Load the returns the landing zone's door lets in, with the test pseudonym key."""
    zone = decide()
    return load_returns(
        validator, [ReturnFile(d.path(zone.root), d.old_la_code, d.year) for d in zone.to_load(RETURNS)], run_id
    )


def load_returns(validator: Validator, files: list[ReturnFile], run_id: str = "test") -> LoadSummary:
    """Load these returns, whatever the door would say of them, with the test pseudonym key."""
    with warehouse.connect() as con:
        loader = ReturnLoader(con, pseudonym_key=bytes.fromhex(TEST_PSEUDONYM_KEY), validator=validator, run_id=run_id)
        return loader.load(files)


def release_files() -> list[Path]:
    """The DfE release files the landing zone's door lets in, as the published-source assets load."""
    return decide().files_to_load(DFE_INDICATORS.landing_source)
