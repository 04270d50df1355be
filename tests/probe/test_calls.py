"""Real test calls on 127.0.0.1 through the echo server (a separate process)."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

import voiceinsights.probe as probe
from voiceinsights.analysis import mos as sdk_mos
from voiceinsights.analysis import quality

from ..conftest import require_tool
from .conftest import run_cli

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def opus_report(echo_url: str, tmp_path_factory: pytest.TempPathFactory) -> probe.ProbeReport:
    db = tmp_path_factory.mktemp("calls") / "probe.duckdb"
    report = probe.run(echo_url, duration_s=5, label="unit", db=db)
    report._db = db  # type: ignore[attr-defined]
    return report


def test_report_has_preflight_fields(opus_report: probe.ProbeReport) -> None:
    r = opus_report
    assert r.ok
    assert r.status == "ok"
    assert r.failed_phase is None
    doc = json.loads(r.to_json())
    for key in (
        "callQuality",
        "iceCandidateStats",
        "selectedIceCandidatePairStats",
        "isTurnRequired",
        "networkTiming",
        "samples",
        "stats",
        "testTiming",
        "totals",
        "warnings",
    ):
        assert key in doc
    for phase in ("signaling", "ice", "dtls", "peerConnection", "firstMedia"):
        span = doc["networkTiming"][phase]
        assert span["end"] >= span["start"]
        assert span["duration"] == pytest.approx(span["end"] - span["start"], abs=0.01)
    assert doc["testTiming"]["duration"] >= 5000
    # peerConnection covers signaling, ICE and DTLS.
    nt = r.network_timing
    assert nt["peerConnection"]["duration"] >= nt["ice"]["duration"] + nt["dtls"]["duration"]
    assert r.first_media_ms is not None
    assert r.first_media_ms >= nt["peerConnection"]["duration"]


def test_loopback_candidates_and_pair(opus_report: probe.ProbeReport) -> None:
    r = opus_report
    assert {c["address"] for c in r.ice_candidates} == {"127.0.0.1"}
    assert {c["isRemote"] for c in r.ice_candidates} == {True, False}
    assert r.selected_pair is not None
    assert r.selected_pair["localCandidate"]["address"] == "127.0.0.1"
    assert r.selected_pair["remoteCandidate"]["address"] == "127.0.0.1"
    assert r.is_turn_required is False


def test_samples_follow_the_sdk(opus_report: probe.ProbeReport) -> None:
    r = opus_report
    samples = r.samples
    assert 4 <= len(samples) <= 7
    assert samples[0]["mos"] is None  # the SDK's first sample has no MOS
    for prev, s in itertools.pairwise(samples):
        assert s["timestamp"] > prev["timestamp"]
        assert s["totals"]["packetsReceived"] == (
            prev["totals"]["packetsReceived"] + s["packetsReceived"]
        )
        # 20 ms frames: about 50 packets a second each way (loaded machine: wide margin)
        assert 25 <= s["packetsSent"] <= 75
        assert s["codecName"] == "opus"
        if s["rtt"] is not None:
            assert s["mos"] == pytest.approx(
                sdk_mos.twilio_sdk(s["rtt"], s["jitter"], s["packetsLostFraction"])
            )
    stats = r.stats
    mos_values = [s["mos"] for s in samples if s["mos"] is not None]
    assert stats["mos"]["average"] == pytest.approx(sum(mos_values) / len(mos_values))
    assert stats["mos"]["min"] == min(mos_values)
    assert r.call_quality == quality.call_quality(stats["mos"]["average"])
    # On loopback: no loss, RTT of a few ms, an excellent call.
    assert r.totals["packetsLost"] == 0
    assert r.rfc3550_loss_pct == 0.0
    assert r.inbound_packets_lost == 0
    assert stats["rtt"]["max"] < 50
    assert r.call_quality in {"excellent", "great"}


def test_our_figures(opus_report: probe.ProbeReport) -> None:
    r = opus_report
    assert r.arrivals is not None
    assert len(r.arrivals) >= 200
    assert r.rfc3550_jitter_ms is not None
    assert 0 <= r.rfc3550_jitter_ms < 20
    assert r.audio_rtt_ms is not None
    assert 0 <= r.audio_rtt_ms < 150
    assert r.effective_mos is not None
    assert 1 <= r.effective_mos <= 4.5
    assert r.effective_loss_pct is not None
    assert r.effective_loss_pct >= r.rfc3550_loss_pct
    assert r.outbound_packets_lost == 0


def test_run_is_stored(opus_report: probe.ProbeReport) -> None:
    con = duckdb.connect(str(opus_report._db), read_only=True)  # type: ignore[attr-defined]
    try:
        run = con.execute(
            "select run_id, source, status, label, codec_name, call_quality, mos_avg, "
            "samples, first_media_ms, is_turn_required, report::VARCHAR from probe_runs, "
            "(select count(*) as samples from probe_samples)"
        ).fetchall()
    finally:
        con.close()
    assert len(run) == 1
    (run_id, source, status, label, codec, cq, mos_avg, n, first_media, turn, doc) = run[0]
    assert run_id == opus_report.run_id
    assert len(run_id) == 36
    assert (source, status, label, codec) == ("voiceinsights-probe", "ok", "unit", "opus")
    assert cq == opus_report.call_quality
    assert mos_avg == pytest.approx(opus_report.mos_avg)
    assert n == len(opus_report.samples)
    assert first_media == pytest.approx(opus_report.first_media_ms)
    assert turn is False
    assert json.loads(doc)["voiceinsights"]["runId"] == run_id


def test_text_html_and_repr(opus_report: probe.ProbeReport) -> None:
    text = str(opus_report)
    assert "call quality" in text
    assert opus_report.target in text
    assert "<table" in opus_report._repr_html_()
    assert repr(opus_report).startswith("<ProbeReport http://127.0.0.1:")
    frame = opus_report.samples_frame()
    assert list(frame.columns)[:3] == ["run_id", "timestamp", "audio_input_level"]
    assert frame["jitter_ms"].notna().all()
    assert not math.isnan(float(frame["audio_input_level"].max()))


def test_cli_probe_pcmu_json_and_fail_below(echo_url: str, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    done = run_cli(
        "probe",
        echo_url + "/whip",
        "--duration",
        "4",
        "--codec",
        "pcmu",
        "--json",
        "--db",
        str(db),
        "--fail-below",
        "4.5",
        "--label",
        "cli",
    )
    # A MOS of 4.5 is out of reach of the SDK formula (at most 4.433): exit code 1.
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["voiceinsights"]["status"] == "ok"
    assert doc["voiceinsights"]["codecName"] == "pcmu"
    assert {s["codecName"] for s in doc["samples"]} == {"pcmu"}
    # Jitter from PCMU clock units (8 kHz) stays in ms on loopback.
    assert all(s["jitter"] < 30 for s in doc["samples"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select status, label, codec_name from probe_runs").fetchall()
    finally:
        con.close()
    assert rows == [("ok", "cli", "pcmu")]


def test_concurrent_probes_share_one_echo_server(echo_url: str) -> None:
    async def three() -> list[probe.ProbeReport]:
        return list(
            await asyncio.gather(*[probe.run_async(echo_url, duration_s=3) for _ in range(3)])
        )

    reports = asyncio.run(three())
    assert all(r.ok for r in reports)
    assert len({r.run_id for r in reports}) == 3
    # Each probe got its own echo: its own audio came back, not another probe's.
    assert all(r.audio_rtt_ms is not None for r in reports)
    assert all(r.inbound_packets_lost == 0 for r in reports)
    health = httpx.get(echo_url + "/health", timeout=10).json()
    assert health["sessions"] == 0  # every session was deleted


def test_relay_only_through_a_local_turn_server(echo_url: str, tmp_path: Path) -> None:
    turnserver = require_tool("turnserver")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    turn = subprocess.Popen(
        [
            turnserver,
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--lt-cred-mech",
            "--user=test:test",
            "--realm=test",
            "--no-tls",
            "--no-dtls",
            "--allow-loopback-peers",
            "--no-cli",
            f"--userdb={tmp_path / 'turn.db'}",
            "--min-port=49160",
            "--max-port=49400",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)  # coturn binds its socket
        report = probe.run(
            echo_url,
            duration_s=3,
            relay_only=True,
            ice_servers=[f"turn:test:test@127.0.0.1:{port}"],
        )
    finally:
        turn.terminate()
        turn.wait(10)
    assert report.is_turn_required is True
    assert report.selected_pair is not None
    assert report.selected_pair["localCandidate"]["candidateType"] == "relay"
    local = [c for c in report.ice_candidates if not c["isRemote"]]
    assert {c["candidateType"] for c in local} == {"relay"}  # relay-only: no host candidate
    assert {c["address"] for c in report.ice_candidates} == {"127.0.0.1"}
