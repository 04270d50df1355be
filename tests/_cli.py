"""Running the CLI in-process, as a user's shell would, for the command tests."""

from __future__ import annotations

import pytest

from voiceinsights.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``voiceinsights ARGS...``: its exit code, standard output and standard error."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
