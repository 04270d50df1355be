"""DDL generated from :mod:`voiceinsights.schema`: tables, the ``calls`` view, merge rules.

Everything the store says in SQL about a table comes from here, so table and column names
reach SQL only from the schema, never from user input.
"""

from __future__ import annotations

from voiceinsights.schema import TABLES, Table

__all__ = [
    "CALLS_VIEW_SQL",
    "TERMINAL_STATUSES",
    "create_table_sql",
    "key_match",
    "preference_order",
    "quote",
]

#: Call statuses after which a leg changes no more; they outrank any other callback.
TERMINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


def quote(name: str) -> str:
    """Quote an identifier (names come from the schema; quoting guards reserved words)."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` statement of a canonical table."""
    cols = ",\n    ".join(f"{quote(c.name)} {c.type}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n    {cols}\n)"


def key_match(table: Table, left: str, right: str) -> str:
    """SQL condition: rows ``left`` and ``right`` have the same natural key (nulls equal)."""
    return " AND ".join(
        f"{left}.{quote(k)} IS NOT DISTINCT FROM {right}.{quote(k)}" for k in table.key
    )


def preference_order(table: Table, alias: str = "") -> str:
    """``ORDER BY`` items ranking versions of one natural key, preferred first.

    ``rest_calls``: the newest ``date_updated`` wins. ``insights_summaries``: ``complete``
    beats ``predicted-complete`` beats ``partial``; then the newest ``received_at``.
    Other tables keep the first version stored (later duplicates add nothing).
    """
    p = f"{alias}." if alias else ""
    if table.name == "rest_calls":
        return f"{p}date_updated DESC NULLS LAST, {p}received_at DESC NULLS LAST"
    if table.name == "insights_summaries":
        return f"{summary_rank(alias)} DESC, {p}received_at DESC NULLS LAST"
    for column in ("received_at", "rejected_at"):
        if column in table.column_names:
            return f"{p}{column} ASC NULLS LAST"
    return ", ".join(f"{p}{quote(k)}" for k in table.key)


def summary_rank(alias: str = "") -> str:
    """SQL rank of a summary's processing state (higher is more complete)."""
    p = f"{alias}." if alias else ""
    return (
        f"(CASE replace(lower({p}processing_state), '_', '-') WHEN 'complete' THEN 3 "
        "WHEN 'predicted-complete' THEN 2 WHEN 'partial' THEN 1 ELSE 0 END)"
    )


def better_than(table: Table, new: str, old: str) -> str | None:
    """SQL condition: version ``new`` should replace stored version ``old``, or None."""
    if table.name == "rest_calls":
        return (
            f"{new}.date_updated IS NOT NULL AND "
            f"({old}.date_updated IS NULL OR {new}.date_updated > {old}.date_updated)"
        )
    if table.name == "insights_summaries":
        return f"{summary_rank(new)} > {summary_rank(old)}"
    return None


_TERMINAL = ", ".join(f"'{s}'" for s in TERMINAL_STATUSES)

#: The ``calls`` view: one row per leg. REST rows win over Insights summaries, which win
#: over status callbacks. A leg's callback status is the one with the highest
#: (terminal?, SequenceNumber, timestamp): out-of-order deliveries end in the final state.
CALLS_VIEW_SQL = f"""
CREATE OR REPLACE VIEW calls AS
WITH cb AS (
    SELECT
        call_sid,
        arg_max(parent_call_sid, sequence_number) FILTER (WHERE parent_call_sid IS NOT NULL)
            AS parent_call_sid,
        arg_max(account_sid, sequence_number) FILTER (WHERE account_sid IS NOT NULL)
            AS account_sid,
        arg_max(direction, sequence_number) FILTER (WHERE direction IS NOT NULL)
            AS direction,
        arg_max(call_status, {{'t': call_status IN ({_TERMINAL}),
                               's': sequence_number, 'ts': "timestamp"}})
            FILTER (WHERE call_status IS NOT NULL) AS status,
        arg_max(from_address, sequence_number) FILTER (WHERE from_address IS NOT NULL)
            AS from_address,
        arg_max(to_address, sequence_number) FILTER (WHERE to_address IS NOT NULL)
            AS to_address,
        min("timestamp") AS start_time,
        max("timestamp") FILTER (WHERE call_status IN ({_TERMINAL})) AS end_time,
        arg_max(call_duration_s, sequence_number) FILTER (WHERE call_duration_s IS NOT NULL)
            AS duration_s,
        arg_max(answered_by, sequence_number) FILTER (WHERE answered_by IS NOT NULL)
            AS answered_by,
        arg_max(sip_response_code, sequence_number)
            FILTER (WHERE sip_response_code IS NOT NULL) AS sip_response_code,
        arg_max(sip_call_id, sequence_number) FILTER (WHERE sip_call_id IS NOT NULL)
            AS sip_call_id,
        max("timestamp") AS last_event_at
    FROM call_events
    WHERE call_sid IS NOT NULL
    GROUP BY call_sid
),
rc AS (SELECT * FROM rest_calls WHERE call_sid IS NOT NULL),
sm AS (SELECT * FROM insights_summaries WHERE call_sid IS NOT NULL),
legs AS (
    SELECT call_sid FROM cb UNION SELECT call_sid FROM rc UNION SELECT call_sid FROM sm
)
SELECT
    legs.call_sid,
    coalesce(rc.parent_call_sid, cb.parent_call_sid) AS parent_call_sid,
    coalesce(rc.account_sid, sm.account_sid, cb.account_sid) AS account_sid,
    coalesce(rc.direction, sm.direction, cb.direction) AS direction,
    coalesce(
        rc.status,
        CASE sm.call_state WHEN 'fail' THEN 'failed' WHEN 'noanswer' THEN 'no-answer'
            WHEN 'answered' THEN 'in-progress' ELSE sm.call_state END,
        cb.status
    ) AS status,
    coalesce(rc.from_address, sm.from_address, cb.from_address) AS from_address,
    coalesce(rc.to_address, sm.to_address, cb.to_address) AS to_address,
    coalesce(
        sm.call_type,
        CASE
            WHEN coalesce(rc.direction, cb.direction) LIKE 'trunking%' THEN 'trunking'
            WHEN coalesce(rc.from_address, cb.from_address) LIKE 'client:%'
              OR coalesce(rc.to_address, cb.to_address) LIKE 'client:%' THEN 'client'
            WHEN coalesce(rc.from_address, cb.from_address) LIKE 'sip:%'
              OR coalesce(rc.to_address, cb.to_address) LIKE 'sip:%' THEN 'sip'
            WHEN legs.call_sid IN (SELECT call_sid FROM cb) THEN 'carrier'
        END
    ) AS call_type,
    coalesce(rc.start_time, sm.start_time, cb.start_time) AS start_time,
    coalesce(rc.end_time, sm.end_time, cb.end_time) AS end_time,
    coalesce(rc.duration_s, sm.duration_s, cb.duration_s) AS duration_s,
    coalesce(rc.answered_by, sm.answered_by, cb.answered_by) AS answered_by,
    coalesce(cb.sip_response_code, sm.last_sip_response_num) AS sip_response_code,
    cb.sip_call_id AS sip_call_id,
    rc.price AS price,
    rc.price_unit AS price_unit,
    list_filter(
        [CASE WHEN cb.call_sid IS NOT NULL THEN 'callbacks' END,
         CASE WHEN rc.call_sid IS NOT NULL THEN 'rest' END,
         CASE WHEN sm.call_sid IS NOT NULL THEN 'summary' END],
        lambda x: x IS NOT NULL
    ) AS sources,
    cb.last_event_at AS last_event_at
FROM legs
LEFT JOIN cb ON cb.call_sid = legs.call_sid
LEFT JOIN rc ON rc.call_sid = legs.call_sid
LEFT JOIN sm ON sm.call_sid = legs.call_sid
"""


def all_tables_sql() -> list[str]:
    """DDL of every table of the current schema (used to freeze migration snapshots)."""
    return [create_table_sql(t) for t in TABLES]
