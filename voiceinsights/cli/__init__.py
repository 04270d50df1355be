"""The ``voiceinsights`` command line: one module per command, loaded on first use.

Commands mirror the Python API (``voiceinsights ingest`` is ``Store.ingest``, ``voiceinsights
probe`` is ``voiceinsights.probe.run``), so that what works in a notebook works in a shell.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

__all__ = ["main"]

# command name -> "module:attribute". Modules import their heavy dependencies lazily, so
# `voiceinsights --help` stays fast and works without the optional extras installed.
_COMMANDS: dict[str, str] = {
    "quickstart": "voiceinsights.cli._quickstart:quickstart",
    "ingest": "voiceinsights.cli._ingest:ingest",
    "fixtures": "voiceinsights.cli._fixtures:fixtures",
    "sql": "voiceinsights.cli._query:sql",
    "calls": "voiceinsights.cli._query:calls",
    "summary": "voiceinsights.cli._analysis:summary",
    "fleet": "voiceinsights.cli._analysis:fleet",
    "feedback": "voiceinsights.cli._analysis:feedback",
    "tree": "voiceinsights.cli._analysis:tree",
    "warnings": "voiceinsights.cli._analysis:warnings",
    "export": "voiceinsights.cli._query:export",
    "migrate": "voiceinsights.cli._query:migrate",
    "compact": "voiceinsights.cli._query:compact",
    "collect": "voiceinsights.cli._collect:collect",
    "ingest-token": "voiceinsights.cli._collect:ingest_token",
    "pull": "voiceinsights.cli._pull:pull",
    "report": "voiceinsights.cli._report:report",
    "probe": "voiceinsights.cli._probe:probe",
    "echo-server": "voiceinsights.cli._probe:echo_server",
    "relay": "voiceinsights.cli._probe:relay",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="voiceinsights")
def cli() -> None:
    """Voice-call analytics for Twilio Voice: collect, probe, analyse, report."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the console script and ``python -m voiceinsights``."""
    from voiceinsights._exceptions import VoiceInsightsError

    try:
        return cli.main(args=argv, prog_name="voiceinsights", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except VoiceInsightsError as exc:
        # Our own errors are messages for the user, not tracebacks.
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
