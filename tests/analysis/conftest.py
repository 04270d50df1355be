"""The fixtures population, loaded into canonical frames for the analysis tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/fixtures when committed, else a freshly generated population."""
    if (FIXTURES / "ground_truth.json").exists():
        return FIXTURES
    generate = pytest.importorskip("voiceinsights.fixtures").generate
    out = tmp_path_factory.mktemp("fixtures")
    generate(calls=60, seed=7, out=out)
    return out


@pytest.fixture(scope="session")
def truth(fixture_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((fixture_dir / "ground_truth.json").read_text())
    return result


@pytest.fixture(scope="session")
def frames(fixture_dir: Path) -> dict[str, pd.DataFrame]:
    """Canonical tables parsed from the fixture files with the wire models."""
    models = pytest.importorskip("voiceinsights.models")
    rows: dict[str, list[dict[str, Any]]] = {}

    def add(obj: dict[str, Any]) -> None:
        for table, row in models.parse_record(obj):
            rows.setdefault(table, []).append(row)

    for line in (fixture_dir / "sdk_events.jsonl").read_text().splitlines():
        add(json.loads(line))
    for line in (fixture_dir / "callbacks.jsonl").read_text().splitlines():
        add(json.loads(line))
    with open(fixture_dir / "callbacks.csv", newline="") as fh:
        for rec in csv.DictReader(fh):
            add({k: v for k, v in rec.items() if v != ""})
    out = {k: pd.DataFrame(v) for k, v in rows.items()}
    # Deliveries are duplicated on purpose: keep one per natural key, as the store does.
    out["call_events"] = out["call_events"].drop_duplicates(
        ["call_sid", "callback_source", "sequence_number", "call_status"]
    )
    out["conference_events"] = out["conference_events"].drop_duplicates(
        ["conference_sid", "sequence_number", "event"]
    )
    out["samples"] = out["samples"].drop_duplicates(["call_sid", "timestamp"])
    return out
