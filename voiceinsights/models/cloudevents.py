"""Event Streams CloudEvents (1.0), delivered to a webhook sink as a JSON array.

Each CloudEvent gives a ``cloudevents`` log row and the row(s) of its ``data`` in the typed
tables. ``data`` may arrive as an object or as a JSON string (then it is parsed a second
time). Dispatch by ``type``:

=====================================================  ==================================
type                                                   data parsed as
=====================================================  ==================================
``com.twilio.voice.insights.call-summary.*``           ``insights-summary``
``com.twilio.voice.insights.call-event.*``             ``insights-event``
``com.twilio.voice.insights.call-metrics.*``           ``insights-metric``
``...insights.conference-summary.*``                   ``insights-conference``
``...insights.conference-participant-summary.*``       ``insights-participant``
``com.twilio.voice.status-callback.*``                 ``data.request.parameters`` as a
                                                       call / conference / recording
                                                       status callback
=====================================================  ==================================

Other types have no typed table: their log row keeps the whole ``data`` in its ``extra``
(``target_table`` is null), so nothing is lost. A status-callback event's other data
fields (``sid``, ``timestamp``, the request's ``method`` and ``url``) are kept in the log
row's ``extra`` too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field

from voiceinsights._exceptions import ValidationError
from voiceinsights.models._base import Row, Timestamp, WireModel, extra_json, make_row, validate

__all__ = ["TYPE_KINDS", "CloudEvent", "parse_cloudevent"]

_KIND = "cloudevent"

#: CloudEvent type prefix -> kind of its data.
TYPE_KINDS: tuple[tuple[str, str], ...] = (
    ("com.twilio.voice.insights.call-summary.", "insights-summary"),
    ("com.twilio.voice.insights.call-event.", "insights-event"),
    ("com.twilio.voice.insights.call-metrics.", "insights-metric"),
    ("com.twilio.voice.insights.conference-summary.", "insights-conference"),
    ("com.twilio.voice.insights.conference-participant-summary.", "insights-participant"),
)
_STATUS_CALLBACK = "com.twilio.voice.status-callback."

ParseFn = Callable[[dict[str, Any], str, str | None, datetime | None], list[Row]]


class CloudEvent(WireModel):
    """The CloudEvents 1.0 envelope."""

    specversion: str
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    source: str | None = None
    time: Timestamp = None
    dataschema: str | None = None
    datacontenttype: str | None = None
    data: Any = None

    def data_object(self) -> Any:
        """``data`` as an object, parsing it when it arrived as a JSON string."""
        if isinstance(self.data, str | bytes):
            try:
                return json.loads(self.data)
            except ValueError as exc:
                raise ValidationError(
                    f"{_KIND}: field 'data' is a string but not JSON ({exc})",
                    field="data",
                    kind=_KIND,
                ) from None
        return self.data


def _data_kind(event_type: str, data: Mapping[str, Any]) -> tuple[str | None, Any]:
    for prefix, kind in TYPE_KINDS:
        if event_type.startswith(prefix):
            return kind, data
    if event_type.startswith(_STATUS_CALLBACK):
        request = data.get("request")
        params = request.get("parameters") if isinstance(request, Mapping) else None
        if not isinstance(params, Mapping):
            raise ValidationError(
                f"{_KIND}: a status-callback event needs data.request.parameters",
                field="data.request.parameters",
                kind=_KIND,
            )
        if "ConferenceSid" in params and "StatusCallbackEvent" in params:
            return "conference-status", params
        if "RecordingSid" in params and "RecordingStatus" in params:
            return "recording-status", params
        return "call-status", params
    return None, data


def parse_cloudevent(
    obj: Mapping[str, Any],
    *,
    source: str | None,
    received_at: datetime | None,
    parse: ParseFn,
) -> list[Row]:
    """The ``cloudevents`` log row followed by the typed row(s) of the event's data.

    ``parse(data, kind, source, received_at)`` parses the data (it is
    :func:`voiceinsights.models.parse_record`'s dispatcher; passed in to keep this module
    free of a circular import).
    """
    event = validate(CloudEvent, obj, kind=_KIND)
    data = event.data_object()
    typed: list[Row] = []
    unhandled: dict[str, Any] = {}
    if isinstance(data, Mapping):
        kind, payload = _data_kind(event.type, data)
    else:
        kind, payload = None, data
    if kind is not None:
        try:
            typed = parse(dict(payload), kind, source, received_at)
        except ValidationError as exc:
            prefix = "data.request.parameters" if payload is not data else "data"
            field = f"{prefix}.{exc.field}" if exc.field else prefix
            raise ValidationError(
                f"{_KIND} {event.id}: {exc}", field=field, kind=exc.kind or kind
            ) from None
        if payload is not data:  # status callback: keep the request's other fields
            others = {k: v for k, v in data.items() if k != "request"}
            req = {k: v for k, v in data["request"].items() if k != "parameters"}
            unhandled = others | ({"request": req} if req else {})
    else:
        unhandled = {"data": data}
    log_extra = dict(event.unmodelled())
    if event.datacontenttype is not None:
        log_extra["datacontenttype"] = event.datacontenttype
    log_extra |= unhandled
    log = make_row(
        "cloudevents",
        {
            "id": event.id,
            "type": event.type,
            "source": event.source,
            "time": event.time,
            "dataschema": event.dataschema,
            "target_table": typed[0][0] if typed else None,
            "received_at": received_at,
            "ingest_source": source,
            "extra": extra_json(log_extra),
        },
    )
    return [log, *typed]
