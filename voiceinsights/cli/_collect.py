"""``voiceinsights collect`` (run the collector) and ``voiceinsights ingest-token``.

Secrets never go on the command line (it is visible to every user in ``ps``): auth tokens
come from ``TWILIO_AUTH_TOKEN`` (comma-separated for a rotation) or ``--auth-token-file``,
API key secrets from ``TWILIO_API_SECRET`` or ``--api-secret-file``, the ingest-token
secret from ``VOICEINSIGHTS_INGEST_SECRET`` or ``--ingest-secret-file``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click

from voiceinsights._exceptions import ConfigError

__all__ = ["collect", "ingest_token", "read_secrets"]


def read_secrets(env: str, path: Path | None) -> list[str]:
    """Secrets from a file (one per line or comma-separated) or else the environment."""
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from None
    else:
        text = os.environ.get(env, "")
    return [s.strip() for s in text.replace("\n", ",").split(",") if s.strip()]


def _compactor(db: Path, parquet_dir: Path, every_s: float) -> Callable[[], None]:
    lock = threading.Lock()
    last = [time.monotonic()]
    log = logging.getLogger("voiceinsights.collector")

    def maybe_compact() -> None:
        if time.monotonic() - last[0] < every_s or not lock.acquire(blocking=False):
            return
        try:
            import voiceinsights

            store = voiceinsights.open(db)
            try:
                store.compact_from(parquet_dir)
            finally:
                store.close()
            last[0] = time.monotonic()
        except Exception:  # the data stays in Parquet; try again later
            log.exception("compaction into %s failed", db)
            last[0] = time.monotonic()
        finally:
            lock.release()

    return maybe_compact


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("collector-data"),
    show_default=True,
    help="Spool and Parquet segments (read live data with open_parquet(DIR/parquet)).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file to fold segments into every --compact-every seconds.",
)
@click.option(
    "--compact-every",
    type=click.FloatRange(min=1.0),
    default=None,
    help="Seconds between compactions into --db (off unless given).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--public-url",
    default=None,
    help="Scheme://host[:port] Twilio calls (proxy, tunnel); signatures are "
    "checked over it plus the path and query.",
)
@click.option(
    "--auth-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File with Twilio auth token(s); else $TWILIO_AUTH_TOKEN.",
)
@click.option(
    "--api-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File with API key secret(s) that sign AccessTokens; else $TWILIO_API_SECRET.",
)
@click.option(
    "--ingest-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File with the ingest-token secret; else $VOICEINSIGHTS_INGEST_SECRET.",
)
@click.option(
    "--account-sid",
    default=None,
    envvar="TWILIO_ACCOUNT_SID",
    help="Require AccessTokens of this account (default $TWILIO_ACCOUNT_SID).",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    help="Browser origin allowed to post SDK events (repeatable).",
)
@click.option("--max-body-bytes", type=click.IntRange(min=1024), default=1 << 20, show_default=True)
@click.option(
    "--flush-interval",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Seconds a spooled record may wait for Parquet.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def collect(
    data_dir: Path,
    db: Path | None,
    compact_every: float | None,
    host: str,
    port: int,
    public_url: str | None,
    auth_token_file: Path | None,
    api_secret_file: Path | None,
    ingest_secret_file: Path | None,
    account_sid: str | None,
    allow_origins: tuple[str, ...],
    max_body_bytes: int,
    flush_interval: float,
    log_level: str,
) -> None:
    """Run the collector: Twilio webhooks, Event Streams and SDK events into Parquet.

    Endpoints: POST /twilio/voice/status, /twilio/conference/status,
    /twilio/recording/status, /twilio/events, /sdk/events; GET /sdk/forwarder.js,
    /healthz, /metrics.
    """
    try:
        import uvicorn

        from voiceinsights.collector import CollectorConfig, create_app
    except ImportError as exc:
        raise ConfigError(
            f"the collector needs the 'collect' extra ({exc.name} is missing): "
            "pip install 'voiceinsights[collect]'"
        ) from None
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"--public-url must start with http:// or https://, got {public_url!r}")
    if compact_every is not None and db is None:
        raise ConfigError("--compact-every needs --db")
    auth_tokens = read_secrets("TWILIO_AUTH_TOKEN", auth_token_file)
    api_secrets = read_secrets("TWILIO_API_SECRET", api_secret_file)
    ingest_secrets = read_secrets("VOICEINSIGHTS_INGEST_SECRET", ingest_secret_file)
    if not (auth_tokens or api_secrets or ingest_secrets):
        raise ConfigError(
            "no secrets configured: set TWILIO_AUTH_TOKEN (or --auth-token-file) for Twilio "
            "webhooks and/or TWILIO_API_SECRET / VOICEINSIGHTS_INGEST_SECRET for SDK events"
        )
    try:
        (data_dir / "spool").mkdir(parents=True, exist_ok=True)
        (data_dir / "parquet").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot use --data-dir {data_dir}: {exc.strerror}") from None
    if not os.access(data_dir / "spool", os.W_OK) or not os.access(data_dir / "parquet", os.W_OK):
        raise ConfigError(f"--data-dir {data_dir} is not writable")
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("voiceinsights.collector")
    if not auth_tokens:
        log.warning("no Twilio auth token: Twilio webhooks will be refused with 403")
    if not (api_secrets or ingest_secrets):
        log.warning("no API or ingest secret: /sdk/events will be refused with 403")
    config = CollectorConfig(
        data_dir=data_dir,
        auth_tokens=auth_tokens,
        public_url=public_url,
        api_secrets=api_secrets,
        ingest_secrets=ingest_secrets,
        account_sid=account_sid,
        allow_origins=allow_origins,
        max_body_bytes=max_body_bytes,
        flush_interval_s=flush_interval,
        after_flush=(
            _compactor(db, data_dir / "parquet", compact_every)
            if db is not None and compact_every is not None
            else None
        ),
    )
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            server_header=False,
        )
    )
    server.run()


@click.command("ingest-token")
@click.argument("identity")
@click.option(
    "--ttl",
    type=click.FloatRange(min=1.0),
    default=3600.0,
    show_default=True,
    help="Lifetime in seconds.",
)
@click.option(
    "--ingest-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File with the ingest secret; else $VOICEINSIGHTS_INGEST_SECRET.",
)
def ingest_token(identity: str, ttl: float, ingest_secret_file: Path | None) -> None:
    """Print a collector ingest token for IDENTITY (for /sdk/events)."""
    from voiceinsights.collector._tokens import issue_ingest_token

    secrets = read_secrets("VOICEINSIGHTS_INGEST_SECRET", ingest_secret_file)
    if not secrets:
        raise ConfigError("set VOICEINSIGHTS_INGEST_SECRET or pass --ingest-secret-file")
    click.echo(issue_ingest_token(secrets[0], identity, ttl_s=ttl))
