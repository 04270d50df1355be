"""The analysis layer against the fixtures' ground truth: warnings, tags, call trees."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from voiceinsights.analysis import calltree, summary, warnings

# Injected impairment kind -> the tag that should find it.
EPISODE_TAG = {
    "high_jitter": "high_jitter",
    "high_rtt": "high_latency",
    "loss_burst": "high_packet_loss",
    "media_stall": "silence",
}


def test_detect_reproduces_fixture_warnings(
    frames: dict[str, pd.DataFrame], truth: dict[str, Any]
) -> None:
    got = warnings.detect(frames["samples"])
    got = got[~got["approximate"]]
    actual = sorted(zip(got["call_sid"], got["timestamp"], got["name"], got["event"], strict=True))
    expected = sorted(
        (w["call_sid"], pd.Timestamp(w["sample_timestamp"]), w["name"], w["event"])
        for w in truth["warnings"]
    )
    print(f"{len(expected)} ground-truth warning events, {len(actual)} replayed")
    assert len(expected) > 10
    assert actual == expected
    # And the forwarded warnings (the `warnings` table) agree with the replay.
    cmp = warnings.compare(got, frames["warnings"])
    assert (cmp["status"] == "match").all(), cmp[cmp["status"] != "match"]


@pytest.fixture(scope="module")
def call_summary(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return summary.calls(
        frames["samples"],
        frames["call_events"],
        warnings=frames["warnings"],
        feedback=frames["feedback"],
    )


def test_summary_tags_match_truth(call_summary: pd.DataFrame, truth: dict[str, Any]) -> None:
    tags = dict(zip(call_summary["call_sid"], call_summary["tags"], strict=True))
    for sid, expected in truth["tags"].items():
        assert sorted(tags.get(sid, [])) == sorted(expected), sid


def test_summary_finds_injected_impairments(
    call_summary: pd.DataFrame, truth: dict[str, Any]
) -> None:
    tags = dict(zip(call_summary["call_sid"], call_summary["tags"], strict=True))
    sampled = set(call_summary.loc[call_summary["samples"].fillna(0) > 0, "call_sid"])
    episodes: dict[str, set[str]] = {}
    for e in truth["episodes"]:
        episodes.setdefault(EPISODE_TAG[e["kind"]], set()).add(e["call_sid"])
    lines = []
    for tag in EPISODE_TAG.values():
        injected = episodes.get(tag, set())
        found = {sid for sid in sampled if tag in tags[sid]}
        tp = len(injected & found)
        precision = tp / len(found) if found else 1.0
        recall = tp / len(injected) if injected else 1.0
        lines.append(
            f"{tag}: injected={len(injected)} tagged={len(found)} "
            f"precision={precision:.2f} recall={recall:.2f}"
        )
        assert recall >= 0.9, lines[-1]
        assert precision >= 0.9, lines[-1]
    print("\n".join(lines))
    assert sum(len(v) for v in episodes.values()) >= 5


def test_summary_columns_and_legs(call_summary: pd.DataFrame, truth: dict[str, Any]) -> None:
    legs = {leg["sid"]: leg for call in truth["call_list"] for leg in call["legs"]}
    assert set(call_summary["call_sid"]) == set(legs)
    s = call_summary.set_index("call_sid")
    for sid, leg in legs.items():
        assert s.loc[sid, "status"] == leg["status"], sid
        assert s.loc[sid, "direction"] == leg["direction"], sid
        n = s.loc[sid, "samples"]
        assert (0 if pd.isna(n) else int(n)) == leg["samples"], sid
        if leg["status"] == "completed":
            assert s.loc[sid, "duration_s"] == pytest.approx(leg["duration_s"], abs=1), sid
    with_samples = s[s["samples"].fillna(0) > 0]
    assert (with_samples["mos_min"] <= with_samples["mos_p5"] + 1e-12).all()
    assert (with_samples["jitter_p95_ms"] <= with_samples["jitter_max_ms"] + 1e-12).all()
    raised = sum(1 for w in truth["warnings"] if w["event"] == "raised")
    assert int(with_samples["warnings_raised"].sum()) == raised
    fb = {f["call_sid"]: f for f in truth["feedback"]}
    for sid, f in fb.items():
        score = s.loc[sid, "feedback_score"]
        assert (pd.isna(score) and f["score"] is None) or score == f["score"], sid


def test_fleet_and_feedback(call_summary: pd.DataFrame, truth: dict[str, Any]) -> None:
    by_dir = summary.fleet(call_summary, ["day", "direction"])
    assert by_dir["calls"].sum() == len(call_summary)
    bands = by_dir[["excellent", "great", "good", "fair", "degraded"]].sum(axis=1)
    assert (bands == by_dir["calls_with_samples"]).all()
    by_codec = summary.fleet(call_summary, "codec_name")
    assert set(by_codec["codec_name"].dropna()) <= {"opus", "pcmu"}
    fb = summary.feedback_vs_mos(call_summary)
    scored = [f for f in truth["feedback"] if f["score"] is not None]
    assert int(fb.loc[fb["score"].notna(), "calls"].sum()) == len(scored)
    assert fb.attrs["calls_with_feedback"] == len(scored)
    with pytest.raises(ValueError, match="cannot group"):
        summary.fleet(call_summary, "nope")


def test_call_trees_match_generated_legs(
    frames: dict[str, pd.DataFrame], truth: dict[str, Any]
) -> None:
    tree = calltree.build(frames["call_events"], conference_events=frames["conference_events"])
    t = tree.legs.set_index("call_sid")
    parent = {leg["sid"]: leg["parent_call_sid"] for c in truth["call_list"] for leg in c["legs"]}

    def root_of(sid: str) -> tuple[str, int]:
        depth = 0
        while parent[sid] is not None:
            sid, depth = parent[sid], depth + 1
        return sid, depth

    assert set(t.index) == set(parent)
    assert not t["orphan"].any()
    for call in truth["call_list"]:
        conf_legs = set()
        for leg in call["legs"]:
            sid = leg["sid"]
            row = t.loc[sid]
            assert (row["parent_call_sid"] if pd.notna(row["parent_call_sid"]) else None) == leg[
                "parent_call_sid"
            ], sid
            assert (row["root_call_sid"], row["depth"]) == root_of(sid), sid
            if pd.notna(row["conference_sid"]):
                conf_legs.add(sid)
                assert row["conference_sid"] == call["conference_sid"], sid
        assert bool(conf_legs) == (call["conference_sid"] is not None), call["index"]
    text = repr(tree).splitlines()
    n_conf = sum(1 for line in text if line.startswith("conference "))
    assert n_conf == sum(1 for c in truth["call_list"] if c["conference_sid"])
    assert len(text) == 1 + len(tree) + n_conf  # header, one line per leg, conferences
    assert "<ul>" in tree._repr_html_()


def test_on_a_real_store(
    fixture_dir: Any, tmp_path: Any, truth: dict[str, Any], call_summary: pd.DataFrame
) -> None:
    """The same results from a DuckDB store file (relations scanned where they live)."""
    store_mod = pytest.importorskip("voiceinsights.store")
    store = store_mod.open(tmp_path / "fx.duckdb")
    report = store.ingest([fixture_dir])
    assert report.rejected == []
    from_store = summary.calls(store)
    tags = dict(zip(from_store["call_sid"], from_store["tags"], strict=True))
    assert {k: sorted(v) for k, v in truth["tags"].items()} == {
        k: sorted(tags[k]) for k in truth["tags"]
    }
    cols = ["call_sid", "samples", "mos_mean", "jitter_p95_ms", "loss_pct", "warnings_raised"]
    a = from_store[cols].sort_values("call_sid").reset_index(drop=True)
    b = call_summary[cols].sort_values("call_sid").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    tree = calltree.build(
        store.relation("calls"), conference_events=store.relation("conference_events")
    )
    parents = {leg["sid"]: leg["parent_call_sid"] for c in truth["call_list"] for leg in c["legs"]}
    got = dict(zip(tree.legs["call_sid"], tree.legs["parent_call_sid"], strict=True))
    assert {k: (v if isinstance(v, str) else None) for k, v in got.items()} == parents
