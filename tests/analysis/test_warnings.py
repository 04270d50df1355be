"""warnings.detect replays the SDK's rules; checked by hand and against the fixtures'
independent sample-by-sample emulation of the SDK monitor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from voiceinsights.analysis import warnings as w

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def frame(call: str, **cols: list[float | None]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    data: dict[str, object] = {
        "call_sid": [call] * n,
        "timestamp": [T0 + pd.Timedelta(seconds=i) for i in range(n)],
    }
    data.update(cols)
    return pd.DataFrame(data)


def events(df: pd.DataFrame) -> list[tuple[int, str, str]]:
    return [
        (int((t - T0).total_seconds()), n, e)
        for t, n, e in zip(df["timestamp"], df["name"], df["event"], strict=True)
    ]


def test_high_rtt_raise_and_clear_by_hand() -> None:
    rtt = [100.0] * 30
    for i in (2, 4, 5):
        rtt[i] = 500.0
    got = w.detect(frame("CA1", rtt_ms=rtt))
    # third spike at t=5 raises; the last spike leaves the 10-sample window at t=15 (window
    # 6..15 holds none): 0 of 10 -> cleared (10 s after the raise, past the 5 s minimum).
    assert events(got) == [(5, "high-rtt", "raised"), (15, "high-rtt", "cleared")]
    assert got["threshold_name"].tolist() == ["max", "max"]
    assert got["values"].iloc[0] == rtt[0:6]
    assert not got["approximate"].any()


def test_min_clear_time() -> None:
    # Spikes at 0, 1, 2 raise at t=2; with a window of 3 the warning would be clear at t=5
    # but stays until 5 s after the raise (t=7).
    jitter = [50.0, 50.0, 50.0] + [1.0] * 10
    rules = (w.Rule("high-jitter", "jitter_ms", "max", 30, window=3),)
    got = w.detect(frame("CA1", jitter_ms=jitter), thresholds=rules)
    assert events(got) == [(2, "high-jitter", "raised"), (7, "high-jitter", "cleared")]


def test_low_mos_waits_for_null_first_sample_to_leave_window() -> None:
    mos = [None] + [2.0] * 14
    got = w.detect(frame("CA1", mos=mos))
    assert events(got) == [(10, "low-mos", "raised")]


def test_null_in_window_skips_and_is_not_filled() -> None:
    loss = [5.0, 5.0, None, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    got = w.detect(frame("CA1", packets_lost_pct=loss))
    # high-packet-loss would fire at t=2 (3 of 3) but the window holds a null until the
    # null leaves it, 10 samples later (t=12). The mean-of-7 rule needs 7 null-free
    # samples: window 3..9 at t=9.
    assert events(got) == [
        (9, "high-packets-lost-fraction", "raised"),
        (12, "high-packet-loss", "raised"),
    ]


def test_low_bytes_and_mean_clear_value() -> None:
    bytes_rx = [100, 0, 0, 0, 0, 0, 0, 0, 100, 100, 100, 100]
    got = w.detect(frame("CA1", bytes_received=bytes_rx))
    # all 3 of 3 < 1 at t=3; <= 2 of 3 from t=8, but clear only 5 s after the raise: t=8.
    assert events(got) == [
        (3, "low-bytes-received", "raised"),
        (8, "low-bytes-received", "cleared"),
    ]
    loss = [4.0] * 7 + [1.5] * 20 + [0.0] * 10
    got = w.detect(
        frame("CA2", packets_lost_pct=loss),
        thresholds=[r for r in w.SDK_DEFAULTS if r.kind == "maxAverage"],
    )
    # mean of 7 > 3 at t=6; the mean drops to <= 1 only once enough zeros are in: the
    # window 27..33 (1.5 x 0 + ...) -> first t where mean <= 1 is when <= 4 of 7 are 1.5.
    t_clear = next(t for t in range(7, 37) if sum(loss[t - 6 : t + 1]) / 7 <= 1)
    assert events(got) == [
        (6, "high-packets-lost-fraction", "raised"),
        (t_clear, "high-packets-lost-fraction", "cleared"),
    ]


def test_thresholds_are_configurable() -> None:
    rtt = [300.0] * 12
    assert w.detect(frame("CA1", rtt_ms=rtt)).empty
    got = w.detect(frame("CA1", rtt_ms=rtt), thresholds=w.with_thresholds(high_rtt=250))
    assert events(got) == [(2, "high-rtt", "raised")]
    with pytest.raises(ValueError, match="unknown warnings"):
        w.with_thresholds(nope=1)


def test_constant_audio_is_approximate() -> None:
    flat = [1000] * 12
    varied = [0, 5000] * 6
    df = pd.concat([frame("CA1", audio_input_level=flat), frame("CA2", audio_input_level=varied)])
    got = w.detect(df)
    assert got["call_sid"].tolist() == ["CA1"]
    assert got["name"].tolist() == ["constant-audio-input-level"]
    assert got["approximate"].tolist() == [True]
    assert events(got) == [(9, "constant-audio-input-level", "raised")]


def test_calls_do_not_leak_into_each_other_and_order_is_free() -> None:
    a = frame("CA1", rtt_ms=[500.0, 500.0] + [100.0] * 8)
    b = frame("CA2", rtt_ms=[500.0] + [100.0] * 9)
    assert w.detect(pd.concat([a, b])).empty
    shuffled = pd.concat([a, frame("CA3", rtt_ms=[500.0] * 4)]).sample(frac=1, random_state=1)
    got = w.detect(shuffled)
    assert got["call_sid"].tolist() == ["CA3"]


def test_numeric_timestamps_are_sdk_milliseconds() -> None:
    df = frame("CA1", rtt_ms=[500.0] * 3)
    df["timestamp"] = [1_767_225_600_000 + 1000 * i for i in range(3)]
    got = w.detect(df)
    assert got["timestamp"].tolist() == [pd.Timestamp(1_767_225_602_000, unit="ms", tz="UTC")]


def test_missing_columns() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        w.detect(pd.DataFrame({"call_sid": ["x"]}))
    assert w.detect(frame("CA1", rtt_ms=[1.0]).iloc[:0]).empty


# --- against the fixtures' independent emulator ---------------------------------------

SDK_KEYS = {
    "rtt": "rtt_ms",
    "jitter": "jitter_ms",
    "mos": "mos",
    "packetsLostFraction": "packets_lost_pct",
    "bytesReceived": "bytes_received",
    "bytesSent": "bytes_sent",
}


def random_call(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    """SDK-style samples with bursts of impairment and occasional nulls."""
    samples: list[dict[str, object]] = []
    bad = rng.random(6) * 0.5
    t = 1_767_225_600_000 + int(rng.integers(0, 10**6))
    for i in range(n):
        if rng.random() < 0.1:  # switch impairment regime now and then
            bad = rng.random(6) * rng.choice([0.1, 0.6, 1.0])
        rtt = float(rng.choice([80, 450])) if rng.random() < bad[0] else float(rng.uniform(20, 390))
        jit = float(rng.uniform(31, 80)) if rng.random() < bad[1] else float(rng.uniform(0, 29))
        loss = (
            float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0, 8.0, 20.0]))
            if rng.random() < bad[2]
            else 0.0
        )
        mos = (
            None
            if i == 0
            else float(rng.uniform(1.5, 4.4) if rng.random() < bad[3] else rng.uniform(3.0, 4.4))
        )
        brx = 0 if rng.random() < bad[4] else int(rng.integers(1, 9000))
        btx = 0 if rng.random() < bad[5] else int(rng.integers(1, 9000))
        s: dict[str, object] = {
            "timestamp": t,
            "rtt": rtt,
            "jitter": jit,
            "packetsLostFraction": loss,
            "mos": mos,
            "bytesReceived": brx,
            "bytesSent": btx,
        }
        if rng.random() < 0.02:
            s[str(rng.choice(list(SDK_KEYS)))] = None
        samples.append(s)
        t += 1000 + int(rng.integers(-3, 4))  # timers drift a few ms
    return samples


def to_frame(call: str, samples: list[dict[str, object]]) -> pd.DataFrame:
    rows = []
    for s in samples:
        row = {
            "call_sid": call,
            "timestamp": pd.Timestamp(
                int(s["timestamp"]),
                unit="ms",  # type: ignore[call-overload]
                tz="UTC",
            ),
        }
        row.update({col: s[key] for key, col in SDK_KEYS.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def test_matches_fixture_emulator_event_for_event() -> None:
    monitor = pytest.importorskip("voiceinsights.fixtures._monitor")
    rng = np.random.default_rng(2026)
    frames, expected = [], []
    for k in range(120):
        call = f"CA{k:032d}"
        samples = random_call(rng, int(rng.integers(1, 120)))
        frames.append(to_frame(call, samples))
        for ev in monitor.emulate_warnings(samples):
            expected.append(
                (
                    call,
                    pd.Timestamp(ev["timestamp_ms"], unit="ms", tz="UTC"),
                    ev["name"],
                    "raised" if ev["type"] == "warning" else "cleared",
                )
            )
    got = w.detect(pd.concat(frames, ignore_index=True))
    got = got[~got["approximate"]]
    actual = list(zip(got["call_sid"], got["timestamp"], got["name"], got["event"], strict=True))
    print(f"{len(expected)} emulator events over 120 calls")
    assert len(expected) > 200
    assert sorted(actual) == sorted(expected)
    # Same order within each call, too.
    for call in {e[0] for e in expected}:
        assert [a for a in actual if a[0] == call] == [e for e in expected if e[0] == call]


def test_compare() -> None:
    det = w.detect(frame("CA1", rtt_ms=[500.0] * 3 + [100.0] * 12))
    reported = pd.DataFrame(
        {
            "call_sid": ["CA1", "CA1", "CA2"],
            "timestamp": [T0 + pd.Timedelta(seconds=2), T0 + pd.Timedelta(seconds=20), T0],
            "name": ["high-rtt", "high-rtt", "low-mos"],
            "event": ["warning", "warning-cleared", "warning"],
        }
    )
    cmp = w.compare(det, reported)
    status = dict(
        zip(
            zip(cmp["call_sid"], cmp["name"], cmp["event"], strict=True), cmp["status"], strict=True
        )
    )
    assert status[("CA1", "high-rtt", "raised")] == "match"
    assert status[("CA1", "high-rtt", "cleared")] == "time-differs"  # replay says t=12
    assert status[("CA2", "low-mos", "raised")] == "reported-only"
