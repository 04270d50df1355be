"""Fixtures of the show tests: a real DuckDB store built from synthetic canonical rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.show import synth


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one four-leg call tree, SDK samples/warnings/feedback and probe runs."""
    path = tmp_path_factory.mktemp("store") / "demo.duckdb"
    synth.build_store(str(path))
    return path
