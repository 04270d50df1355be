"""One fresh generation per session, shared by the generator tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voiceinsights.fixtures import GeneratedFixtures, generate

CALLS, SEED = 60, 7  # the committed dataset's parameters (data/fixtures/README.md)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFixtures:
    return generate(CALLS, SEED, tmp_path_factory.mktemp("fixtures"))


@pytest.fixture(scope="session")
def truth(generated: GeneratedFixtures) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((generated.out / "ground_truth.json").read_text())
    return data


def read_callbacks(out: Path) -> Iterator[dict[str, str]]:
    """Every callback delivery, in arrival order per file (CSV first, then JSON Lines)."""
    with (out / "callbacks.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            yield {k: v for k, v in row.items() if v != ""}
    with (out / "callbacks.jsonl").open() as fh:
        for line in fh:
            yield json.loads(line)


def read_envelopes(out: Path) -> list[dict[str, Any]]:
    with (out / "sdk_events.jsonl").open() as fh:
        return [json.loads(line) for line in fh]
