"""Voice SDK envelopes: sample, warning, warning-cleared, feedback, preflight-report."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from voiceinsights import ValidationError
from voiceinsights.models import detect_kind, parse_record
from voiceinsights.schema import get_table

CALL = "CA" + "5" * 32
T0 = 1628617678123
DT0 = datetime(2021, 8, 10, 17, 47, 58, 123000, tzinfo=UTC)


def sample(ts: int = T0, **over: Any) -> dict[str, Any]:
    s = {
        "audioInputLevel": 11203,
        "audioOutputLevel": 402,
        "bytesReceived": 4012,
        "bytesSent": 3998,
        "codecName": "opus",
        "jitter": 4.5,
        "mos": 4.31,
        "packetsLost": 2,
        "packetsLostFraction": 3.922,
        "packetsReceived": 49,
        "packetsSent": 50,
        "rtt": 88.0,
        "timestamp": ts,
        "totals": {
            "bytesReceived": 80012,
            "bytesSent": 79800,
            "packetsLost": 3,
            "packetsLostFraction": 0.3,
            "packetsReceived": 997,
            "packetsSent": 1000,
        },
    }
    s.update(over)
    return s


def envelope(kind: str, data: Any, **over: Any) -> dict[str, Any]:
    return {"type": kind, "call_sid": CALL, "identity": "alice", "data": data, **over}


def test_sample() -> None:
    env = envelope("sample", sample(inputVolume=0.3), received_at="2021-08-10T17:47:59Z")
    assert detect_kind(env) == "sdk-sample"
    [(table, row)] = parse_record(env, source="sdk.jsonl")
    assert table == "samples"
    assert tuple(row) == get_table("samples").column_names
    assert row["timestamp"] == DT0
    assert row["packets_lost_pct"] == 3.922  # packetsLostFraction is a percentage
    assert row["jitter_ms"] == 4.5
    assert row["rtt_ms"] == 88.0
    assert row["mos"] == 4.31
    assert row["audio_input_level"] == 11203
    assert row["audio_output_level"] == 402
    assert row["bytes_received"] == 4012
    assert row["bytes_sent"] == 3998
    assert row["packets_received"] == 49
    assert row["packets_sent"] == 50
    assert row["packets_lost"] == 2
    assert row["codec_name"] == "opus"
    assert row["total_bytes_received"] == 80012
    assert row["total_packets_lost_pct"] == 0.3
    assert row["identity"] == "alice"
    assert row["received_at"] == datetime(2021, 8, 10, 17, 47, 59, tzinfo=UTC)
    assert json.loads(row["extra"]) == {"data.inputVolume": 0.3}


def test_sample_timestamp_is_milliseconds() -> None:
    # The SDK's timestamp is epoch milliseconds, even when small enough to look like seconds.
    [(_, row)] = parse_record(envelope("sample", sample(ts=5_000)))
    assert row["timestamp"] == datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_first_sample_nulls() -> None:
    [(_, row)] = parse_record(envelope("sample", sample(mos=None, rtt=None)))
    assert row["mos"] is None
    assert row["rtt_ms"] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"packetsLostFraction": 140}, "data.packetsLostFraction"),
        ({"jitter": "high"}, "data.jitter"),
        ({"audioInputLevel": 40000}, "data.audioInputLevel"),
        ({"bytesReceived": -5}, "data.bytesReceived"),
        ({"timestamp": "when"}, "data.timestamp"),
        ({"timestamp": None}, "data.timestamp"),
        ({"totals": {"packetsSent": "x"}}, "data.totals.packetsSent"),
    ],
)
def test_bad_sample(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("sample", sample(**over)))
    assert info.value.field == field
    assert info.value.kind == "sdk-sample"


def test_envelope_errors() -> None:
    with pytest.raises(ValidationError) as info:
        parse_record({"type": "sample", "data": sample()})
    assert info.value.field == "call_sid"
    with pytest.raises(ValidationError) as info:
        detect_kind({"type": "ringing", "call_sid": CALL, "data": {}})
    assert info.value.field == "type"
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("sample", [1, 2]))
    assert info.value.field == "data"
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("warning", {"name": "high-rtt"}), kind="sdk-sample")
    assert info.value.field == "type"


def warning_data(n: int = 3) -> dict[str, Any]:
    samples = [sample(T0 + 1000 * i, rtt=500.0 + i) for i in range(n)]
    return {
        "name": "rtt",
        "threshold": {"name": "max", "value": 400},
        "values": [s["rtt"] for s in samples],
        "samples": samples,
    }


def test_warning_time_is_newest_sample() -> None:
    data = warning_data()
    data["samples"] = [data["samples"][2], data["samples"][0], data["samples"][1]]
    env = envelope("warning", {"name": "high-rtt", "data": data}, received_at=T0 + 60_000)
    assert detect_kind(env) == "sdk-warning"
    [(table, row)] = parse_record(env)
    assert table == "warnings"
    assert row["timestamp"] == DT0 + timedelta(seconds=2)
    assert row["name"] == "high-rtt"
    assert row["event"] == "raised"
    assert row["threshold_name"] == "max"
    assert row["threshold_value"] == 400
    assert json.loads(row["values"]) == [500.0, 501.0, 502.0]
    extra = json.loads(row["extra"])
    assert extra["data.data.name"] == "rtt"
    assert len(extra["data.data.samples"]) == 3


def test_warning_without_samples_uses_received_at() -> None:
    env = envelope("warning", {"name": "ice-connectivity-lost"})
    [(_, row)] = parse_record(env, received_at="2021-08-10T17:50:00Z")
    assert row["timestamp"] == datetime(2021, 8, 10, 17, 50, tzinfo=UTC)
    cleared = envelope("warning-cleared", {"name": "high-rtt"}, received_at=T0)
    assert detect_kind(cleared) == "sdk-warning-cleared"
    [(_, row)] = parse_record(cleared)
    assert row["event"] == "cleared"
    assert row["timestamp"] == DT0
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("warning-cleared", {"name": "high-rtt"}))
    assert info.value.field == "received_at"
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("warning", {"data": warning_data()}))
    assert info.value.field == "data.name"


def test_feedback() -> None:
    env = envelope("feedback", {"score": 2, "issue": "choppy-audio"})
    assert detect_kind(env) == "sdk-feedback"
    [(table, row)] = parse_record(env, received_at=T0)
    assert table == "feedback"
    assert (row["score"], row["issue"]) == (2, "choppy-audio")
    [(_, row)] = parse_record(envelope("feedback", {"score": None, "issue": None}))
    assert row["score"] is None
    assert row["issue"] is None
    for data, field in (
        ({"score": 6}, "data.score"),
        ({"score": 0}, "data.score"),
        ({"score": 3, "issue": "bad-vibes"}, "data.issue"),
    ):
        with pytest.raises(ValidationError) as info:
            parse_record(envelope("feedback", data))
        assert info.value.field == field


def preflight_report() -> dict[str, Any]:
    samples = [sample(T0 + 1000 * i) for i in range(5)]
    samples[0]["mos"] = None
    return {
        "callSid": CALL,
        "callQuality": "excellent",
        "edge": "ashburn",
        "selectedEdge": "ashburn",
        "iceCandidateStats": [{"candidateType": "host"}],
        "selectedIceCandidatePairStats": {"localCandidate": {}, "remoteCandidate": {}},
        "isTurnRequired": False,
        "networkTiming": {
            "signaling": {"start": T0, "end": T0 + 412, "duration": 412},
            "ice": {"start": T0 + 412, "end": T0 + 470, "duration": 58},
            "dtls": {"start": T0 + 470, "end": T0 + 560, "duration": 90},
            "peerConnection": {"start": T0 + 412, "end": T0 + 580, "duration": 168},
        },
        "samples": samples,
        # Deliberately inconsistent with "excellent": the report's own label is kept.
        "stats": {
            "jitter": {"average": 4.5, "max": 4.5, "min": 4.5},
            "mos": {"average": 3.3, "max": 4.31, "min": 2.1},
            "rtt": {"average": 88, "max": 88, "min": 88},
        },
        "testTiming": {"start": T0, "end": T0 + 15_500, "duration": 15_500},
        "totals": samples[-1]["totals"],
        "warnings": [],
        "futureField": 1,
    }


@pytest.mark.parametrize("wrapped", [True, False])
def test_preflight_report(wrapped: bool) -> None:
    report = preflight_report()
    record = envelope("preflight-report", report) if wrapped else report
    assert detect_kind(record) == "preflight-report"
    rows = parse_record(record)
    assert [t for t, _ in rows] == ["probe_runs"] + ["probe_samples"] * 5
    run = rows[0][1]
    assert tuple(run) == get_table("probe_runs").column_names
    assert run["run_id"] == "preflight:" + CALL
    assert run["source"] == "twilio-preflight"
    assert run["call_quality"] == "excellent"
    assert run["status"] == "ok"
    assert run["target"] == "ashburn"
    assert run["started_at"] == DT0
    assert run["ended_at"] == DT0 + timedelta(milliseconds=15_500)
    assert run["duration_s"] == 15.5
    assert (run["mos_avg"], run["mos_min"], run["mos_max"]) == (3.3, 2.1, 4.31)
    assert run["rtt_avg_ms"] == 88
    assert run["jitter_max_ms"] == 4.5
    assert run["loss_pct"] == 0.3
    assert (run["signaling_ms"], run["ice_ms"], run["dtls_ms"]) == (412, 58, 90)
    assert run["peer_connection_ms"] == 168
    assert run["codec_name"] == "opus"
    assert run["is_turn_required"] is False
    assert json.loads(run["report"]) == report
    assert json.loads(run["extra"]) == {"data.futureField": 1}
    first = rows[1][1]
    assert tuple(first) == get_table("probe_samples").column_names
    assert first["run_id"] == run["run_id"]
    assert first["mos"] is None
    assert rows[5][1]["timestamp"] == DT0 + timedelta(seconds=4)


def test_preflight_bad_sample_names_path() -> None:
    report = preflight_report()
    bad = copy.deepcopy(report)
    bad["samples"][3]["jitter"] = "x"
    with pytest.raises(ValidationError) as info:
        parse_record(envelope("preflight-report", bad))
    assert info.value.field == "data.samples.3.jitter"
    with pytest.raises(ValidationError) as info:
        parse_record({k: v for k, v in report.items() if k != "callSid"}, kind="preflight-report")
    assert info.value.field == "callSid"
