"""Voice Insights items, Calls REST resources, Event Streams CloudEvents, pages, kinds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from voiceinsights import ValidationError
from voiceinsights.models import KINDS, detect_kind, iter_page_items, parse_record
from voiceinsights.schema import get_table

ACCOUNT = "AC" + "a" * 32
CALL = "CA" + "6" * 32


def summary() -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT,
        "call_sid": CALL,
        "call_type": "client",
        "call_state": "completed",
        "answered_by": "unknown",
        "processing_state": "complete",
        "created_time": "2021-08-10T17:47:50.000Z",
        "start_time": "2021-08-10T17:47:51.000Z",
        "end_time": "2021-08-10T17:49:12.500Z",
        "duration": 82,
        "connect_duration": 79,
        "from": {"caller": "client:alice", "connection": "voip", "country_code": "US"},
        "to": {"callee": "+14155550123", "carrier": "Example", "country_code": "US"},
        "carrier_edge": None,
        "client_edge": None,
        "sdk_edge": {
            "metrics": {
                "inbound": {
                    "codec_name": "opus",
                    "jitter": {"avg": 3.2, "max": 48.1},
                    "packets_received": 3950,
                    "packets_lost": 50,
                    "packets_loss_percentage": 1.25,
                },
                "outbound": {"codec_name": "opus", "packets_sent": 4000},
            },
            "sdk": {"type": "twilio-voice.js", "version": "2.12.3"},
        },
        "sip_edge": {"metrics": {"inbound": {"codec_name": "pcmu"}}},
        "tags": ["high_jitter", "low_mos"],
        "url": f"https://insights.twilio.com/v1/Voice/{CALL}/Summary",
        "attributes": {"conference_participant": False},
        "properties": {
            "direction": "outbound_api",
            "disconnected_by": "caller",
            "pdd_ms": 812,
            "last_sip_response_num": 200,
            "q850_cause": 16,
            "media_region": "us1",
            "signaling_region": "us1",
            "queue_time": 0,
        },
        "trust": None,
        "annotation": {"quality_issues": ["echo"], "call_score": 2, "comment": "echo"},
    }


def test_summary() -> None:
    s = summary()
    assert detect_kind(s) == "insights-summary"
    [(table, row)] = parse_record(s)
    assert table == "insights_summaries"
    assert tuple(row) == get_table("insights_summaries").column_names
    assert row["direction"] == "outbound-api"
    assert row["start_time"] == datetime(2021, 8, 10, 17, 47, 51, tzinfo=UTC)
    assert row["end_time"] == datetime(2021, 8, 10, 17, 49, 12, 500000, tzinfo=UTC)
    assert row["duration_s"] == 82
    assert row["connect_duration_s"] == 79
    assert row["from_address"] == "client:alice"
    assert row["to_address"] == "+14155550123"
    assert row["tags"] == ["high_jitter", "low_mos"]
    assert row["pdd_ms"] == 812
    assert row["q850_cause"] == 16
    # sdk_edge comes first among the edges present
    assert row["metrics_edge"] == "sdk_edge"
    assert row["inbound_codec"] == "opus"
    assert (row["inbound_jitter_avg_ms"], row["inbound_jitter_max_ms"]) == (3.2, 48.1)
    assert row["inbound_packets_lost"] == 50
    assert row["inbound_loss_pct"] == 1.25
    assert row["outbound_codec"] == "opus"
    assert row["outbound_jitter_avg_ms"] is None
    edges = json.loads(row["edges"])
    assert set(edges) == {"sdk_edge", "sip_edge"}
    assert edges["sdk_edge"] == s["sdk_edge"]
    assert json.loads(row["annotation"])["call_score"] == 2
    extra = json.loads(row["extra"])
    assert extra["url"] == s["url"]
    assert extra["attributes"] == {"conference_participant": False}
    assert extra["properties.queue_time"] == 0
    assert extra["from"] == s["from"]
    assert extra["to"] == s["to"]
    with pytest.raises(ValidationError) as info:
        parse_record(summary() | {"start_time": "soon"})
    assert info.value.field == "start_time"
    bad = summary()
    bad["annotation"]["call_score"] = 9
    with pytest.raises(ValidationError) as info:
        parse_record(bad)
    assert info.value.field == "annotation.call_score"


def event() -> dict[str, Any]:
    return {
        "timestamp": "2021-08-10T17:48:20.114Z",
        "call_sid": CALL,
        "account_sid": ACCOUNT,
        "edge": "sdk_edge",
        "group": "network-quality-warning-raised",
        "level": "WARNING",
        "name": "high-jitter",
        "carrier_edge": None,
        "sip_edge": None,
        "sdk_edge": {"metrics": {"jitter": 48.1}, "client_name": "alice"},
        "client_edge": None,
    }


def test_event() -> None:
    assert detect_kind(event()) == "insights-event"
    [(table, row)] = parse_record(event())
    assert table == "insights_events"
    assert row["event_group"] == "network-quality-warning-raised"
    assert row["level"] == "WARNING"
    assert row["name"] == "high-jitter"
    assert json.loads(row["edge_data"]) == event()["sdk_edge"]
    assert row["extra"] is None
    with pytest.raises(ValidationError) as info:
        parse_record({k: v for k, v in event().items() if k != "timestamp"}, kind="insights-event")
    assert info.value.field == "timestamp"


def test_metric() -> None:
    metric = {
        "timestamp": "2021-08-10T17:48:30.000Z",
        "call_sid": CALL,
        "account_sid": ACCOUNT,
        "edge": "sdk_edge",
        "direction": "both",
        "sdk_edge": {
            "interval": {
                "packets_received": 498,
                "packets_lost": 2,
                "audio_in": {"value": 3021.5},
                "audio_out": {"value": 112.0},
                "jitter": {"value": 4.2},
                "mos": {"value": 4.35},
                "rtt": {"value": 91.0},
            },
            "cumulative": {"bytes_received": 40000, "packets_received": 1996},
        },
    }
    assert detect_kind(metric) == "insights-metric"
    [(table, row)] = parse_record(metric)
    assert table == "insights_metrics"
    assert (row["packets_received"], row["packets_lost"]) == (498, 2)
    assert (row["jitter_ms"], row["rtt_ms"], row["mos"]) == (4.2, 91.0, 4.35)
    assert (row["audio_in_level"], row["audio_out_level"]) == (3021.5, 112.0)
    assert json.loads(row["edge_data"])["cumulative"]["bytes_received"] == 40000


def rest_call() -> dict[str, Any]:
    return {
        "sid": CALL,
        "date_created": "Tue, 10 Aug 2021 17:47:50 +0000",
        "date_updated": "Tue, 10 Aug 2021 17:49:13 +0000",
        "parent_call_sid": None,
        "account_sid": ACCOUNT,
        "to": "",
        "to_formatted": "",
        "from": "client:alice",
        "from_formatted": "client:alice",
        "phone_number_sid": None,
        "status": "completed",
        "start_time": "Tue, 10 Aug 2021 17:47:51 +0000",
        "end_time": "Tue, 10 Aug 2021 17:49:12 +0000",
        "duration": "81",
        "price": "-0.01700",
        "price_unit": "USD",
        "direction": "inbound",
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json",
        "subresource_uris": {"recordings": "/Recordings.json"},
    }


def test_rest_call_and_page() -> None:
    page = {
        "calls": [rest_call(), rest_call() | {"sid": "CA" + "7" * 32, "price": None}],
        "page": 0,
        "page_size": 50,
        "first_page_uri": "/2010-04-01/Accounts/AC/Calls.json?PageSize=50&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
    }
    items = list(iter_page_items(page))
    assert len(items) == 2
    assert detect_kind(items[0]) == "rest-call"
    [(table, row)] = parse_record(items[0])
    assert table == "rest_calls"
    assert row["duration_s"] == 81.0
    assert row["price"] == -0.017
    assert row["to_address"] is None  # SDK outgoing call: To is empty
    assert row["queue_time_ms"] == 0.0
    assert row["date_updated"] == datetime(2021, 8, 10, 17, 49, 13, tzinfo=UTC)
    extra = json.loads(row["extra"])
    assert extra["uri"].endswith(".json")
    assert extra["api_version"] == "2010-04-01"
    assert parse_record(items[1])[0][1]["price"] is None
    with pytest.raises(ValidationError) as info:
        parse_record(rest_call() | {"duration": "a while"})
    assert info.value.field == "duration"


def test_insights_page() -> None:
    page = {
        "meta": {"key": "call_summaries", "page": 0, "next_page_url": None},
        "call_summaries": [summary(), summary()],
    }
    assert [detect_kind(i) for i in iter_page_items(page)] == ["insights-summary"] * 2
    # A list of pages and bare records is flattened; a bare record is yielded as is.
    assert len(list(iter_page_items([page, event()]))) == 3


def cloud(type_: str, data: Any, **over: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "type": type_,
        "source": f"/v1/Voice/{CALL}/Summary",
        "id": "EZ" + "8" * 32,
        "dataschema": "https://events-schemas.twilio.com/x/1",
        "datacontenttype": "application/json",
        "time": "2021-08-10T17:50:00.000Z",
        "data": data,
        **over,
    }


@pytest.mark.parametrize("as_string", [False, True])
def test_cloudevent_summary(as_string: bool) -> None:
    data = json.dumps(summary()) if as_string else summary()
    ce = cloud("com.twilio.voice.insights.call-summary.complete", data)
    assert detect_kind(ce) == "cloudevent"
    rows = parse_record(ce, source="sink")
    assert [t for t, _ in rows] == ["cloudevents", "insights_summaries"]
    log = rows[0][1]
    assert tuple(log) == get_table("cloudevents").column_names
    assert log["target_table"] == "insights_summaries"
    assert log["time"] == datetime(2021, 8, 10, 17, 50, tzinfo=UTC)
    assert json.loads(log["extra"]) == {"datacontenttype": "application/json"}
    assert rows[1][1] == parse_record(summary(), source="sink")[0][1]


def test_cloudevent_status_callback() -> None:
    params = {
        "CallSid": CALL,
        "CallStatus": "completed",
        "SequenceNumber": "2",
        "Timestamp": "Tue, 10 Aug 2021 17:49:12 +0000",
        "CallDuration": "81",
    }
    data = {
        "sid": "EX1",
        "timestamp": "2021-08-10T17:49:12.100Z",
        "request": {"method": "POST", "url": "https://example.com/s", "parameters": params},
    }
    rows = parse_record(cloud("com.twilio.voice.status-callback.call.completed", data))
    assert [t for t, _ in rows] == ["cloudevents", "call_events"]
    assert rows[1][1]["call_duration_s"] == 81.0
    extra = json.loads(rows[0][1]["extra"])
    assert extra["sid"] == "EX1"
    assert extra["request"] == {"method": "POST", "url": "https://example.com/s"}
    bad = json.loads(json.dumps(data))
    bad["request"]["parameters"]["CallStatus"] = "exploded"
    with pytest.raises(ValidationError) as info:
        parse_record(cloud("com.twilio.voice.status-callback.call.completed", bad))
    assert info.value.field == "data.request.parameters.CallStatus"


def test_cloudevent_without_typed_table_keeps_data() -> None:
    data = {"conference_sid": "CF1", "status": "completed", "duration": 300}
    rows = parse_record(cloud("com.twilio.voice.insights.some-future-thing.complete", data))
    assert len(rows) == 1
    log = rows[0][1]
    assert log["target_table"] is None
    assert json.loads(log["extra"])["data"] == data


def test_cloudevent_errors() -> None:
    with pytest.raises(ValidationError) as info:
        parse_record(cloud("com.twilio.voice.insights.call-summary.complete", "{not json"))
    assert info.value.field == "data"
    with pytest.raises(ValidationError) as info:
        parse_record(cloud("com.twilio.voice.insights.call-event.sdk", event() | {"timestamp": 0j}))
    assert info.value.field == "data.timestamp"
    with pytest.raises(ValidationError) as info:
        parse_record({k: v for k, v in cloud("x", {}).items() if k != "id"}, kind="cloudevent")
    assert info.value.field == "id"


def test_unknown_records() -> None:
    for obj in ({}, {"hello": "world"}, {"CallSid": CALL}):
        with pytest.raises(ValidationError, match="cannot tell"):
            detect_kind(obj)
    with pytest.raises(ValidationError, match="JSON object"):
        detect_kind([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown kind"):
        parse_record(event(), kind="bogus")
    assert len(KINDS) == 15


def conference() -> dict[str, Any]:
    return {
        "conference_sid": "CF" + "9" * 32,
        "account_sid": ACCOUNT,
        "friendly_name": "support-room",
        "create_time": "2021-08-10T17:40:00.000Z",
        "start_time": "2021-08-10T17:40:05.000Z",
        "end_time": "2021-08-10T17:50:05.000Z",
        "duration_seconds": 605,
        "connect_duration_seconds": 600,
        "status": "completed",
        "max_participants": 250,
        "max_concurrent_participants": 3,
        "unique_participants": 3,
        "end_reason": "last_participant_left",
        "ended_by": CALL,
        "mixer_region": "us1",
        "mixer_region_requested": None,
        "recording_enabled": "false",
        "detected_issues": {"call_quality": 1, "network": 0},
        "tags": ["high_packet_loss"],
        "processing_state": "complete",
        "url": "https://insights.twilio.com/v1/Conferences/CF9",
        "links": {"conference_participants": "https://insights.twilio.com/v1/x"},
    }


def participant() -> dict[str, Any]:
    return {
        "participant_sid": "CP" + "9" * 32,
        "conference_sid": "CF" + "9" * 32,
        "call_sid": CALL,
        "account_sid": ACCOUNT,
        "label": "agent",
        "call_direction": "outbound",
        "from": "+14155550100",
        "to": "client:alice",
        "call_status": "completed",
        "call_type": "client",
        "country_code": "US",
        "is_moderator": True,
        "is_coach": False,
        "join_time": "2021-08-10T17:40:06.000Z",
        "leave_time": "2021-08-10T17:50:04.000Z",
        "duration_seconds": 598,
        "outbound_queue_length": 0,
        "outbound_time_in_queue": 0.2,
        "jitter_buffer_size": "large",
        "participant_region": "us1",
        "conference_region": "us1",
        "processing_state": "complete",
        "properties": {"start_conference_on_enter": True},
        "events": {"mute": [1628617300000]},
        "metrics": {"inbound": {"jitter": {"avg": 2.1}}},
        "url": "https://insights.twilio.com/v1/Conferences/CF9/Participants/CP9",
    }


def test_conference_and_participant_summaries() -> None:
    assert detect_kind(conference()) == "insights-conference"
    [(table, row)] = parse_record(conference())
    assert table == "insights_conferences"
    assert tuple(row) == get_table("insights_conferences").column_names
    assert row["duration_s"] == 605.0
    assert row["connect_duration_s"] == 600.0
    assert row["recording_enabled"] is False
    assert row["tags"] == ["high_packet_loss"]
    assert json.loads(row["detected_issues"]) == {"call_quality": 1, "network": 0}
    assert set(json.loads(row["extra"])) == {"url", "links"}
    assert detect_kind(participant()) == "insights-participant"
    [(table, row)] = parse_record(participant())
    assert table == "insights_participants"
    assert tuple(row) == get_table("insights_participants").column_names
    assert row["from_address"] == "+14155550100"
    assert row["to_address"] == "client:alice"
    assert row["duration_s"] == 598.0
    assert row["outbound_time_in_queue_s"] == 0.2
    assert row["join_time"] == datetime(2021, 8, 10, 17, 40, 6, tzinfo=UTC)
    assert json.loads(row["metrics"]) == participant()["metrics"]
    with pytest.raises(ValidationError) as info:
        parse_record(participant() | {"participant_sid": "XX1"})
    assert info.value.field == "participant_sid"
    rows = parse_record(
        cloud("com.twilio.voice.insights.conference-summary.complete", json.dumps(conference()))
    )
    assert [t for t, _ in rows] == ["cloudevents", "insights_conferences"]
    rows = parse_record(
        cloud("com.twilio.voice.insights.conference-participant-summary.complete", participant())
    )
    assert [t for t, _ in rows] == ["cloudevents", "insights_participants"]
