"""SDK samples, impairment episodes, warnings and tags of the generated population."""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from typing import Any

import pytest

from tests.fixtures_gen.conftest import read_envelopes
from voiceinsights._time import parse_timestamp
from voiceinsights.analysis.mos import twilio_sdk
from voiceinsights.analysis.quality import call_quality
from voiceinsights.fixtures import GeneratedFixtures, SdkWarningMonitor, emulate_warnings
from voiceinsights.fixtures._media import Episode, simulate_samples
from voiceinsights.fixtures._monitor import RULES

T0 = 1_767_225_600_000


@pytest.fixture(scope="module")
def by_leg(generated: GeneratedFixtures) -> dict[str, list[dict[str, Any]]]:
    legs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for env in read_envelopes(generated.out):
        if env["type"] == "sample":
            legs[env["call_sid"]].append(env["data"])
    for samples in legs.values():
        samples.sort(key=lambda s: s["timestamp"])
    return legs


def test_samples_consistent_with_totals(
    by_leg: dict[str, list[dict[str, Any]]], truth: dict[str, Any]
) -> None:
    sdk_legs = {leg["sid"]: leg for c in truth["call_list"] for leg in c["legs"] if leg["sdk"]}
    assert set(by_leg) == set(sdk_legs)
    pairs = (
        ("bytesReceived", "bytesReceived"),
        ("bytesSent", "bytesSent"),
        ("packetsReceived", "packetsReceived"),
        ("packetsSent", "packetsSent"),
        ("packetsLost", "packetsLost"),
    )
    for sid, samples in by_leg.items():
        assert len(samples) == sdk_legs[sid]["samples"]
        previous = dict.fromkeys([k for k, _ in pairs], 0)
        for s in samples:
            t = s["totals"]
            for delta, total in pairs:
                assert s[delta] == t[total] - previous[delta]  # deltas of the totals
                previous[delta] = t[total]
            expected = s["packetsReceived"] + s["packetsLost"]
            want = s["packetsLost"] / expected * 100 if expected else 0.0
            assert s["packetsLostFraction"] == pytest.approx(want, abs=1e-3)  # percent
            all_expected = t["packetsReceived"] + t["packetsLost"]
            total_want = t["packetsLost"] / all_expected * 100 if t["packetsReceived"] else 100
            assert t["packetsLostFraction"] == pytest.approx(total_want, abs=1e-3)
        steps = [b["timestamp"] - a["timestamp"] for a, b in itertools.pairwise(samples)]
        assert all(990 <= d <= 1010 for d in steps)  # one sample a second


def test_mos_is_the_sdk_formula(by_leg: dict[str, list[dict[str, Any]]]) -> None:
    checked = 0
    for samples in by_leg.values():
        assert samples[0]["mos"] is None  # null on the first sample
        seen_rtt = False
        for s in samples[1:]:
            if s["rtt"] is None:
                assert not seen_rtt  # once known, RTT is carried forward, never null again
                assert s["mos"] is None
                continue
            seen_rtt = True
            want = twilio_sdk(s["rtt"], s["jitter"], s["packetsLostFraction"])
            assert s["mos"] == pytest.approx(want, rel=0, abs=1e-12)
            checked += 1
    assert checked > 1000
    # Spot values of the formula itself, from the reference.
    assert twilio_sdk(100, 10, 0) == pytest.approx(4.374, abs=5e-4)
    assert twilio_sdk(400, 30, 0) == pytest.approx(3.088, abs=5e-4)


def test_episodes_are_in_the_samples(
    by_leg: dict[str, list[dict[str, Any]]], truth: dict[str, Any]
) -> None:
    kinds = {e["kind"] for e in truth["episodes"]}
    assert kinds == {"high_jitter", "high_rtt", "loss_burst", "media_stall"}
    for e in truth["episodes"]:
        samples = by_leg[e["call_sid"]]
        start, end = parse_timestamp(e["start"]), parse_timestamp(e["end"])
        assert start is not None
        assert end is not None
        assert (end - start).total_seconds() == e["end_s"] - e["start_s"]
        inside = samples[e["start_s"] : e["end_s"]]
        before = samples[max(0, e["start_s"] - 3) : e["start_s"]]
        assert inside
        if e["kind"] == "high_jitter":
            assert all(s["jitter"] > 30 for s in inside)
            assert all(s["jitter"] <= 30 for s in before)
        elif e["kind"] == "high_rtt":
            assert sum(s["rtt"] > 400 for s in inside) >= len(inside) - 1
        elif e["kind"] == "loss_burst":
            mean = sum(s["packetsLostFraction"] for s in inside) / len(inside)
            assert mean == pytest.approx(e["magnitude"], rel=0.35)
        else:
            assert all(s["bytesReceived"] == 0 and s["packetsReceived"] == 0 for s in inside)
            assert all(s["audioOutputLevel"] == 0 for s in inside)


def test_tags_follow_their_rules(
    by_leg: dict[str, list[dict[str, Any]]], truth: dict[str, Any], generated: GeneratedFixtures
) -> None:
    for sid, tags in truth["tags"].items():
        samples = by_leg.get(sid, [])
        assert ("high_jitter" in tags) == (sum(s["jitter"] > 30 for s in samples) >= 3)
        assert ("high_latency" in tags) == any((s["rtt"] or 0) > 400 for s in samples)
        assert ("high_packet_loss" in tags) == any(s["packetsLostFraction"] > 5 for s in samples)
        assert ("low_mos" in tags) == any(s["mos"] is not None and s["mos"] < 3.5 for s in samples)
    by_kind = {e["call_sid"]: e["kind"] for e in truth["episodes"]}
    assert any(
        "high_jitter" in truth["tags"][sid] for sid, k in by_kind.items() if k == "high_jitter"
    )
    # The Insights summaries carry the same tags.
    import json

    page = json.loads((generated.out / "insights_summaries.json").read_text())
    for summary in page["call_summaries"]:
        assert summary["tags"] == truth["tags"][summary["call_sid"]]


def test_warnings_in_files_match_ground_truth(
    generated: GeneratedFixtures, by_leg: dict[str, list[dict[str, Any]]], truth: dict[str, Any]
) -> None:
    envs = [e for e in read_envelopes(generated.out) if e["type"].startswith("warning")]
    assert len(envs) == len(truth["warnings"]) > 10
    got = sorted((e["call_sid"], e["data"]["name"], e["type"]) for e in envs)
    want = sorted(
        (w["call_sid"], w["name"], "warning" if w["event"] == "raised" else "warning-cleared")
        for w in truth["warnings"]
    )
    assert got == want
    # Each leg's warnings are what the emulator says of its samples.
    for sid, samples in by_leg.items():
        events = [(w["name"], w["event"]) for w in truth["warnings"] if w["call_sid"] == sid]
        emulated = [
            (w["name"], "raised" if w["type"] == "warning" else "cleared")
            for w in emulate_warnings(samples)
        ]
        assert events == emulated


def _rule(name: str) -> Any:
    return next(r for r in RULES if r.warning == name)


def _check_rule_table(samples: list[dict[str, Any]]) -> None:
    """Each event obeys the rule table: the raise/clear condition holds over its window,
    no value in the window is null, events alternate, clears come >= 5 s after raises."""
    raised_at: dict[str, int] = {}
    index = {s["timestamp"]: i for i, s in enumerate(samples)}
    for ev in emulate_warnings(samples):
        rule = _rule(ev["name"])
        i = index[ev["timestamp_ms"]]
        window = samples[max(0, i - rule.window + 1) : i + 1]
        values = [s[rule.stat] for s in window]
        assert None not in values
        if rule.mode == "max":
            high = sum(v > rule.threshold for v in values)
            ok = high >= 3 if ev["type"] == "warning" else high == 0
        elif rule.mode == "min":
            low = sum(v < rule.threshold for v in values)
            ok = low >= 3 if ev["type"] == "warning" else low == 0
        elif rule.mode == "maxAverage":
            mean = sum(values) / len(values)
            ok = len(values) == 7 and (mean > 3 if ev["type"] == "warning" else mean <= 1)
        else:
            low = sum(v < 1 for v in values)
            ok = len(values) == 3 and (low == 3 if ev["type"] == "warning" else low <= 2)
        assert ok, (ev["name"], ev["type"], values)
        if ev["type"] == "warning":
            assert ev["name"] not in raised_at
            assert ev["data"]["values"] == values
            assert ev["data"]["samples"] == window
            raised_at[ev["name"]] = ev["timestamp_ms"]
        else:
            assert ev["timestamp_ms"] - raised_at.pop(ev["name"]) >= 5000


def test_generated_warnings_obey_rule_table(by_leg: dict[str, list[dict[str, Any]]]) -> None:
    for samples in by_leg.values():
        _check_rule_table(samples)


@pytest.mark.parametrize("seed", range(12))
def test_random_impairments_obey_rule_table(seed: int) -> None:
    rng = random.Random(seed)
    kinds = ["high_jitter", "high_rtt", "loss_burst", "media_stall"]
    episodes = [
        Episode(kinds[seed % 4], 10, 30, {0: 70.0, 1: 600.0, 2: 12.0, 3: 0.0}[seed % 4]),
        Episode(
            kinds[(seed + 1) % 4], 45, 60, {0: 50.0, 1: 500.0, 2: 25.0, 3: 0.0}[(seed + 1) % 4]
        ),
    ]
    samples = simulate_samples(rng, start_ms=T0, duration_s=90, codec="opus", episodes=episodes)
    _check_rule_table(samples)
    assert emulate_warnings(samples)


def _s(i: int, **over: Any) -> dict[str, Any]:
    s = {
        "timestamp": T0 + 1000 * i,
        "rtt": 50.0,
        "jitter": 2.0,
        "mos": 4.4,
        "packetsLostFraction": 0.0,
        "bytesReceived": 4000,
        "bytesSent": 4000,
    }
    s.update(over)
    return s


def _events(samples: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (e["type"], e["name"], (e["timestamp_ms"] - T0) // 1000) for e in emulate_warnings(samples)
    ]


def test_hand_worked_rtt() -> None:
    # 3 high RTTs raise at the 3rd; clear when the last 10 hold no high value, i.e. at
    # index 2 + 10 = 12 (>= 5 s after the raise).
    samples = [_s(i, rtt=500.0 if i < 3 else 80.0) for i in range(20)]
    assert _events(samples) == [("warning", "high-rtt", 2), ("warning-cleared", "high-rtt", 12)]


def test_hand_worked_null_skips_low_mos() -> None:
    # Low MOS from the start, but the first sample's MOS is null: the check waits until
    # the null leaves the 10-sample window (index 10), then raises at once.
    samples = [_s(i, mos=None if i == 0 else 2.0) for i in range(15)]
    assert _events(samples) == [("warning", "low-mos", 10)]
    # A null RTT in the window holds back both raising and clearing.
    samples = [_s(i, rtt=None if i == 3 else 500.0) for i in range(14)]
    assert _events(samples) == [("warning", "high-rtt", 2)]
    samples = [_s(i, rtt=500.0 if i < 3 else None) for i in range(30)]
    assert _events(samples) == [("warning", "high-rtt", 2)]


def test_hand_worked_five_second_minimum() -> None:
    # No bytes received for 3 s: raised at index 2; bytes back at index 3 (only 2 of the
    # last 3 low), but the clear waits until 5 s after the raise: index 7.
    samples = [_s(i, bytesReceived=0 if i < 3 else 4000) for i in range(12)]
    assert _events(samples) == [
        ("warning", "low-bytes-received", 2),
        ("warning-cleared", "low-bytes-received", 7),
    ]


def test_hand_worked_mean_of_seven() -> None:
    # Loss 4 % from index 0: mean over the first 7 (needs a full window) is 4 > 3 at
    # index 6; high-packet-loss (>= 3 of 10 above 1 %) fires earlier, at index 2. Loss 0
    # from index 7: the mean drops to <= 1 when at most one 4 % sample is left: index 12
    # (4/7 = 0.57); high-packet-loss clears at index 16 when no 4 % sample remains.
    samples = [_s(i, packetsLostFraction=4.0 if i < 7 else 0.0) for i in range(20)]
    assert _events(samples) == [
        ("warning", "high-packet-loss", 2),
        ("warning", "high-packets-lost-fraction", 6),
        ("warning-cleared", "high-packets-lost-fraction", 12),
        ("warning-cleared", "high-packet-loss", 16),
    ]


def test_monitor_is_online() -> None:
    monitor = SdkWarningMonitor()
    out = [monitor.add(_s(i, jitter=45.0)) for i in range(3)]
    assert out[0] == []
    assert out[1] == []
    assert [e["name"] for e in out[2]] == ["high-jitter"]
    assert "high-jitter" in monitor.active
    assert out[2][0]["data"]["threshold"] == {"name": "max", "value": 30}


def test_preflight_reports(generated: GeneratedFixtures, truth: dict[str, Any]) -> None:
    reports = [e for e in read_envelopes(generated.out) if e["type"] == "preflight-report"]
    assert len(reports) == len(truth["preflight"]) >= 2
    for env in reports:
        report = env["data"]
        mos = [s["mos"] for s in report["samples"] if s["mos"] is not None]
        assert report["stats"]["mos"]["average"] == pytest.approx(sum(mos) / len(mos), abs=1e-4)
        assert report["callQuality"] == call_quality(report["stats"]["mos"]["average"])
        assert report["totals"] == report["samples"][-1]["totals"]
        assert env["call_sid"] == report["callSid"]
    assert not math.isnan(truth["preflight"][0]["mos_avg"])


def test_feedback(generated: GeneratedFixtures, truth: dict[str, Any]) -> None:
    fb = [e for e in read_envelopes(generated.out) if e["type"] == "feedback"]
    assert len(fb) == len(truth["feedback"]) > 3
    for env in fb:
        score, issue = env["data"]["score"], env["data"]["issue"]
        assert score is None or 1 <= score <= 5
        assert issue is None or score is not None
