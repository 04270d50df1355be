"""Synthetic frames with the schema's column names, for the plot and report tests.

Values are generated with a seeded RNG and the Voice SDK MOS formula from the analysis
layer, so the figures show realistic shapes (an impairment episode, a warning span).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from voiceinsights.analysis import mos

T0 = pd.Timestamp("2026-11-20 14:00:00", tz="UTC")


def samples(call_sid: str = "CA0001", seconds: int = 90, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = T0 + pd.to_timedelta(np.arange(seconds) + 5, unit="s")
    jitter = rng.gamma(2.0, 2.5, seconds)
    rtt = 80 + rng.normal(0, 6, seconds)
    loss = np.zeros(seconds)
    bad = slice(seconds // 3, seconds // 3 + 15) if seconds > 30 else slice(0, 0)
    jitter[bad] += 45
    rtt[bad] += 350
    loss[bad] = rng.uniform(2, 9, len(loss[bad]))
    m = np.asarray(mos.twilio_sdk(rtt, jitter, loss), dtype=float)
    m[0] = np.nan
    return pd.DataFrame(
        {
            "call_sid": call_sid,
            "timestamp": t,
            "mos": m,
            "jitter_ms": jitter,
            "rtt_ms": rtt,
            "packets_lost_pct": loss,
            "packets_received": 50,
            "packets_lost": np.round(loss / 2).astype(int),
            "bytes_received": 8000,
            "bytes_sent": 8000,
            "codec_name": "opus",
        }
    )


def warnings(call_sid: str = "CA0001", seconds: int = 90) -> pd.DataFrame:
    s = seconds // 3
    rows = [
        (T0 + pd.Timedelta(seconds=5 + s + 3), "high-jitter", "raised"),
        (T0 + pd.Timedelta(seconds=5 + s + 20), "high-jitter", "cleared"),
        (T0 + pd.Timedelta(seconds=5 + s + 4), "high-rtt", "raised"),
        (T0 + pd.Timedelta(seconds=5 + s + 22), "high-rtt", "cleared"),
        (T0 + pd.Timedelta(seconds=5 + s + 5), "high-packet-loss", "raised"),
    ]
    return pd.DataFrame(
        [{"call_sid": call_sid, "timestamp": t, "name": n, "event": e} for t, n, e in rows]
    )


def events(call_sid: str = "CA0001", seconds: int = 90) -> pd.DataFrame:
    rows = [
        (0, "initiated", 0),
        (1, "ringing", 2),
        (2, "in-progress", 5),
        (3, "completed", 5 + seconds + 1),
    ]
    return pd.DataFrame(
        [
            {
                "call_sid": call_sid,
                "sequence_number": seq,
                "call_status": status,
                "timestamp": T0 + pd.Timedelta(seconds=off),
            }
            for seq, status, off in rows
        ]
    )


def legs() -> pd.DataFrame:
    """A call tree as ``analysis.calltree.build`` returns it: a root with three children."""
    rows = [
        ("CAroot", None, "inbound", "completed", 0, 120),
        ("CAchild1", "CAroot", "outbound-dial", "no-answer", 3, 23),
        ("CAchild2", "CAroot", "outbound-dial", "completed", 24, 118),
        ("CAgrand", "CAchild2", "outbound-dial", "busy", 40, 44),
    ]
    depth = {"CAroot": 0, "CAchild1": 1, "CAchild2": 1, "CAgrand": 2}
    path = {
        "CAroot": "CAroot",
        "CAchild1": "CAroot/CAchild1",
        "CAchild2": "CAroot/CAchild2",
        "CAgrand": "CAroot/CAchild2/CAgrand",
    }
    return pd.DataFrame(
        [
            {
                "call_sid": sid,
                "parent_call_sid": parent,
                "root_call_sid": "CAroot",
                "depth": depth[sid],
                "path": path[sid],
                "direction": direction,
                "status": status,
                "start_time": T0 + pd.Timedelta(seconds=a),
                "end_time": T0 + pd.Timedelta(seconds=b),
                "duration_s": float(b - a),
            }
            for sid, parent, direction, status, a, b in rows
        ]
    )


def call_summaries(n: int = 400, seed: int = 2) -> pd.DataFrame:
    """Per-call summary rows (``summary.calls`` columns used by the fleet plots)."""
    rng = np.random.default_rng(seed)
    day = T0.normalize() - pd.to_timedelta(rng.integers(0, 7, n), unit="D")
    direction = rng.choice(["inbound", "outbound-api", "outbound-dial"], n)
    codec = rng.choice(["opus", "pcmu"], n, p=[0.7, 0.3])
    base = np.where(codec == "opus", 4.3, 4.1) - np.where(direction == "outbound-dial", 0.3, 0)
    m = np.clip(base - rng.gamma(1.2, 0.25, n), 1.0, 4.5)
    score = np.where(
        rng.random(n) < 0.4, np.clip(np.round(m + rng.normal(0, 0.6, n)), 1, 5), np.nan
    )
    return pd.DataFrame(
        {
            "call_sid": [f"CA{i:032x}" for i in range(n)],
            "start_time": day + pd.to_timedelta(rng.integers(0, 86400, n), unit="s"),
            "direction": direction,
            "codec_name": codec,
            "mos_mean": m,
            "feedback_score": score,
            "tags": [["low_mos"] if v < 3.5 else [] for v in m],
        }
    )


def probe_runs(n: int = 30, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        target = ["http://127.0.0.1:8080/echo", "http://127.0.0.1:9090/echo"][i % 2]
        label = "office" if i % 3 else "home"
        failed = i in (7, 19)
        m = None if failed else float(np.clip(4.35 - rng.gamma(1.0, 0.15) - (i % 2) * 0.3, 1, 4.5))
        started = T0 + pd.Timedelta(minutes=5 * i)
        timing = {
            "signaling": {"start": 0.0, "end": 12.0, "duration": 12.0},
            "ice": {"start": 12.0, "end": 40.0, "duration": 28.0},
            "dtls": {"start": 40.0, "end": 61.0, "duration": 21.0},
            "peerConnection": {"start": 12.0, "end": 61.0, "duration": 49.0},
        }
        rows.append(
            {
                "run_id": f"run-{i:03d}",
                "source": "voiceinsights-probe",
                "target": target,
                "label": label,
                "started_at": started,
                "ended_at": started + pd.Timedelta(seconds=6),
                "duration_s": 6.0,
                "status": "failed" if failed else "ok",
                "failed_phase": "ice" if failed else None,
                "error": "ICE timed out" if failed else None,
                "call_quality": None,
                "mos_avg": m,
                "rtt_avg_ms": None if failed else float(2 + rng.gamma(2, 3)),
                "jitter_avg_ms": None if failed else float(rng.gamma(2, 1.5)),
                "loss_pct": None if failed else float(rng.choice([0, 0, 0, 0.5, 2.0])),
                "signaling_ms": 12.0,
                "ice_ms": 28.0,
                "dtls_ms": 21.0,
                "peer_connection_ms": 49.0,
                "first_media_ms": 95.0,
                "report": json.dumps({"networkTiming": timing}),
            }
        )
    return pd.DataFrame(rows)


def probe_samples(run_id: str = "run-000", seconds: int = 6) -> pd.DataFrame:
    frame = samples(call_sid=run_id, seconds=seconds, seed=5).drop(columns=["call_sid"])
    return frame.assign(run_id=run_id)


def tree_events() -> pd.DataFrame:
    """Status callbacks (``call_events`` rows) for the legs of :func:`legs`, shuffled."""
    rows = []
    for leg in legs().itertuples(index=False):
        statuses = ["initiated", "ringing"]
        if leg.status == "completed":
            statuses.append("in-progress")
        statuses.append(leg.status)
        for seq, status in enumerate(statuses):
            t = leg.start_time if status != leg.status else leg.end_time
            if status == "in-progress":
                t = leg.start_time + pd.Timedelta(seconds=2)
            if status == "ringing":
                t = leg.start_time + pd.Timedelta(seconds=1)
            rows.append(
                {
                    "call_sid": leg.call_sid,
                    "parent_call_sid": leg.parent_call_sid,
                    "callback_source": "call-progress-events",
                    "sequence_number": seq,
                    "timestamp": t,
                    "call_status": status,
                    "direction": leg.direction,
                    "from_address": "+15550100",
                    "to_address": "client:alice" if leg.call_sid == "CAchild2" else "+15550199",
                    "call_duration_s": leg.duration_s if status == leg.status else None,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=4).reset_index(drop=True)


def build_store(path: str) -> None:
    """A DuckDB store holding one call tree, SDK data on CAchild2, and probe runs."""
    import voiceinsights as vi

    store = vi.open(path)
    try:
        store.write_rows("call_events", tree_events(), source="synth")
        t_answer = T0 + pd.Timedelta(seconds=24 + 2)
        s = samples("CAchild2", seconds=80).assign(identity="alice")
        s["timestamp"] = t_answer + pd.to_timedelta(range(len(s)), unit="s")
        store.write_rows("samples", s, source="synth")
        w = warnings("CAchild2", seconds=80)
        w["timestamp"] = w["timestamp"] + (t_answer - T0 - pd.Timedelta(seconds=5))
        store.write_rows("warnings", w.assign(identity="alice"), source="synth")
        store.write_rows(
            "feedback",
            [{"call_sid": "CAchild2", "identity": "alice", "score": 2, "issue": "choppy-audio"}],
            source="synth",
        )
        runs = probe_runs()
        store.write_rows("probe_runs", runs, source="synth")
        store.write_rows("probe_samples", probe_samples("run-000"), source="synth")
    finally:
        store.close()
