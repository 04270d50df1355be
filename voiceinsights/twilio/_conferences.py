"""Conference and participant summaries (Voice Insights) as canonical rows.

Only summaries whose ``processing_state`` is ``complete`` are stored, and participants
with their complete conference: a partial conference summary holds the pull's watermark
back, so it is asked again and stored once final (the store keeps the first version of
these rows).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from voiceinsights._exceptions import ValidationError
from voiceinsights._time import parse_timestamp
from voiceinsights.store import IngestReport, Rejection, Store

__all__ = ["conference_row", "participant_row", "store_conferences"]

_CONFERENCE_FIELDS = {
    "conference_sid",
    "account_sid",
    "friendly_name",
    "status",
    "create_time",
    "start_time",
    "end_time",
    "duration_seconds",
    "connect_duration_seconds",
    "max_participants",
    "max_concurrent_participants",
    "unique_participants",
    "end_reason",
    "ended_by",
    "mixer_region",
    "mixer_region_requested",
    "recording_enabled",
    "tags",
    "detected_issues",
    "processing_state",
}
_PARTICIPANT_FIELDS = {
    "participant_sid",
    "conference_sid",
    "call_sid",
    "account_sid",
    "label",
    "call_direction",
    "from",
    "to",
    "call_status",
    "call_type",
    "country_code",
    "is_moderator",
    "is_coach",
    "join_time",
    "leave_time",
    "duration_seconds",
    "outbound_queue_length",
    "outbound_time_in_queue",
    "jitter_buffer_size",
    "participant_region",
    "conference_region",
    "processing_state",
    "properties",
    "events",
    "metrics",
}


def _num(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _extra(item: Mapping[str, Any], known: set[str]) -> str | None:
    rest = {k: v for k, v in item.items() if k not in known}
    return _json(rest) if rest else None


def conference_row(item: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The ``insights_conferences`` row of one conference summary."""
    if not str(item.get("conference_sid") or "").startswith("CF"):
        raise ValueError("conference_sid is missing or not a CF... SID")
    tags = item.get("tags")
    return {
        "conference_sid": item["conference_sid"],
        "account_sid": item.get("account_sid"),
        "friendly_name": item.get("friendly_name"),
        "status": item.get("status"),
        "create_time": parse_timestamp(item.get("create_time"), field="create_time"),
        "start_time": parse_timestamp(item.get("start_time"), field="start_time"),
        "end_time": parse_timestamp(item.get("end_time"), field="end_time"),
        "duration_s": _num(item.get("duration_seconds")),
        "connect_duration_s": _num(item.get("connect_duration_seconds")),
        "max_participants": _int(item.get("max_participants")),
        "max_concurrent_participants": _int(item.get("max_concurrent_participants")),
        "unique_participants": _int(item.get("unique_participants")),
        "end_reason": item.get("end_reason"),
        "ended_by": item.get("ended_by"),
        "mixer_region": item.get("mixer_region"),
        "mixer_region_requested": item.get("mixer_region_requested"),
        "recording_enabled": item.get("recording_enabled"),
        "tags": [str(t) for t in tags] if isinstance(tags, list) else None,
        "detected_issues": _json(item.get("detected_issues")),
        "processing_state": item.get("processing_state"),
        "received_at": None,
        "ingest_source": source,
        "extra": _extra(item, _CONFERENCE_FIELDS),
    }


def participant_row(item: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """The ``insights_participants`` row of one conference participant summary."""
    if not str(item.get("participant_sid") or "").startswith("CP"):
        raise ValueError("participant_sid is missing or not a CP... SID")
    return {
        "participant_sid": item["participant_sid"],
        "conference_sid": item.get("conference_sid"),
        "call_sid": item.get("call_sid"),
        "account_sid": item.get("account_sid"),
        "label": item.get("label"),
        "call_direction": item.get("call_direction"),
        "from_address": item.get("from"),
        "to_address": item.get("to"),
        "call_status": item.get("call_status"),
        "call_type": item.get("call_type"),
        "country_code": item.get("country_code"),
        "is_moderator": item.get("is_moderator"),
        "is_coach": item.get("is_coach"),
        "join_time": parse_timestamp(item.get("join_time"), field="join_time"),
        "leave_time": parse_timestamp(item.get("leave_time"), field="leave_time"),
        "duration_s": _num(item.get("duration_seconds")),
        "outbound_queue_length": _int(item.get("outbound_queue_length")),
        "outbound_time_in_queue_s": _num(item.get("outbound_time_in_queue")),
        "jitter_buffer_size": item.get("jitter_buffer_size"),
        "participant_region": item.get("participant_region"),
        "conference_region": item.get("conference_region"),
        "processing_state": item.get("processing_state"),
        "properties": _json(item.get("properties")),
        "events": _json(item.get("events")),
        "metrics": _json(item.get("metrics")),
        "received_at": None,
        "ingest_source": source,
        "extra": _extra(item, _PARTICIPANT_FIELDS),
    }


def store_conferences(
    store: Store,
    conferences: Iterable[Mapping[str, Any]],
    participants: Iterable[Mapping[str, Any]],
    *,
    source: str = "twilio-api:conferences",
) -> IngestReport:
    """Write complete conference summaries and their participants; reject bad ones."""
    report = IngestReport()
    for table, items, build, kind in (
        ("insights_conferences", conferences, conference_row, "insights-conference"),
        ("insights_participants", participants, participant_row, "insights-participant"),
    ):
        rows = []
        for i, item in enumerate(items):
            if item.get("processing_state") != "complete":
                continue
            report.kind(kind).records += 1
            try:
                rows.append(build(item, source=source))
            except (ValueError, TypeError, ValidationError) as exc:
                rejection = Rejection(
                    source, i + 1, kind, None, str(exc), json.dumps(item, default=str)
                )
                store.write_rows("rejected", [rejection.row()])
                report.reject(rejection)
        if rows:
            report.add_write(store.write_rows(table, rows, source=source), kind)
    return report
