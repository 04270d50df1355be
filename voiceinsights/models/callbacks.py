"""Status callbacks Twilio POSTs as form fields: call progress (with ``<Dial>`` and SIP
extras), conference events and recording events.

Field names are Twilio's (``CallSid``, ``SequenceNumber``...). Form posts carry every value
as a string: empty strings become null, ``"true"``/``"false"`` booleans, numbers are parsed,
``Timestamp`` (RFC 2822) becomes UTC. Fields not modelled here (``ApiVersion``, geographic
fields, ``SipHeader_*``, ``CallToken``...) are kept in the row's ``extra`` JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from voiceinsights.models._base import FormModel, Row, Timestamp, extra_json, make_row

__all__ = [
    "CALL_STATUSES",
    "CONFERENCE_EVENTS",
    "DIRECTIONS",
    "CallStatusCallback",
    "ConferenceStatusCallback",
    "RecordingStatusCallback",
]

CallStatus = Literal[
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
]
Direction = Literal[
    "inbound", "outbound-api", "outbound-dial", "trunking-terminating", "trunking-originating"
]
ConferenceEvent = Literal[
    "conference-start",
    "conference-end",
    "participant-join",
    "participant-leave",
    "participant-mute",
    "participant-unmute",
    "participant-hold",
    "participant-unhold",
    "participant-modify",
    "participant-speech-start",
    "participant-speech-stop",
    "announcement-end",
    "announcement-fail",
]

#: Values of ``CallStatus``.
CALL_STATUSES: tuple[str, ...] = CallStatus.__args__  # type: ignore[attr-defined]
#: Values of ``Direction``.
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]
#: Values of a conference callback's ``StatusCallbackEvent``.
CONFERENCE_EVENTS: tuple[str, ...] = ConferenceEvent.__args__  # type: ignore[attr-defined]


class _Common(FormModel):
    def _extra(self) -> str | None:
        return extra_json(self.unmodelled())


class CallStatusCallback(_Common):
    """A call-progress status callback (also ``<Dial>`` noun and SIP leg callbacks).

    ``CallbackSource`` defaults to ``call-progress-events`` when absent or empty (the value
    Twilio sends with every call-progress callback), so the natural key is never null.
    """

    call_sid: str = Field(alias="CallSid", min_length=2)
    parent_call_sid: str | None = Field(default=None, alias="ParentCallSid")
    account_sid: str | None = Field(default=None, alias="AccountSid")
    callback_source: str = Field(default="call-progress-events", alias="CallbackSource")
    sequence_number: int | None = Field(default=None, alias="SequenceNumber", ge=0)
    timestamp: Timestamp = Field(default=None, alias="Timestamp")
    call_status: CallStatus = Field(alias="CallStatus")
    direction: Direction | None = Field(default=None, alias="Direction")
    from_address: str | None = Field(default=None, alias="From")
    to_address: str | None = Field(default=None, alias="To")
    call_duration_s: float | None = Field(default=None, alias="CallDuration", ge=0)
    billed_duration_min: int | None = Field(default=None, alias="Duration", ge=0)
    sip_response_code: int | None = Field(default=None, alias="SipResponseCode", ge=100, le=699)
    sip_call_id: str | None = Field(default=None, alias="SipCallId")
    answered_by: str | None = Field(default=None, alias="AnsweredBy")
    forwarded_from: str | None = Field(default=None, alias="ForwardedFrom")
    caller_name: str | None = Field(default=None, alias="CallerName")
    recording_sid: str | None = Field(default=None, alias="RecordingSid")
    recording_duration_s: float | None = Field(default=None, alias="RecordingDuration", ge=0)

    @field_validator("callback_source", mode="before")
    @classmethod
    def _default_source(cls, value: object) -> object:
        # A CSV export writes an absent CallbackSource as an empty cell (a null by now).
        return "call-progress-events" if value is None else value

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``call_events`` row."""
        values = self._column_values()
        values.update(received_at=received_at, ingest_source=source, extra=self._extra())
        return [make_row("call_events", values)]


class ConferenceStatusCallback(_Common):
    """A conference status callback (``StatusCallbackEvent`` says which)."""

    conference_sid: str = Field(alias="ConferenceSid", min_length=2)
    friendly_name: str | None = Field(default=None, alias="FriendlyName")
    account_sid: str | None = Field(default=None, alias="AccountSid")
    sequence_number: int | None = Field(default=None, alias="SequenceNumber", ge=0)
    timestamp: Timestamp = Field(default=None, alias="Timestamp")
    event: ConferenceEvent = Field(alias="StatusCallbackEvent")
    call_sid: str | None = Field(default=None, alias="CallSid")
    muted: bool | None = Field(default=None, alias="Muted")
    hold: bool | None = Field(default=None, alias="Hold")
    coaching: bool | None = Field(default=None, alias="Coaching")
    end_conference_on_exit: bool | None = Field(default=None, alias="EndConferenceOnExit")
    start_conference_on_enter: bool | None = Field(default=None, alias="StartConferenceOnEnter")
    participant_label: str | None = Field(default=None, alias="ParticipantLabel")
    participant_call_status: str | None = Field(default=None, alias="ParticipantCallStatus")
    reason_participant_left: str | None = Field(default=None, alias="ReasonParticipantLeft")
    call_sid_ending_conference: str | None = Field(default=None, alias="CallSidEndingConference")
    reason_conference_ended: str | None = Field(default=None, alias="ReasonConferenceEnded")

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``conference_events`` row."""
        values = self._column_values()
        values.update(received_at=received_at, ingest_source=source, extra=self._extra())
        return [make_row("conference_events", values)]


class RecordingStatusCallback(_Common):
    """A recording status callback."""

    recording_sid: str = Field(alias="RecordingSid", min_length=2)
    call_sid: str | None = Field(default=None, alias="CallSid")
    conference_sid: str | None = Field(default=None, alias="ConferenceSid")
    account_sid: str | None = Field(default=None, alias="AccountSid")
    recording_status: Literal["in-progress", "completed", "absent", "failed"] = Field(
        alias="RecordingStatus"
    )
    recording_url: str | None = Field(default=None, alias="RecordingUrl")
    recording_duration_s: float | None = Field(default=None, alias="RecordingDuration", ge=0)
    recording_channels: int | None = Field(default=None, alias="RecordingChannels", ge=1, le=2)
    recording_start_time: Timestamp = Field(default=None, alias="RecordingStartTime")
    recording_source: str | None = Field(default=None, alias="RecordingSource")
    recording_track: str | None = Field(default=None, alias="RecordingTrack")
    error_code: int | None = Field(default=None, alias="ErrorCode")

    def rows(self, *, source: str | None, received_at: datetime | None) -> list[Row]:
        """The ``recordings`` row."""
        values = self._column_values()
        values.update(received_at=received_at, ingest_source=source, extra=self._extra())
        return [make_row("recordings", values)]
