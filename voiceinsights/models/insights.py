"""Voice Insights REST items: call summary, call event, call metric, annotation, and
conference and participant summaries.

Field names are Insights' own (snake_case). Timestamps are ISO 8601. A summary's edge
objects (``carrier_edge``, ``client_edge``, ``sdk_edge``, ``sip_edge``) are kept verbatim
in ``edges``; the metrics of the first edge present (sdk, client, sip, carrier) are also
flattened into ``inbound_*`` / ``outbound_*`` columns and ``metrics_edge`` says which.
``properties.direction`` arrives with underscores (``outbound_api``) and is stored with
hyphens like a call's ``Direction`` (``outbound-api``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from voiceinsights.models._base import Row, Timestamp, WireModel, dumps, extra_json, make_row

__all__ = [
    "EDGES",
    "InsightsAnnotation",
    "InsightsConference",
    "InsightsEvent",
    "InsightsMetric",
    "InsightsParticipant",
    "InsightsSummary",
]

#: Edge objects of Insights items, in the order summaries pick their flattened metrics.
EDGES: tuple[str, ...] = ("sdk_edge", "client_edge", "sip_edge", "carrier_edge")

QualityIssue = Literal[
    "no_quality_issue",
    "low_volume",
    "choppy_robotic",
    "echo",
    "dtmf",
    "latency",
    "owa",
    "static_noise",
]


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _split_edges(
    item: InsightsEvent | InsightsMetric, *, fallback: bool
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Split an item's edge objects into the named edge's object and the rest.

    Parameters
    ----------
    item
        An event or metric with ``edge`` and the :data:`EDGES` fields.
    fallback
        With no ``edge`` named, take the first edge object present (in :data:`EDGES`
        order) as the named one.

    Returns
    -------
    tuple
        The named edge's object (or None), and the unmodelled fields with every other
        edge object present added.
    """
    extra = dict(item.unmodelled())
    edge_data: dict[str, Any] | None = None
    for e in EDGES:
        obj = getattr(item, e)
        if obj is None:
            continue
        if e == item.edge or (fallback and item.edge is None and edge_data is None):
            edge_data = obj
        else:
            extra[e] = obj
    return edge_data, extra


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    f = _float(value)
    return None if f is None or f != f else int(f)


def _value(obj: Any) -> float | None:
    """A metric that is ``{"value": x}``, ``{"avg": x}`` or a bare number."""
    if isinstance(obj, dict):
        return _float(obj.get("value", obj.get("avg")))
    return _float(obj)


class InsightsAnnotation(WireModel):
    """``/Voice/{CallSid}/Annotation``: what a person said about the call."""

    answered_by: str | None = None
    connectivity_issue: str | None = None
    quality_issues: list[QualityIssue] | None = None
    spam: bool | None = None
    call_score: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = None
    incident: str | None = None


class _Properties(WireModel):
    direction: str | None = None
    disconnected_by: str | None = None
    pdd_ms: float | None = Field(default=None, ge=0)
    last_sip_response_num: int | None = None
    q850_cause: int | None = None
    media_region: str | None = None
    signaling_region: str | None = None


class InsightsSummary(WireModel):
    """A Voice Insights call summary (REST ``/Voice/{CallSid}/Summary`` or Event Streams)."""

    call_sid: str = Field(min_length=2)
    account_sid: str | None = None
    call_type: str | None = None
    call_state: str | None = None
    answered_by: str | None = None
    processing_state: str | None = None
    created_time: Timestamp = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    duration: float | None = Field(default=None, ge=0)
    connect_duration: float | None = Field(default=None, ge=0)
    from_: dict[str, Any] | str | None = Field(default=None, alias="from")
    to: dict[str, Any] | str | None = None
    carrier_edge: dict[str, Any] | None = None
    client_edge: dict[str, Any] | None = None
    sdk_edge: dict[str, Any] | None = None
    sip_edge: dict[str, Any] | None = None
    tags: list[str] | None = None
    properties: _Properties | None = None
    annotation: InsightsAnnotation | None = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``insights_summaries`` row."""
        props = self.properties or _Properties()
        edges = {e: getattr(self, e) for e in EDGES if getattr(self, e) is not None}
        metrics_edge = next(iter(edges), None)
        flat: dict[str, Any] = {}
        for d in ("inbound", "outbound"):
            m = _get(edges.get(metrics_edge or ""), "metrics", d)
            codec = _get(m, "codec_name")
            if codec is None and isinstance(_get(m, "codec"), str):
                codec = _get(m, "codec")
            flat |= {
                f"{d}_codec": codec,
                f"{d}_jitter_avg_ms": _float(_get(m, "jitter", "avg")),
                f"{d}_jitter_max_ms": _float(_get(m, "jitter", "max")),
                f"{d}_packets_received": _int(_get(m, "packets_received")),
                f"{d}_packets_lost": _int(_get(m, "packets_lost")),
                f"{d}_loss_pct": _float(_get(m, "packets_loss_percentage")),
            }
        extra: dict[str, Any] = dict(self.unmodelled())
        extra |= {f"properties.{k}": v for k, v in props.unmodelled().items()}
        if isinstance(self.from_, dict):
            extra["from"] = self.from_
        if isinstance(self.to, dict):
            extra["to"] = self.to
        caller = self.from_.get("caller") if isinstance(self.from_, dict) else self.from_
        callee = self.to.get("callee") if isinstance(self.to, dict) else self.to
        return [
            make_row(
                "insights_summaries",
                {
                    "call_sid": self.call_sid,
                    "account_sid": self.account_sid,
                    "call_type": self.call_type,
                    "call_state": self.call_state,
                    "direction": None
                    if props.direction is None
                    else props.direction.replace("_", "-"),
                    "answered_by": self.answered_by,
                    "processing_state": self.processing_state,
                    "created_time": self.created_time,
                    "start_time": self.start_time,
                    "end_time": self.end_time,
                    "duration_s": self.duration,
                    "connect_duration_s": self.connect_duration,
                    "from_address": caller,
                    "to_address": callee,
                    "tags": list(self.tags) if self.tags is not None else None,
                    "disconnected_by": props.disconnected_by,
                    "pdd_ms": props.pdd_ms,
                    "last_sip_response_num": props.last_sip_response_num,
                    "q850_cause": props.q850_cause,
                    "media_region": props.media_region,
                    "signaling_region": props.signaling_region,
                    "metrics_edge": metrics_edge,
                    **flat,
                    "edges": dumps(edges) if edges else None,
                    "annotation": None
                    if self.annotation is None
                    else dumps(self.annotation.model_dump(exclude_none=True)),
                    "received_at": received_at,
                    "ingest_source": source,
                    "extra": extra_json(extra),
                },
            )
        ]


class InsightsEvent(WireModel):
    """A Voice Insights call event (``/Voice/{CallSid}/Events`` item)."""

    call_sid: str = Field(min_length=2)
    account_sid: str | None = None
    timestamp: Timestamp
    edge: str | None = None
    group: str | None = None
    level: str | None = None
    name: str | None = None
    carrier_edge: dict[str, Any] | None = None
    sip_edge: dict[str, Any] | None = None
    sdk_edge: dict[str, Any] | None = None
    client_edge: dict[str, Any] | None = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``insights_events`` row; ``edge_data`` is the object of the named edge."""
        edge_data, extra = _split_edges(self, fallback=False)
        return [
            make_row(
                "insights_events",
                {
                    "call_sid": self.call_sid,
                    "account_sid": self.account_sid,
                    "timestamp": self.timestamp,
                    "edge": self.edge,
                    "event_group": self.group,
                    "level": self.level,
                    "name": self.name,
                    "edge_data": None if edge_data is None else dumps(edge_data),
                    "received_at": received_at,
                    "ingest_source": source,
                    "extra": extra_json(extra),
                },
            )
        ]


class InsightsMetric(WireModel):
    """A Voice Insights call metric (``/Voice/{CallSid}/Metrics`` item, 10 s interval)."""

    call_sid: str = Field(min_length=2)
    account_sid: str | None = None
    timestamp: Timestamp
    edge: str | None = None
    direction: str | None = None
    carrier_edge: dict[str, Any] | None = None
    sip_edge: dict[str, Any] | None = None
    sdk_edge: dict[str, Any] | None = None
    client_edge: dict[str, Any] | None = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``insights_metrics`` row, from ``<edge>.interval``."""
        edge_data, extra = _split_edges(self, fallback=True)
        interval = _get(edge_data, "interval")
        return [
            make_row(
                "insights_metrics",
                {
                    "call_sid": self.call_sid,
                    "account_sid": self.account_sid,
                    "timestamp": self.timestamp,
                    "edge": self.edge,
                    "direction": self.direction,
                    "packets_received": _int(_get(interval, "packets_received")),
                    "packets_lost": _int(_get(interval, "packets_lost")),
                    "jitter_ms": _value(_get(interval, "jitter")),
                    "rtt_ms": _value(_get(interval, "rtt")),
                    "mos": _value(_get(interval, "mos")),
                    "audio_in_level": _value(_get(interval, "audio_in")),
                    "audio_out_level": _value(_get(interval, "audio_out")),
                    "edge_data": None if edge_data is None else dumps(edge_data),
                    "received_at": received_at,
                    "ingest_source": source,
                    "extra": extra_json(extra),
                },
            )
        ]


class InsightsConference(WireModel):
    """A Voice Insights conference summary (``/v1/Conferences`` item or Event Streams
    ``conference-summary``)."""

    conference_sid: str = Field(pattern=r"^CF")
    account_sid: str | None = None
    friendly_name: str | None = None
    status: str | None = None
    create_time: Timestamp = None
    start_time: Timestamp = None
    end_time: Timestamp = None
    duration_seconds: float | None = Field(default=None, ge=0)
    connect_duration_seconds: float | None = Field(default=None, ge=0)
    max_participants: int | None = Field(default=None, ge=0)
    max_concurrent_participants: int | None = Field(default=None, ge=0)
    unique_participants: int | None = Field(default=None, ge=0)
    end_reason: str | None = None
    ended_by: str | None = None
    mixer_region: str | None = None
    mixer_region_requested: str | None = None
    recording_enabled: bool | None = None
    tags: list[str] | None = None
    detected_issues: Any = None
    processing_state: str | None = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``insights_conferences`` row."""
        values = self.model_dump()
        for key in self.unmodelled():
            values.pop(key, None)
        values["duration_s"] = values.pop("duration_seconds")
        values["connect_duration_s"] = values.pop("connect_duration_seconds")
        issues = values.pop("detected_issues")
        values.update(
            detected_issues=None if issues is None else dumps(issues),
            received_at=received_at,
            ingest_source=source,
            extra=extra_json(self.unmodelled()),
        )
        return [make_row("insights_conferences", values)]


class InsightsParticipant(WireModel):
    """A Voice Insights conference participant summary
    (``/v1/Conferences/{Sid}/Participants`` item or Event Streams
    ``conference-participant-summary``)."""

    participant_sid: str = Field(pattern=r"^CP")
    conference_sid: str | None = None
    call_sid: str | None = None
    account_sid: str | None = None
    label: str | None = None
    call_direction: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    call_status: str | None = None
    call_type: str | None = None
    country_code: str | None = None
    is_moderator: bool | None = None
    is_coach: bool | None = None
    join_time: Timestamp = None
    leave_time: Timestamp = None
    duration_seconds: float | None = Field(default=None, ge=0)
    outbound_queue_length: int | None = Field(default=None, ge=0)
    outbound_time_in_queue: float | None = Field(default=None, ge=0)
    jitter_buffer_size: str | None = None
    participant_region: str | None = None
    conference_region: str | None = None
    processing_state: str | None = None
    properties: Any = None
    events: Any = None
    metrics: Any = None

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``insights_participants`` row."""
        values = self.model_dump()
        for key in self.unmodelled():
            values.pop(key, None)
        values["from_address"] = values.pop("from_")
        values["to_address"] = values.pop("to")
        values["duration_s"] = values.pop("duration_seconds")
        values["outbound_time_in_queue_s"] = values.pop("outbound_time_in_queue")
        for key in ("properties", "events", "metrics"):
            values[key] = None if values[key] is None else dumps(values[key])
        values.update(
            received_at=received_at, ingest_source=source, extra=extra_json(self.unmodelled())
        )
        return [make_row("insights_participants", values)]
