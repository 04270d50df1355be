"""summary.calls, fleet and feedback_vs_mos on small hand-made data."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from voiceinsights import AnalysisInputError, VoiceInsightsError
from voiceinsights.analysis import summary

T0 = pd.Timestamp("2026-01-01T00:00:00Z")


def samples(call: str, n: int, *, start: pd.Timestamp = T0, **over: list[Any]) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "call_sid": call,
            "identity": "alice",
            "timestamp": [start + pd.Timedelta(seconds=i) for i in range(n)],
            "codec_name": "opus",
            "mos": [None] + [4.4] * (n - 1),
            "jitter_ms": 5.0,
            "rtt_ms": 100.0,
            "packets_received": 50,
            "packets_lost": 0,
            "packets_lost_pct": 0.0,
            "bytes_received": 3000,
            "bytes_sent": 3000,
        }
    )
    for col, values in over.items():
        df[col] = values
    return df


@pytest.fixture
def fleet_samples() -> pd.DataFrame:
    jitter = [5.0] * 20
    jitter[4] = jitter[9] = jitter[15] = 45.0
    lost = [0] * 20
    lost[3] = 10  # 10 of 60 packets in that second: 16.7 %
    zero = [3000] * 20
    zero[10:13] = [0, 0, 0]
    return pd.concat(
        [
            samples("CA1", 20, jitter_ms=jitter),
            samples(
                "CA2", 20, packets_lost=lost, packets_lost_pct=[100 * x / (50 + x) for x in lost]
            ),
            samples("CA3", 20, bytes_received=zero),
            samples("CA4", 20, rtt_ms=[100.0] * 19 + [450.0], mos=[None] + [4.4] * 17 + [3.2, 3.0]),
            samples("CA5", 10, start=T0 + pd.Timedelta(days=1), codec_name="pcmu"),
        ],
        ignore_index=True,
    )


def test_codec_is_the_one_most_samples_name() -> None:
    codecs = {
        "CAa": ["opus", "pcmu", "pcmu"],  # pcmu by 2 to 1
        "CAb": ["pcmu", "opus"],  # a tie: the first by name
        "CAc": ["g722", "g722", "opus", None],  # another codec, counted exactly
        "CAd": ["pcma", "opus"],  # a tie with another codec
        "CAe": [None, None],  # none named
    }
    df = pd.concat([samples(c, len(v), codec_name=v) for c, v in codecs.items()], ignore_index=True)
    rel = duckdb.connect().from_df(df)
    for data in (df, rel):
        out = summary.calls(data).set_index("call_sid")["codec_name"].to_dict()
        assert out == {"CAa": "pcmu", "CAb": "opus", "CAc": "g722", "CAd": "opus", "CAe": None}


def test_per_call_values_by_hand(fleet_samples: pd.DataFrame) -> None:
    out = summary.calls(fleet_samples).set_index("call_sid")
    assert list(out.columns) == list(summary.CALL_COLUMNS[1:])
    assert out.loc["CA1", "samples"] == 20
    assert out.loc["CA1", "jitter_max_ms"] == 45.0
    assert out.loc["CA1", "jitter_mean_ms"] == pytest.approx((17 * 5 + 3 * 45) / 20)
    # p95 of 17 x 5 and 3 x 45 with linear interpolation: position 0.95 * 19 = 18.05
    assert out.loc["CA1", "jitter_p95_ms"] == pytest.approx(45.0)
    assert out.loc["CA2", "packets_lost"] == 10
    assert out.loc["CA2", "loss_pct"] == pytest.approx(100 * 10 / (20 * 50 + 10))
    assert out.loc["CA4", "mos_min"] == 3.0
    assert out.loc["CA4", "mos_mean"] == pytest.approx((17 * 4.4 + 3.2 + 3.0) / 19)
    assert out.loc["CA5", "codec_name"] == "pcmu"
    assert out.loc["CA1", "call_quality"] == "excellent"
    tags = out["tags"].to_dict()
    assert tags == {
        "CA1": ["high_jitter"],
        "CA2": ["high_packet_loss"],
        "CA3": ["silence"],
        "CA4": ["high_latency", "low_mos"],
        "CA5": [],
    }
    assert out["warnings_raised"].isna().all()  # no warnings input


def test_two_zero_runs_are_not_silence() -> None:
    b = [3000] * 12
    b[2:4] = [0, 0]
    b[6:8] = [0, 0]
    out = summary.calls(samples("CA1", 12, bytes_received=b))
    assert out["tags"].iloc[0] == []


def test_warning_seconds_by_hand(fleet_samples: pd.DataFrame) -> None:
    warnings = pd.DataFrame(
        {
            "call_sid": ["CA1", "CA1", "CA1", "CA4", "CA4"],
            "name": [
                "high-jitter",
                "high-jitter",
                "low-mos",
                "ice-connectivity-lost",
                "ice-connectivity-lost",
            ],
            "event": ["raised", "cleared", "warning", "warning", "warning-cleared"],
            "timestamp": [T0 + pd.Timedelta(seconds=s) for s in (9, 16, 15, 2, 5)],
        }
    )
    out = summary.calls(fleet_samples, warnings=warnings).set_index("call_sid")
    assert out.loc["CA1", "warnings_raised"] == 2
    # high-jitter 9 -> 16 (7 s); low-mos never cleared: 15 -> last sample at 19 (4 s).
    assert out.loc["CA1", "warning_seconds_s"] == pytest.approx(11.0)
    assert out.loc["CA4", "warning_seconds_s"] == pytest.approx(3.0)
    assert "ice_failure" in out.loc["CA4", "tags"]
    assert out.loc["CA2", "warnings_raised"] == 0


def test_input_kinds_agree(fleet_samples: pd.DataFrame) -> None:
    ref = summary.calls(fleet_samples)
    arrow = summary.calls(pa.Table.from_pandas(fleet_samples))
    con = duckdb.connect()
    con.execute("CREATE TABLE samples AS SELECT * FROM fleet_samples")
    rel = summary.calls(con.table("samples"))

    class FakeStore:  # anything with relation(table) works as a store
        def relation(self, table: str) -> Any:
            if table != "samples":
                raise KeyError(table)
            return con.table("samples")

    store = summary.calls(FakeStore())
    for other in (arrow, rel, store):
        pd.testing.assert_frame_equal(
            ref.drop(columns=["tags"]).sort_values("call_sid").reset_index(drop=True),
            other.drop(columns=["tags"]).sort_values("call_sid").reset_index(drop=True),
            check_dtype=False,
        )


def test_legs_without_samples_and_feedback(fleet_samples: pd.DataFrame) -> None:
    legs = pd.DataFrame(
        {
            "call_sid": ["CA1", "CA9"],
            "parent_call_sid": [None, "CA1"],
            "status": ["completed", "busy"],
            "direction": ["inbound", "outbound-dial"],
            "start_time": [T0, T0],
            "end_time": [T0, T0],
            "duration_s": [20.0, 0.0],
        }
    )
    fb = pd.DataFrame(
        {
            "call_sid": ["CA1", "CA4", "CA4"],
            "score": [5, 1, 2],
            "issue": [None, "choppy-audio", "audio-latency"],
            "received_at": [T0, T0, T0 + pd.Timedelta(seconds=1)],
        }
    )
    out = summary.calls(fleet_samples, legs, feedback=fb).set_index("call_sid")
    assert out.loc["CA9", "status"] == "busy"
    assert pd.isna(out.loc["CA9", "samples"])
    assert out.loc["CA9", "root_call_sid"] == "CA1"
    assert out.loc["CA9", "tags"] == []
    assert out.loc["CA4", "feedback_score"] == 2  # the latest feedback wins
    assert out.loc["CA4", "feedback_issue"] == "audio-latency"

    vs = summary.feedback_vs_mos(out.reset_index())
    by_score = vs.set_index("score")
    assert by_score.loc[5, "calls"] == 1
    assert by_score.loc[2, "low_mos_pct"] == 100.0
    assert np.isnan(vs.attrs["spearman_rho"])  # only 2 scored calls
    assert vs["calls"].sum() == 2  # calls without feedback are not "declined"
    # With the feedback table, a feedback that declined to score counts under <NA>.
    declined = pd.concat(
        [fb, pd.DataFrame({"call_sid": ["CA3"], "score": [None], "issue": [None],
                           "received_at": [T0]})],
        ignore_index=True,
    )  # fmt: skip
    vs = summary.feedback_vs_mos(out.reset_index(), declined)
    assert vs["calls"].sum() == 3
    assert vs.loc[vs["score"].isna(), "calls"].tolist() == [1]
    assert vs.set_index("score").loc[2, "calls"] == 1  # CA4's latest feedback, not its first


def test_fleet_by_day_and_codec(fleet_samples: pd.DataFrame) -> None:
    per_call = summary.calls(fleet_samples)
    days = summary.fleet(per_call, "day", time_column="first_sample_at")
    assert days["day"].tolist() == ["2026-01-01", "2026-01-02"]
    assert days["calls"].tolist() == [4, 1]
    assert days.loc[0, "high_jitter_pct"] == 25.0
    assert days.loc[0, "excellent"] + days.loc[0, "great"] + days.loc[0, "good"] == 4
    codec = summary.fleet(per_call, ["codec_name"])
    assert codec.set_index("codec_name")["calls"].to_dict() == {"opus": 4, "pcmu": 1}


def test_bad_input() -> None:
    with pytest.raises(VoiceInsightsError, match="lack columns"):
        summary.calls(pd.DataFrame({"call_sid": ["x"], "timestamp": [T0]}))
    with pytest.raises(ValueError, match="needs samples"):
        summary.calls()
    with pytest.raises(AnalysisInputError, match="DataFrame"):
        summary.calls(42)


def _reference(df: pd.DataFrame) -> pd.DataFrame:
    """calls() recomputed per call with plain pandas (no DuckDB)."""
    rows = {}
    for sid, g in df.groupby("call_sid"):
        g = g.sort_values("timestamp")
        lost = g["packets_lost"].clip(lower=0).sum()
        packets = g["packets_received"].sum() + lost
        zero = (g["bytes_received"] == 0).astype(int)
        rows[sid] = {
            "identity": g["identity"].iloc[0],
            "codec_name": g["codec_name"].value_counts().idxmax(),
            "samples": len(g),
            "first_sample_at": g["timestamp"].min(),
            "last_sample_at": g["timestamp"].max(),
            "mos_mean": g["mos"].mean(),
            "mos_min": g["mos"].min(),
            "mos_p5": g["mos"].quantile(0.05),
            "jitter_mean_ms": g["jitter_ms"].mean(),
            "jitter_p95_ms": g["jitter_ms"].quantile(0.95),
            "jitter_max_ms": g["jitter_ms"].max(),
            "rtt_mean_ms": g["rtt_ms"].mean(),
            "rtt_p95_ms": g["rtt_ms"].quantile(0.95),
            "rtt_max_ms": g["rtt_ms"].max(),
            "packets_received": g["packets_received"].sum(),
            "packets_lost": lost,
            "loss_pct": 100 * lost / packets if packets > 0 else g["packets_lost_pct"].mean(),
            "loss_max_pct": g["packets_lost_pct"].max(),
            "bytes_received": g["bytes_received"].sum(),
            "bytes_sent": g["bytes_sent"].sum(),
            "tags": [
                tag
                for tag, hit in (
                    ("high_jitter", (g["jitter_ms"] > 30).sum() >= 3),
                    ("high_packet_loss", (g["packets_lost_pct"] > 5).any()),
                    ("high_latency", (g["rtt_ms"] > 400).any()),
                    ("low_mos", (g["mos"] < 3.5).any()),
                    ("silence", zero.rolling(3).sum().max() >= 3),
                )
                if hit
            ],
        }
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_pandas_reference_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(40):
        n = int(rng.integers(1, 120))
        lost = rng.integers(-1, 6, n)  # a negative count (counter reset) counts as 0
        received = rng.integers(0, 60, n)
        bytes_rx = np.where(rng.random(n) < 0.15, 0, rng.integers(1, 4000, n))
        major, minor = rng.permutation(["opus", "pcmu", "pcma"])[:2]
        codec = np.where(np.arange(n) % 4 == 3, minor, major)  # the major codec wins
        mos = rng.uniform(2.5, 4.5, n)
        mos[0] = np.nan
        rtt = rng.uniform(20, 450, n)
        rtt[rng.random(n) < 0.1] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "call_sid": f"CA{c:03d}",
                    "identity": f"user{c % 7}",
                    "timestamp": T0
                    + pd.to_timedelta(rng.permutation(n) + 1000 * c, unit="s"),  # shuffled
                    "codec_name": codec,
                    "mos": mos,
                    "jitter_ms": rng.exponential(12.0, n),
                    "rtt_ms": rtt,
                    "packets_received": received if c % 9 else np.zeros(n, dtype=int),
                    "packets_lost": lost if c % 9 else np.zeros(n, dtype=int),
                    "packets_lost_pct": rng.uniform(0, 6.0, n),
                    "bytes_received": bytes_rx,
                    "bytes_sent": rng.integers(0, 4000, n),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed)
    ref = _reference(df)
    ours = summary.calls(df).set_index("call_sid").loc[ref.index]
    for col in ref.columns:
        if col == "tags":
            assert ours[col].tolist() == ref[col].tolist()
        elif col in ("identity", "codec_name"):
            assert ours[col].tolist() == ref[col].tolist(), col
        elif col in ("first_sample_at", "last_sample_at"):
            assert (pd.to_datetime(ours[col], utc=True) == ref[col]).all(), col
        else:
            np.testing.assert_allclose(
                pd.to_numeric(ours[col]).astype(float),
                ref[col].astype(float),
                rtol=1e-9,
                atol=1e-9,
                err_msg=col,
            )
    # Every tag occurs somewhere, so the comparison exercises each rule both ways.
    seen = {t for ts in ref["tags"] for t in ts}
    assert seen >= {"high_jitter", "high_packet_loss", "high_latency", "low_mos", "silence"}
