"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "data" / "fixtures"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """Path of an external tool; skip the test without it, except in CI, where it must be."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (.ci/setup installs it)")
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh DuckDB file path in a temporary folder."""
    return tmp_path / "test.duckdb"


@pytest.fixture(autouse=True)
def _no_default_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests must never touch ./voiceinsights.duckdb of the checkout.
    monkeypatch.setenv("VOICEINSIGHTS_DB", str(tmp_path / "default.duckdb"))
