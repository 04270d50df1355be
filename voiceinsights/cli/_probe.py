"""``voiceinsights probe``, ``voiceinsights echo-server`` and ``voiceinsights relay``.

They mirror :func:`voiceinsights.probe.run`, :func:`voiceinsights.probe.serve_echo` and
:class:`voiceinsights.probe.relay.Relay`. Exit codes of ``probe`` (for schedulers): 0 ok,
1 quality below ``--fail-below``, 2 the probe failed or could not connect (with
``--every --count N``: the worst of the runs). Tokens never go on the command line: they
come from ``VOICEINSIGHTS_ECHO_TOKEN`` or ``--token-file``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from voiceinsights._exceptions import ConfigError, VoiceInsightsError

__all__ = ["echo_server", "exit_code", "probe", "relay"]

_QUALITY_ORDER = ("degraded", "fair", "good", "great", "excellent")


def _token(path: Path | None) -> str | None:
    if path is not None:
        try:
            text = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read token file {path}: {exc.strerror}") from None
        return text or None
    return os.environ.get("VOICEINSIGHTS_ECHO_TOKEN") or None


def _fail_below(value: str | None) -> str | float | None:
    if value is None:
        return None
    if value.lower() in _QUALITY_ORDER:
        return value.lower()
    try:
        return float(value)
    except ValueError:
        raise ConfigError(
            f"--fail-below {value!r} must be a quality ({', '.join(_QUALITY_ORDER)}) or a MOS"
        ) from None


def _jitter_buffer(value: str) -> float | str:
    if value.lower() == "adaptive":
        return "adaptive"
    try:
        ms = float(value.removesuffix("ms"))
    except ValueError:
        ms = -1.0
    if ms < 0:
        raise ConfigError(f"--jitter-buffer {value!r} must be 'adaptive' or a depth in ms >= 0")
    return ms


def exit_code(report: Any, fail_below: str | float | None) -> int:
    """0 ok, 1 below ``fail_below`` (a quality label or a MOS), 2 failed.

    A run without a MOS (too short for one) counts as below any threshold.
    """
    if not report.ok:
        return 2
    if fail_below is None:
        return 0
    if isinstance(fail_below, str):
        quality = report.call_quality
        if quality is None:
            return 1
        return 1 if _QUALITY_ORDER.index(quality) < _QUALITY_ORDER.index(fail_below) else 0
    mos = report.mos_avg
    return 1 if mos is None or mos < fail_below else 0


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not on every OS (Windows) nor outside the main thread
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


@click.command()
@click.argument("url")
@click.option(
    "--duration",
    "duration_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds of audio after the first echoed packet.",
)
@click.option("--codec", type=click.Choice(["opus", "pcmu"]), default="opus", show_default=True)
@click.option(
    "--ice-server",
    "ice_servers",
    multiple=True,
    help=(
        "stun:/turn: URL (turn:user@host:port, password in $VOICEINSIGHTS_TURN_PASSWORD); "
        "repeatable. None by default."
    ),
)
@click.option("--relay-only", is_flag=True, help="Use only TURN-relayed candidates.")
@click.option("--bind", default=None, help="Local address ICE gathers on.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Store (default $VOICEINSIGHTS_DB or ./voiceinsights.duckdb).",
)
@click.option("--no-store", is_flag=True, help="Do not store the run.")
@click.option("--label", default=None, help="Label stored with the run.")
@click.option("--every", default=None, help="Run on a fixed schedule: 30s, 5m, 1h ...")
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="With --every: stop after this many runs.",
)
@click.option(
    "--fail-below",
    default=None,
    help="Exit 1 when quality is below this label (excellent, great, good, fair) or MOS.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds allowed from the offer to the first echoed audio.",
)
@click.option(
    "--jitter-buffer",
    "jitter_buffer",
    default="60",
    show_default=True,
    help="Jitter buffer of the playout simulation: a fixed depth in ms, or 'adaptive'.",
)
@click.option("--pesq", is_flag=True, help="Also compute PESQ (needs the pesq extra).")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File with the echo endpoint's bearer token (else $VOICEINSIGHTS_ECHO_TOKEN).",
)
def probe(
    url: str,
    duration_s: float,
    codec: str,
    ice_servers: tuple[str, ...],
    relay_only: bool,
    bind: str | None,
    as_json: bool,
    db: Path | None,
    no_store: bool,
    label: str | None,
    every: str | None,
    count: int | None,
    fail_below: str | None,
    timeout_s: float,
    jitter_buffer: str,
    pesq: bool,
    token_file: Path | None,
) -> None:
    """Place a test call to the echo endpoint at URL and report on it."""
    from voiceinsights.probe._run import run_async, store_report
    from voiceinsights.probe._schedule import parse_interval, run_every

    threshold = _fail_below(fail_below)
    buffer = _jitter_buffer(jitter_buffer)
    token = _token(token_file)
    interval = parse_interval(every) if every is not None else None
    if count is not None and interval is None:
        raise ConfigError("--count goes with --every")
    if duration_s <= 0 or timeout_s <= 0:
        raise ConfigError("--duration and --timeout must be positive")
    store_path: Path | None = None
    if not no_store:
        from voiceinsights.store import default_path

        store_path = db if db is not None else default_path()
    codes: list[int] = []

    async def one() -> int:
        report = await run_async(
            url,
            duration_s=duration_s,
            codec=codec,
            ice_servers=ice_servers,
            relay_only=relay_only,
            bind=bind,
            token=token,
            label=label,
            timeout_s=timeout_s,
            jitter_buffer_ms=buffer,
            pesq=pesq,
            check=False,
        )
        code = exit_code(report, threshold)
        if as_json:
            click.echo(report.to_json(indent=None if interval else 2))
        else:
            click.echo(report.to_text())
            if interval:
                click.echo("")
        if store_path is not None:
            try:
                store_report(report, store_path)
            except VoiceInsightsError as exc:
                click.echo(f"error: the run was not stored: {exc}", err=True)
                code = 2
        if not report.ok:
            click.echo(f"error: {report.failed_phase}: {report.error}", err=True)
        codes.append(code)
        return code

    async def main() -> None:
        if interval is None:
            await one()
            return
        stop = asyncio.Event()
        _stop_on_signals(stop)

        def on_error(exc: BaseException) -> None:
            click.echo(f"error: {exc} (the schedule goes on)", err=True)
            codes.append(2)

        await run_every(interval, one, count=count, on_error=on_error, stop=stop)

    asyncio.run(main())
    sys.exit(max(codes, default=2))


@click.command("echo-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP listen address.")
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option(
    "--bind",
    default=None,
    help="Address ICE gathers on (default: --host; a wildcard gathers on all).",
)
@click.option("--max-sessions", type=click.IntRange(min=1), default=32, show_default=True)
@click.option(
    "--idle-timeout",
    "idle_timeout_s",
    type=float,
    default=15.0,
    show_default=True,
    help="Close sessions without audio for this many seconds.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Require this bearer token (else $VOICEINSIGHTS_ECHO_TOKEN, if set).",
)
def echo_server(
    host: str,
    port: int,
    bind: str | None,
    max_sessions: int,
    idle_timeout_s: float,
    token_file: Path | None,
) -> None:
    """Answer WebRTC offers and send the audio back (WHIP: POST /whip; JSON: POST /offer)."""
    from voiceinsights.probe._signaling import serve_echo

    token = _token(token_file)

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)

        def ready(url: str) -> None:
            click.echo(f"echo server listening on {url} (WHIP {url}/whip, JSON {url}/offer)")
            sys.stdout.flush()

        try:
            await serve_echo(
                host,
                port,
                token=token,
                bind=bind,
                max_sessions=max_sessions,
                idle_timeout_s=idle_timeout_s,
                ready=ready,
                stop=stop,
            )
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    asyncio.run(main())


@click.command()
@click.argument("target")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--delay-ms", type=float, default=0.0, show_default=True)
@click.option(
    "--jitter-ms",
    type=float,
    default=0.0,
    show_default=True,
    help="Delay varies uniformly within delay ± jitter.",
)
@click.option("--loss-pct", type=float, default=0.0, show_default=True)
@click.option(
    "--burst",
    type=float,
    default=1.0,
    show_default=True,
    help="Mean loss-burst length in packets (1: independent loss).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--reorder", is_flag=True, help="Let jitter reorder packets.")
@click.option("--impair-all", is_flag=True, help="Also impair STUN and DTLS.")
@click.option(
    "--direction",
    type=click.Choice(["both", "to-echo", "to-caller"]),
    default="both",
    show_default=True,
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the ground-truth packet log (JSON Lines).",
)
def relay(
    target: str,
    host: str,
    port: int,
    delay_ms: float,
    jitter_ms: float,
    loss_pct: float,
    burst: float,
    seed: int,
    reorder: bool,
    impair_all: bool,
    direction: str,
    log_path: Path | None,
) -> None:
    """Relay probes to the echo endpoint TARGET with known delay, jitter and loss."""
    from voiceinsights.probe.relay import DIRECTIONS, Impairment, Relay

    impairment = Impairment(
        delay_ms=delay_ms,
        jitter_ms=jitter_ms,
        loss_pct=loss_pct,
        burst=burst,
        seed=seed,
        reorder=reorder,
        impair_all=impair_all,
        directions=DIRECTIONS if direction == "both" else (direction,),
    )

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        log_file = open(log_path, "a") if log_path is not None else None  # noqa: SIM115
        try:
            async with Relay(target, impairment, host, port, log_file) as r:
                click.echo(f"relay listening on {r.url} -> {target}")
                sys.stdout.flush()
                await stop.wait()
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        finally:
            if log_file is not None:
                log_file.close()

    asyncio.run(main())
