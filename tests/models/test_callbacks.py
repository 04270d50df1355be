"""Status callbacks (form fields) into call_events, conference_events and recordings rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest

from voiceinsights import ValidationError
from voiceinsights.models import detect_kind, parse_record
from voiceinsights.schema import get_table

ACCOUNT = "AC" + "a" * 32
PARENT = "CA" + "1" * 32
CHILD = "CA" + "2" * 32

# A <Dial><Sip> child leg's completed callback, with the standard voice parameters.
SIP_COMPLETED = {
    "AccountSid": ACCOUNT,
    "ApiVersion": "2010-04-01",
    "CallSid": CHILD,
    "ParentCallSid": PARENT,
    "CallStatus": "completed",
    "Direction": "outbound-dial",
    "From": "+14155550123",
    "To": "sip:101@pbx.example.com",
    "Caller": "+14155550123",
    "Called": "sip:101@pbx.example.com",
    "CallerCity": "SAN FRANCISCO",
    "CallerCountry": "US",
    "ForwardedFrom": "",
    "CallerName": "",
    "CallToken": "",
    "StirVerstat": "",
    "CallDuration": "73",
    "Duration": "2",
    "SipResponseCode": "200",
    "SipCallId": "3c26700d@10.0.0.7",
    "SipHeader_X-Tenant": "tenant-2",
    "Timestamp": "Tue, 10 Aug 2021 17:47:58 +0000",
    "CallbackSource": "call-progress-events",
    "SequenceNumber": "3",
    "AnsweredBy": "human",
}


def test_call_progress_row() -> None:
    assert detect_kind(SIP_COMPLETED) == "call-status"
    [(table, row)] = parse_record(SIP_COMPLETED, source="cb.csv", received_at=1628617679000)
    assert table == "call_events"
    assert tuple(row) == get_table("call_events").column_names
    assert row["call_sid"] == CHILD
    assert row["parent_call_sid"] == PARENT
    assert row["sequence_number"] == 3
    assert row["timestamp"] == datetime(2021, 8, 10, 17, 47, 58, tzinfo=UTC)
    assert row["call_status"] == "completed"
    assert row["direction"] == "outbound-dial"
    assert row["call_duration_s"] == 73.0
    assert row["billed_duration_min"] == 2
    assert row["sip_response_code"] == 200
    assert row["sip_call_id"] == "3c26700d@10.0.0.7"
    assert row["answered_by"] == "human"
    assert row["forwarded_from"] is None  # empty form value -> null
    assert row["caller_name"] is None
    assert row["ingest_source"] == "cb.csv"
    assert row["received_at"] == datetime(2021, 8, 10, 17, 47, 59, tzinfo=UTC)
    extra = json.loads(row["extra"])
    # Unmodelled fields are kept; empty ones carry nothing and are dropped from extra.
    assert extra == {
        "ApiVersion": "2010-04-01",
        "Caller": "+14155550123",
        "Called": "sip:101@pbx.example.com",
        "CallerCity": "SAN FRANCISCO",
        "CallerCountry": "US",
        "SipHeader_X-Tenant": "tenant-2",
    }


def test_parse_qs_lists_and_missing_source() -> None:
    body = urlencode({"CallSid": PARENT, "CallStatus": "ringing", "SequenceNumber": "0"})
    [(_, row)] = parse_record(parse_qs(body))
    assert row["call_status"] == "ringing"
    assert row["sequence_number"] == 0
    assert row["callback_source"] == "call-progress-events"


def test_empty_callback_source_is_a_call_progress_callback() -> None:
    # A CSV export writes an absent CallbackSource as an empty cell.
    record = {"CallSid": PARENT, "CallStatus": "completed", "CallbackSource": ""}
    [(_, row)] = parse_record(record)
    assert row["callback_source"] == "call-progress-events"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CallStatus", "ringin"),
        ("Direction", "sideways"),
        ("SequenceNumber", "third"),
        ("SequenceNumber", "-1"),
        ("Timestamp", "yesterday at noon"),
        ("CallDuration", "long"),
        ("SipResponseCode", "99"),
    ],
)
def test_bad_values_name_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_record(SIP_COMPLETED | {field: value})
    assert info.value.field == field
    assert info.value.kind == "call-status"
    assert field in str(info.value)


def test_missing_required() -> None:
    record = {k: v for k, v in SIP_COMPLETED.items() if k != "CallSid"}
    with pytest.raises(ValidationError) as info:
        parse_record(record, kind="call-status")
    assert info.value.field == "CallSid"
    assert "missing" in str(info.value)


def test_conference_participant_leave() -> None:
    record = {
        "AccountSid": ACCOUNT,
        "ConferenceSid": "CF" + "3" * 32,
        "FriendlyName": "support-room",
        "SequenceNumber": "5",
        "Timestamp": "Tue, 10 Aug 2021 17:49:02 +0000",
        "StatusCallbackEvent": "participant-leave",
        "CallSid": CHILD,
        "Muted": "false",
        "Hold": "true",
        "Coaching": "false",
        "EndConferenceOnExit": "true",
        "StartConferenceOnEnter": "false",
        "ParticipantLabel": "agent",
        "ParticipantCallStatus": "completed",
        "ReasonParticipantLeft": "participant_hung_up",
        "CallSidToCoach": "",
    }
    assert detect_kind(record) == "conference-status"
    [(table, row)] = parse_record(record)
    assert table == "conference_events"
    assert row["event"] == "participant-leave"
    assert row["muted"] is False
    assert row["hold"] is True
    assert row["coaching"] is False
    assert row["end_conference_on_exit"] is True
    assert row["start_conference_on_enter"] is False
    assert row["participant_call_status"] == "completed"
    assert row["reason_participant_left"] == "participant_hung_up"
    assert row["sequence_number"] == 5
    assert row["extra"] is None
    with pytest.raises(ValidationError) as info:
        parse_record(record | {"Muted": "perhaps"})
    assert info.value.field == "Muted"


def test_conference_end() -> None:
    record = {
        "AccountSid": ACCOUNT,
        "ConferenceSid": "CF" + "3" * 32,
        "FriendlyName": "support-room",
        "SequenceNumber": "9",
        "Timestamp": "Tue, 10 Aug 2021 17:50:00 +0000",
        "StatusCallbackEvent": "conference-end",
        "CallSidEndingConference": CHILD,
        "ParticipantLabelEndingConference": "agent",
        "ReasonConferenceEnded": "participant-with-end-conference-on-exit-left",
    }
    [(_, row)] = parse_record(record)
    assert row["call_sid_ending_conference"] == CHILD
    assert row["reason_conference_ended"] == "participant-with-end-conference-on-exit-left"
    assert json.loads(row["extra"]) == {"ParticipantLabelEndingConference": "agent"}


def test_recording() -> None:
    record = {
        "AccountSid": ACCOUNT,
        "CallSid": PARENT,
        "RecordingSid": "RE" + "4" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE4",
        "RecordingStatus": "completed",
        "RecordingDuration": "61",
        "RecordingChannels": "2",
        "RecordingStartTime": "Tue, 10 Aug 2021 17:46:57 +0000",
        "RecordingSource": "DialVerb",
        "RecordingTrack": "both",
        "ErrorCode": "0",
    }
    # A recording callback carries CallSid but no CallStatus: it is not a call event.
    assert detect_kind(record) == "recording-status"
    [(table, row)] = parse_record(record)
    assert table == "recordings"
    assert row["recording_duration_s"] == 61.0
    assert row["recording_channels"] == 2
    assert row["recording_start_time"] == datetime(2021, 8, 10, 17, 46, 57, tzinfo=UTC)
    assert row["error_code"] == 0
    in_progress = record | {"RecordingStatus": "in-progress", "RecordingDuration": ""}
    [(_, row)] = parse_record(in_progress)
    assert row["recording_duration_s"] is None
    with pytest.raises(ValidationError) as info:
        parse_record(record | {"RecordingStatus": "paused"})
    assert info.value.field == "RecordingStatus"


def test_typed_csv_values() -> None:
    # A CSV reader that typed its columns gives numbers where Twilio sent text.
    record = {
        "CallSid": PARENT,
        "CallStatus": "completed",
        "From": 14155550123,
        "SequenceNumber": 4,
        "CallDuration": 12.0,
        "SipResponseCode": 200,
    }
    [(_, row)] = parse_record(record)
    assert row["from_address"] == "14155550123"
    assert row["sequence_number"] == 4
    assert row["call_duration_s"] == 12.0
    assert row["sip_response_code"] == 200
