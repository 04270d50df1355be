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
