"""Wire models: every Twilio input as pydantic v2 models, turned into canonical rows.

>>> from voiceinsights.models import detect_kind, parse_record
>>> record = {"CallSid": "CA1", "CallStatus": "ringing", "SequenceNumber": "1",
...           "Timestamp": "Tue, 10 Aug 2021 17:47:58 +0000", "Called": "+15551234567"}
>>> detect_kind(record)
'call-status'
>>> [(table, row["sequence_number"], row["extra"]) for table, row in parse_record(record)]
[('call_events', 1, '{"Called":"+15551234567"}')]

Kinds and their tables are listed in ``docs/architecture.md`` and ``docs/models.md``.
Rows are ``(table_name, {column: value})`` with exactly the columns of
:mod:`voiceinsights.schema` (units in the names); fields not modelled go to ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from voiceinsights._exceptions import ValidationError
from voiceinsights._time import parse_timestamp
from voiceinsights.models._base import Row, make_row, validate
from voiceinsights.models.callbacks import (
    CALL_STATUSES,
    CONFERENCE_EVENTS,
    DIRECTIONS,
    CallStatusCallback,
    ConferenceStatusCallback,
    RecordingStatusCallback,
)
from voiceinsights.models.cloudevents import CloudEvent, parse_cloudevent
from voiceinsights.models.insights import (
    InsightsAnnotation,
    InsightsConference,
    InsightsEvent,
    InsightsMetric,
    InsightsParticipant,
    InsightsSummary,
)
from voiceinsights.models.rest import RestCall
from voiceinsights.models.sdk import (
    FEEDBACK_ISSUES,
    SDK_EVENT_TYPES,
    SdkEnvelope,
    SdkFeedback,
    SdkPreflightReport,
    SdkSample,
    SdkSampleTotals,
    SdkWarning,
    SdkWarningData,
    parse_envelope,
    sample_values,
)

__all__ = [
    "CALL_STATUSES",
    "CONFERENCE_EVENTS",
    "DIRECTIONS",
    "FEEDBACK_ISSUES",
    "KINDS",
    "KIND_TABLES",
    "SDK_EVENT_TYPES",
    "CallStatusCallback",
    "CloudEvent",
    "ConferenceStatusCallback",
    "InsightsAnnotation",
    "InsightsConference",
    "InsightsEvent",
    "InsightsMetric",
    "InsightsParticipant",
    "InsightsSummary",
    "RecordingStatusCallback",
    "RestCall",
    "Row",
    "SdkEnvelope",
    "SdkFeedback",
    "SdkPreflightReport",
    "SdkSample",
    "SdkSampleTotals",
    "SdkWarning",
    "SdkWarningData",
    "detect_kind",
    "iter_page_items",
    "make_row",
    "parse_record",
    "sample_values",
]

#: kind -> the tables its rows go to.
KIND_TABLES: Final[dict[str, tuple[str, ...]]] = {
    "call-status": ("call_events",),
    "conference-status": ("conference_events",),
    "recording-status": ("recordings",),
    "sdk-sample": ("samples",),
    "sdk-warning": ("warnings",),
    "sdk-warning-cleared": ("warnings",),
    "sdk-feedback": ("feedback",),
    "preflight-report": ("probe_runs", "probe_samples"),
    "cloudevent": ("cloudevents",),
    "insights-summary": ("insights_summaries",),
    "insights-event": ("insights_events",),
    "insights-metric": ("insights_metrics",),
    "insights-conference": ("insights_conferences",),
    "insights-participant": ("insights_participants",),
    "rest-call": ("rest_calls",),
}
#: Every kind :func:`detect_kind` returns.
KINDS: Final = tuple(KIND_TABLES)

_ENVELOPE_KINDS = {
    "sample": "sdk-sample",
    "warning": "sdk-warning",
    "warning-cleared": "sdk-warning-cleared",
    "feedback": "sdk-feedback",
    "preflight-report": "preflight-report",
}


def detect_kind(obj: Mapping[str, Any]) -> str:
    """Name the kind of one wire record from the fields it carries.

    Parameters
    ----------
    obj : Mapping
        One record: form fields of a callback, an SDK envelope, a bare PreflightTest
        report, a CloudEvent, one Voice Insights item or one Calls REST resource. Pages
        (``{"calls": [...]}``, ``{"meta": ..., key: [...]}``) are unwrapped first with
        :func:`iter_page_items`.

    Returns
    -------
    str
        One of :data:`KINDS`.

    Raises
    ------
    voiceinsights.ValidationError
        When the record is not an object or matches no kind.
    """
    if not isinstance(obj, Mapping):
        raise ValidationError(
            f"a record must be a JSON object, got {type(obj).__name__}", field=None
        )
    keys = obj.keys()
    if "specversion" in keys:
        return "cloudevent"
    env_type = obj.get("type")
    if isinstance(env_type, str) and env_type in _ENVELOPE_KINDS and "data" in keys:
        return _ENVELOPE_KINDS[env_type]
    if "ConferenceSid" in keys and "StatusCallbackEvent" in keys:
        return "conference-status"
    if "RecordingSid" in keys and "RecordingStatus" in keys:
        return "recording-status"
    if "CallSid" in keys and "CallStatus" in keys:
        return "call-status"
    if "callSid" in keys and (
        "testTiming" in keys or "networkTiming" in keys or "callQuality" in keys
    ):
        return "preflight-report"
    if "participant_sid" in keys and "conference_sid" in keys:
        return "insights-participant"
    if "conference_sid" in keys and (
        "unique_participants" in keys
        or "max_participants" in keys
        or "end_reason" in keys
        or "mixer_region" in keys
    ):
        return "insights-conference"
    if "call_sid" in keys:
        if "group" in keys and "level" in keys:
            return "insights-event"
        if "call_type" in keys or "call_state" in keys or "processing_state" in keys:
            return "insights-summary"
        if "timestamp" in keys and ("direction" in keys or "edge" in keys):
            return "insights-metric"
    if (
        "sid" in keys
        and "status" in keys
        and ("date_created" in keys or "uri" in keys or "parent_call_sid" in keys)
    ):
        return "rest-call"
    if "type" in keys and "data" in keys:
        raise ValidationError(
            f"unknown SDK envelope type {obj.get('type')!r}; expected one of "
            f"{', '.join(_ENVELOPE_KINDS)}",
            field="type",
        )
    shown = ", ".join(sorted(str(k) for k in keys)[:12]) or "none"
    raise ValidationError(f"cannot tell what kind of record this is (fields: {shown})", field=None)


def iter_page_items(obj: Any) -> Iterator[Mapping[str, Any]]:
    """Yield the records inside a parsed JSON document.

    A Calls REST page (``{"calls": [...], "page": ...}``) yields its calls; a Voice
    Insights page (``{"meta": {"key": K, ...}, K: [...]}``) yields ``obj[K]``; a JSON array
    (a CloudEvents delivery, a list of records) yields its items (pages inside it are
    unwrapped too); any other object is yielded as it is.
    """
    if isinstance(obj, list):
        for item in obj:
            yield from iter_page_items(item)
        return
    if not isinstance(obj, Mapping):
        yield obj
        return
    meta = obj.get("meta")
    if isinstance(meta, Mapping) and isinstance(meta.get("key"), str):
        items = obj.get(meta["key"])
        if isinstance(items, list):
            yield from items
            return
    calls = obj.get("calls")
    if isinstance(calls, list) and (
        "page" in obj or "next_page_uri" in obj or "first_page_uri" in obj or len(obj) == 1
    ):
        yield from calls
        return
    yield obj


def parse_record(
    obj: Mapping[str, Any],
    *,
    kind: str | None = None,
    source: str | None = None,
    received_at: Any = None,
) -> list[Row]:
    """Validate one wire record and return its canonical rows.

    Parameters
    ----------
    obj : Mapping
        The record as Twilio (or the SDK forwarder) sends it.
    kind : str, optional
        The record's kind (one of :data:`KINDS`); detected with :func:`detect_kind` when
        omitted.
    source : str, optional
        Goes to each row's ``ingest_source`` (a file path, an endpoint, an API resource).
    received_at : datetime, str or number, optional
        When the record was received (UTC); an SDK envelope's own ``received_at`` is used
        when this is omitted. Warnings without samples take their time from it.

    Returns
    -------
    list of (str, dict)
        ``(table_name, row)`` pairs; each row has exactly the columns of that table in
        :mod:`voiceinsights.schema`. A PreflightTest report gives one ``probe_runs`` row
        and its ``probe_samples`` rows; a CloudEvent gives its ``cloudevents`` row then the
        typed row(s).

    Raises
    ------
    voiceinsights.ValidationError
        ``field`` names the offending field by its wire name, ``kind`` the record's kind.
    """
    if kind is None:
        kind = detect_kind(obj)
    elif kind not in KIND_TABLES:
        raise ValidationError(
            f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}", field=None, kind=kind
        )
    if not isinstance(obj, Mapping):
        raise ValidationError(
            f"{kind}: a record must be a JSON object, got {type(obj).__name__}", kind=kind
        )
    try:
        received = parse_timestamp(received_at, field="received_at")
    except ValidationError as exc:
        exc.kind = kind
        raise
    try:
        return _parse(dict(obj), kind, source, received)
    except ValidationError as exc:
        if exc.kind is None:
            exc.kind = kind
        raise


def _parse(
    obj: dict[str, Any], kind: str, source: str | None, received: datetime | None
) -> list[Row]:
    if kind in ("sdk-sample", "sdk-warning", "sdk-warning-cleared", "sdk-feedback"):
        return parse_envelope(obj, kind=kind, source=source, received_at=received)
    if kind == "preflight-report":
        if "type" in obj and "data" in obj:
            return parse_envelope(obj, kind=kind, source=source, received_at=received)
        report = validate(SdkPreflightReport, obj, kind=kind)
        return report.rows(raw=obj, source=source, received_at=received, envelope_extra={})
    if kind == "call-status":
        return validate(CallStatusCallback, obj, kind=kind).rows(
            source=source, received_at=received
        )
    if kind == "conference-status":
        return validate(ConferenceStatusCallback, obj, kind=kind).rows(
            source=source, received_at=received
        )
    if kind == "recording-status":
        return validate(RecordingStatusCallback, obj, kind=kind).rows(
            source=source, received_at=received
        )
    if kind == "insights-summary":
        return validate(InsightsSummary, obj, kind=kind).rows(source=source, received_at=received)
    if kind == "insights-event":
        return validate(InsightsEvent, obj, kind=kind).rows(source=source, received_at=received)
    if kind == "insights-metric":
        return validate(InsightsMetric, obj, kind=kind).rows(source=source, received_at=received)
    if kind == "insights-conference":
        return validate(InsightsConference, obj, kind=kind).rows(
            source=source, received_at=received
        )
    if kind == "insights-participant":
        return validate(InsightsParticipant, obj, kind=kind).rows(
            source=source, received_at=received
        )
    if kind == "rest-call":
        return validate(RestCall, obj, kind=kind).rows(source=source, received_at=received)
    if kind == "cloudevent":
        return parse_cloudevent(obj, source=source, received_at=received, parse=_parse_typed)
    raise AssertionError(kind)  # pragma: no cover - KIND_TABLES covers every kind


def _parse_typed(
    obj: dict[str, Any], kind: str, source: str | None, received: datetime | None
) -> list[Row]:
    """Parse the data of a CloudEvent (never another CloudEvent)."""
    if kind == "cloudevent":
        raise ValidationError(
            "a CloudEvent's data cannot be another CloudEvent", field="data", kind=kind
        )
    return _parse(obj, kind, source, received)
