"""Hypothesis: every wire value lands in its canonical column or in ``extra``, unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceinsights._time import epoch_ms, format_rfc2822
from voiceinsights.models import CALL_STATUSES, DIRECTIONS, parse_record

# wire name -> column, for the per-second sample fields
SAMPLE_FIELDS = {
    "audioInputLevel": "audio_input_level",
    "audioOutputLevel": "audio_output_level",
    "bytesReceived": "bytes_received",
    "bytesSent": "bytes_sent",
    "packetsReceived": "packets_received",
    "packetsSent": "packets_sent",
    "packetsLost": "packets_lost",
    "packetsLostFraction": "packets_lost_pct",
    "jitter": "jitter_ms",
    "rtt": "rtt_ms",
    "mos": "mos",
    "codecName": "codec_name",
}
TOTALS = {
    "bytesReceived": "total_bytes_received",
    "bytesSent": "total_bytes_sent",
    "packetsReceived": "total_packets_received",
    "packetsSent": "total_packets_sent",
    "packetsLost": "total_packets_lost",
    "packetsLostFraction": "total_packets_lost_pct",
}

counts = st.none() | st.integers(0, 2**53)
finite = st.floats(allow_nan=False, allow_infinity=False)
times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | finite | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
extra_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: k not in SAMPLE_FIELDS and k not in ("timestamp", "totals")
)


@st.composite
def samples(draw: st.DrawFn) -> tuple[dict[str, Any], datetime, dict[str, Any]]:
    ts = draw(times)
    data: dict[str, Any] = {"timestamp": epoch_ms(ts)}
    values = {
        "audioInputLevel": st.none() | st.integers(0, 32767),
        "audioOutputLevel": st.none() | st.integers(0, 32767),
        "bytesReceived": counts,
        "bytesSent": counts,
        "packetsReceived": counts,
        "packetsSent": counts,
        "packetsLost": counts,
        "packetsLostFraction": st.none() | st.floats(0, 100),
        "jitter": st.none() | st.floats(0, 1e6),
        "rtt": st.none() | st.floats(0, 1e6),
        "mos": st.none() | st.floats(1, 4.5),
        "codecName": st.none() | st.sampled_from(["opus", "pcmu"]),
    }
    for key, strategy in values.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    data["totals"] = {
        k: draw(st.floats(0, 100) if k == "packetsLostFraction" else counts) for k in TOTALS
    }
    extra = draw(st.dictionaries(extra_keys, json_values, max_size=3))
    data.update(extra)
    return data, ts, extra


@settings(max_examples=150, deadline=None)
@given(samples(), st.text(max_size=10) | st.none())
def test_sample_values_preserved(
    drawn: tuple[dict[str, Any], datetime, dict[str, Any]], identity: str | None
) -> None:
    data, ts, extra = drawn
    [(table, row)] = parse_record(
        {"type": "sample", "call_sid": "CA1", "identity": identity, "data": data}
    )
    assert table == "samples"
    assert row["timestamp"] == ts
    assert row["identity"] == identity
    for wire, column in SAMPLE_FIELDS.items():
        assert row[column] == data.get(wire)
    for wire, column in TOTALS.items():
        assert row[column] == data["totals"][wire]
    kept = {f"data.{k}": v for k, v in extra.items() if v is not None}
    assert (json.loads(row["extra"]) if row["extra"] else {}) == kept


FORM_FIELDS = {
    "ParentCallSid": "parent_call_sid",
    "AccountSid": "account_sid",
    "From": "from_address",
    "To": "to_address",
    "SipCallId": "sip_call_id",
    "AnsweredBy": "answered_by",
    "ForwardedFrom": "forwarded_from",
    "CallerName": "caller_name",
    "RecordingSid": "recording_sid",
}
form_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=20,
)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "CallSid": st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True),
            "CallStatus": st.sampled_from(CALL_STATUSES),
            "Direction": st.sampled_from(DIRECTIONS),
            "SequenceNumber": st.integers(0, 10_000),
            "CallDuration": st.integers(0, 86_400),
            "Duration": st.integers(0, 1440),
            "SipResponseCode": st.integers(100, 699),
            "RecordingDuration": st.integers(0, 86_400),
        }
    ),
    st.dictionaries(st.sampled_from(sorted(FORM_FIELDS)), form_text),
    st.dictionaries(
        st.from_regex(r"SipHeader_[A-Za-z-]{1,10}", fullmatch=True), form_text, max_size=3
    ),
    times,
)
def test_callback_values_preserved(
    core: dict[str, Any], texts: dict[str, str], headers: dict[str, str], when: datetime
) -> None:
    form = {k: str(v) for k, v in core.items()} | texts | headers
    form["Timestamp"] = format_rfc2822(when)
    [(table, row)] = parse_record(form)
    assert table == "call_events"
    assert row["call_sid"] == core["CallSid"]
    assert row["call_status"] == core["CallStatus"]
    assert row["direction"] == core["Direction"]
    assert row["sequence_number"] == core["SequenceNumber"]
    assert row["call_duration_s"] == core["CallDuration"]
    assert row["billed_duration_min"] == core["Duration"]
    assert row["sip_response_code"] == core["SipResponseCode"]
    assert row["recording_duration_s"] == core["RecordingDuration"]
    assert row["timestamp"] == when.replace(microsecond=0)
    for wire, column in FORM_FIELDS.items():
        assert row[column] == texts.get(wire)
    assert (json.loads(row["extra"]) if row["extra"] else {}) == headers
