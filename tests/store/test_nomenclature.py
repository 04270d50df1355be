"""docs/nomenclature.md is generated from the schema and kept in step with it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO
from voiceinsights.schema import TABLES, VIEWS
from voiceinsights.schema_doc import render


def test_nomenclature_is_up_to_date() -> None:
    current = (REPO / "docs" / "nomenclature.md").read_text()
    assert current == render(), "docs/nomenclature.md is stale: python -m voiceinsights.schema_doc"


def test_every_column_is_documented_with_type_and_unit() -> None:
    text = render()
    for t in (*TABLES, *VIEWS):
        assert f"### `{t.name}`" in text
        for c in t.columns:
            assert f"| `{c.name}` | {c.type} | {c.unit.replace('|', chr(92) + '|')} |" in text


def test_check_mode_reports_a_stale_file(tmp_path: object) -> None:
    from pathlib import Path

    stale = Path(str(tmp_path)) / "n.md"
    stale.write_text("old\n")
    cmd = [sys.executable, "-m", "voiceinsights.schema_doc", "--out", str(stale), "--check"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 1
    assert "stale" in out.stderr
    subprocess.run(cmd[:-1], check=True, capture_output=True, cwd=REPO)
    assert subprocess.run(cmd, capture_output=True, cwd=REPO).returncode == 0
