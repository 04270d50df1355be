"""The documentation site: CLI reference in step with the commands, strict mkdocs build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from voiceinsights.cli import _COMMANDS
from voiceinsights.cli._docgen import generate, main


def test_cli_reference_is_in_step_with_the_commands() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == generate(), "docs/cli.md is stale: run python -m voiceinsights.cli._docgen"


def test_cli_reference_documents_every_command() -> None:
    text = generate()
    for name in _COMMANDS:
        assert f"## `voiceinsights {name}`" in text, name
        assert f"Usage: voiceinsights {name}" in text, name


def test_docgen_check_flags_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.md"
    assert main(["--out", str(out), "--check"]) == 1
    assert main(["--out", str(out)]) == 0
    assert main(["--out", str(out), "--check"]) == 0
    out.write_text(out.read_text() + "edited by hand\n")
    assert main(["--out", str(out), "--check"]) == 1
    assert "is stale" in capsys.readouterr().err


@pytest.mark.slow
def test_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(REPO / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    # Every page of docs/ is in the navigation (mkdocs warns otherwise, strict fails).
    for page in (REPO / "docs").glob("*.md"):
        target = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert target.exists(), page.name
    assert "voiceinsights report" in (site / "cli" / "index.html").read_text()
