"""The package as a user meets it: public names, exception tree, CLI, README and CI."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import voiceinsights
from tests.conftest import REPO
from voiceinsights.cli import _COMMANDS, cli


def test_every_public_name_resolves() -> None:
    for name in voiceinsights.__all__:
        assert getattr(voiceinsights, name) is not None, name


def test_every_error_derives_from_the_root() -> None:
    from voiceinsights import _exceptions

    for name in _exceptions.__all__:
        cls = getattr(_exceptions, name)
        assert issubclass(cls, voiceinsights.VoiceInsightsError), name
        # The tree drawn in the module docstring names every class.
        assert name in (_exceptions.__doc__ or ""), f"{name} missing from the drawn tree"


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_every_command_loads_and_has_help(name: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voiceinsights", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert voiceinsights.__version__ in out.stdout


def test_voiceinsights_errors_become_messages_not_tracebacks(tmp_path: object) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "voiceinsights", "ingest", "/nonexistent/file.jsonl"],
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "/nonexistent/file.jsonl" in out.stderr


def _quickstart_commands() -> dict[str, str]:
    text = (REPO / "README.md").read_text()
    return dict(re.findall(r"<!-- (\w+)-command -->\n```\n(.+)\n```", text))


def test_readme_quickstart_has_the_two_commands() -> None:
    commands = _quickstart_commands()
    assert set(commands) == {"main", "test"}
    assert "voiceinsights quickstart" in commands["main"]
    assert "pytest" in commands["test"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    # .ci/run extracts the command with awk; run the same extraction and compare.
    out = subprocess.run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", "README.md"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == _quickstart_commands()["test"]
    assert 'bash -c "$test_cmd"' in (REPO / ".ci" / "run").read_text()


def test_pyproject_version_matches_package() -> None:
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["version"] == voiceinsights.__version__
