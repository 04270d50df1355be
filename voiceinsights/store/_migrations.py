"""Schema versions and forward migrations.

A store records the migrations applied to it in ``schema_version``. Opening a store
applies the missing ones in order, so a file made by an older release opens in a newer
one; a store whose version is newer than :data:`voiceinsights.schema.SCHEMA_VERSION`
raises :class:`~voiceinsights.SchemaVersionError` (this release cannot know its layout).

Each migration is frozen: version 1 is the layout of the first release written out as
literal column lists, not generated from the current schema, so that changing
``schema.py`` cannot silently change what "version 1" means. A test checks that applying
every migration yields exactly the tables and columns of ``schema.TABLES``; changing the
schema therefore needs a new migration here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from voiceinsights._exceptions import SchemaVersionError
from voiceinsights.schema import SCHEMA_VERSION
from voiceinsights.store._ddl import quote
from voiceinsights.store._write import transaction

__all__ = ["MIGRATIONS", "Migration", "current_version", "migrate"]

# Version 1 (release 0.1.0): table -> "column TYPE, ..." exactly as first released.
_V1_TABLES: dict[str, str] = {
    "call_events": (
        "call_sid VARCHAR, parent_call_sid VARCHAR, account_sid VARCHAR, callback_source "
        "VARCHAR, sequence_number INTEGER, timestamp TIMESTAMPTZ, call_status VARCHAR, "
        "direction VARCHAR, from_address VARCHAR, to_address VARCHAR, call_duration_s DOUBLE,"
        " billed_duration_min INTEGER, sip_response_code INTEGER, sip_call_id VARCHAR, "
        "answered_by VARCHAR, forwarded_from VARCHAR, caller_name VARCHAR, recording_sid "
        "VARCHAR, recording_duration_s DOUBLE, received_at TIMESTAMPTZ, ingest_source "
        "VARCHAR, extra JSON"
    ),
    "rest_calls": (
        "call_sid VARCHAR, parent_call_sid VARCHAR, account_sid VARCHAR, from_address "
        "VARCHAR, to_address VARCHAR, status VARCHAR, direction VARCHAR, start_time "
        "TIMESTAMPTZ, end_time TIMESTAMPTZ, duration_s DOUBLE, price DOUBLE, price_unit "
        "VARCHAR, answered_by VARCHAR, forwarded_from VARCHAR, caller_name VARCHAR, "
        "queue_time_ms DOUBLE, trunk_sid VARCHAR, date_created TIMESTAMPTZ, date_updated "
        "TIMESTAMPTZ, received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "conference_events": (
        "conference_sid VARCHAR, friendly_name VARCHAR, account_sid VARCHAR, sequence_number "
        "INTEGER, timestamp TIMESTAMPTZ, event VARCHAR, call_sid VARCHAR, muted BOOLEAN, hold"
        " BOOLEAN, coaching BOOLEAN, end_conference_on_exit BOOLEAN, "
        "start_conference_on_enter BOOLEAN, participant_label VARCHAR, "
        "participant_call_status VARCHAR, reason_participant_left VARCHAR, "
        "call_sid_ending_conference VARCHAR, reason_conference_ended VARCHAR, received_at "
        "TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "recordings": (
        "recording_sid VARCHAR, call_sid VARCHAR, conference_sid VARCHAR, account_sid "
        "VARCHAR, recording_status VARCHAR, recording_url VARCHAR, recording_duration_s "
        "DOUBLE, recording_channels INTEGER, recording_start_time TIMESTAMPTZ, "
        "recording_source VARCHAR, recording_track VARCHAR, error_code INTEGER, received_at "
        "TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "samples": (
        "call_sid VARCHAR, identity VARCHAR, timestamp TIMESTAMPTZ, audio_input_level "
        "INTEGER, audio_output_level INTEGER, bytes_received BIGINT, bytes_sent BIGINT, "
        "packets_received BIGINT, packets_sent BIGINT, packets_lost BIGINT, packets_lost_pct "
        "DOUBLE, jitter_ms DOUBLE, rtt_ms DOUBLE, mos DOUBLE, codec_name VARCHAR, "
        "total_bytes_received BIGINT, total_bytes_sent BIGINT, total_packets_received BIGINT,"
        " total_packets_sent BIGINT, total_packets_lost BIGINT, total_packets_lost_pct "
        "DOUBLE, received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "warnings": (
        "call_sid VARCHAR, identity VARCHAR, timestamp TIMESTAMPTZ, name VARCHAR, event "
        "VARCHAR, threshold_name VARCHAR, threshold_value DOUBLE, values JSON, received_at "
        "TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "feedback": (
        "call_sid VARCHAR, identity VARCHAR, score INTEGER, issue VARCHAR, received_at "
        "TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "probe_runs": (
        "run_id VARCHAR, source VARCHAR, call_sid VARCHAR, target VARCHAR, label VARCHAR, "
        "started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ, duration_s DOUBLE, status VARCHAR, "
        "failed_phase VARCHAR, error VARCHAR, codec_name VARCHAR, call_quality VARCHAR, "
        "mos_avg DOUBLE, mos_min DOUBLE, mos_max DOUBLE, jitter_avg_ms DOUBLE, jitter_min_ms "
        "DOUBLE, jitter_max_ms DOUBLE, rtt_avg_ms DOUBLE, rtt_min_ms DOUBLE, rtt_max_ms "
        "DOUBLE, loss_pct DOUBLE, signaling_ms DOUBLE, ice_ms DOUBLE, dtls_ms DOUBLE, "
        "peer_connection_ms DOUBLE, first_media_ms DOUBLE, audio_rtt_ms DOUBLE, "
        "rfc3550_jitter_ms DOUBLE, rfc3550_loss_pct DOUBLE, effective_loss_pct DOUBLE, "
        "effective_mos DOUBLE, pesq_mos DOUBLE, is_turn_required BOOLEAN, report JSON, "
        "received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "probe_samples": (
        "run_id VARCHAR, timestamp TIMESTAMPTZ, audio_input_level INTEGER, audio_output_level"
        " INTEGER, bytes_received BIGINT, bytes_sent BIGINT, packets_received BIGINT, "
        "packets_sent BIGINT, packets_lost BIGINT, packets_lost_pct DOUBLE, jitter_ms DOUBLE,"
        " rtt_ms DOUBLE, mos DOUBLE, codec_name VARCHAR, total_bytes_received BIGINT, "
        "total_bytes_sent BIGINT, total_packets_received BIGINT, total_packets_sent BIGINT, "
        "total_packets_lost BIGINT, total_packets_lost_pct DOUBLE"
    ),
    "insights_summaries": (
        "call_sid VARCHAR, account_sid VARCHAR, call_type VARCHAR, call_state VARCHAR, "
        "direction VARCHAR, answered_by VARCHAR, processing_state VARCHAR, created_time "
        "TIMESTAMPTZ, start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, duration_s DOUBLE, "
        "connect_duration_s DOUBLE, from_address VARCHAR, to_address VARCHAR, tags VARCHAR[],"
        " disconnected_by VARCHAR, pdd_ms DOUBLE, last_sip_response_num INTEGER, q850_cause "
        "INTEGER, media_region VARCHAR, signaling_region VARCHAR, metrics_edge VARCHAR, "
        "inbound_codec VARCHAR, inbound_jitter_avg_ms DOUBLE, inbound_jitter_max_ms DOUBLE, "
        "inbound_packets_received BIGINT, inbound_packets_lost BIGINT, inbound_loss_pct "
        "DOUBLE, outbound_codec VARCHAR, outbound_jitter_avg_ms DOUBLE, "
        "outbound_jitter_max_ms DOUBLE, outbound_packets_received BIGINT, "
        "outbound_packets_lost BIGINT, outbound_loss_pct DOUBLE, edges JSON, annotation JSON,"
        " received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "insights_events": (
        "call_sid VARCHAR, account_sid VARCHAR, timestamp TIMESTAMPTZ, edge VARCHAR, "
        "event_group VARCHAR, level VARCHAR, name VARCHAR, edge_data JSON, received_at "
        "TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "insights_metrics": (
        "call_sid VARCHAR, account_sid VARCHAR, timestamp TIMESTAMPTZ, edge VARCHAR, "
        "direction VARCHAR, packets_received BIGINT, packets_lost BIGINT, jitter_ms DOUBLE, "
        "rtt_ms DOUBLE, mos DOUBLE, audio_in_level DOUBLE, audio_out_level DOUBLE, edge_data "
        "JSON, received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "cloudevents": (
        "id VARCHAR, type VARCHAR, source VARCHAR, time TIMESTAMPTZ, dataschema VARCHAR, "
        "target_table VARCHAR, received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
    ),
    "rejected": (
        "ingest_source VARCHAR, line BIGINT, kind VARCHAR, field VARCHAR, reason VARCHAR, raw"
        " VARCHAR, rejected_at TIMESTAMPTZ"
    ),
}


def _create(table: str, columns: str) -> str:
    cols = []
    for spec in columns.split(", "):
        name, _, type_ = spec.partition(" ")
        cols.append(f"{quote(name)} {type_}")
    return f"CREATE TABLE IF NOT EXISTS {quote(table)} ({', '.join(cols)})"


@dataclass(frozen=True)
class Migration:
    """One step forward: ``version`` is the schema version after it ran."""

    version: int
    description: str
    statements: tuple[str, ...]
    hook: Callable[[duckdb.DuckDBPyConnection], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "canonical tables of release 0.1.0",
        tuple(_create(t, cols) for t, cols in _V1_TABLES.items()),
    ),
    Migration(
        2,
        "sync_cursors: saved positions of incremental REST pulls",
        (
            "CREATE TABLE IF NOT EXISTS sync_cursors (name VARCHAR PRIMARY KEY, "
            "value VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
        ),
    ),
    Migration(
        3,
        "insights_conferences and insights_participants: conference summaries (REST pull)",
        (
            _create(
                "insights_conferences",
                (
                    "conference_sid VARCHAR, account_sid VARCHAR, friendly_name VARCHAR, status "
                    "VARCHAR, create_time TIMESTAMPTZ, start_time TIMESTAMPTZ, end_time "
                    "TIMESTAMPTZ, duration_s DOUBLE, connect_duration_s DOUBLE, max_participants "
                    "INTEGER, max_concurrent_participants INTEGER, unique_participants INTEGER, "
                    "end_reason VARCHAR, ended_by VARCHAR, mixer_region VARCHAR, "
                    "mixer_region_requested VARCHAR, recording_enabled BOOLEAN, tags VARCHAR[], "
                    "detected_issues JSON, processing_state VARCHAR, received_at TIMESTAMPTZ, "
                    "ingest_source VARCHAR, extra JSON"
                ),
            ),
            _create(
                "insights_participants",
                (
                    "participant_sid VARCHAR, conference_sid VARCHAR, call_sid VARCHAR, "
                    "account_sid VARCHAR, label VARCHAR, call_direction VARCHAR, from_address "
                    "VARCHAR, to_address VARCHAR, call_status VARCHAR, call_type VARCHAR, "
                    "country_code VARCHAR, is_moderator BOOLEAN, is_coach BOOLEAN, join_time "
                    "TIMESTAMPTZ, leave_time TIMESTAMPTZ, duration_s DOUBLE, "
                    "outbound_queue_length INTEGER, outbound_time_in_queue_s DOUBLE, "
                    "jitter_buffer_size VARCHAR, participant_region VARCHAR, conference_region "
                    "VARCHAR, processing_state VARCHAR, properties JSON, events JSON, metrics "
                    "JSON, received_at TIMESTAMPTZ, ingest_source VARCHAR, extra JSON"
                ),
            ),
        ),
    ),
)

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
    "description VARCHAR, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
)


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """Schema version of the open store (0 for an empty file)."""
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'schema_version' AND table_schema = 'main' "
        "AND table_catalog = current_database()"
    ).fetchall()[0]
    if not found or not found[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0]
    return int(row[0]) if row else 0


def check_version(version: int, path: str) -> None:
    """Raise SchemaVersionError when ``version`` is newer than this release writes."""
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} has store schema version {version}, but this voiceinsights release "
            f"understands versions up to {SCHEMA_VERSION}: upgrade voiceinsights to open "
            "it (files are never downgraded)"
        )


def migrate(
    conn: duckdb.DuckDBPyConnection, path: str, *, target: int = SCHEMA_VERSION
) -> list[int]:
    """Apply the migrations after the store's version up to ``target``; return them.

    Each migration runs in its own transaction with its ``schema_version`` row, so an
    interrupted upgrade leaves the store at the last completed version.
    """
    version = current_version(conn)
    check_version(version, path)
    applied = []
    for m in MIGRATIONS:
        if m.version <= version or m.version > target:
            continue
        with transaction(conn):
            conn.execute(_VERSION_TABLE)
            for statement in m.statements:
                conn.execute(statement)
            if m.hook is not None:
                m.hook(conn)
            conn.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                [m.version, m.description],
            )
        applied.append(m.version)
    return applied
