"""RFC 3550 jitter and loss: hand-worked traces and parity with Wireshark."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analysis._pcap import rtp_packet, udp_frame, write_pcap
from tests.conftest import require_tool
from voiceinsights.analysis import jitter, jitterbuffer, loss


def test_jitter_hand_trace_with_timestamp_wrap() -> None:
    # PCMU, 20 ms packets (160 clock units); timestamps cross 2**32 after the 2nd packet.
    ts = [(2**32 - 320 + 160 * i) % 2**32 for i in range(5)]
    arrival = [10.000, 10.020, 10.045, 10.060, 10.090]
    # By hand, in clock units (8 per ms):
    # p1: D = 160 - 160 = 0            J = 0
    # p2: D = 200 - 160 = 40           J = 0 + (40 - 0)/16 = 2.5
    # p3: D = 120 - 160 = -40          J = 2.5 + (40 - 2.5)/16 = 4.84375
    # p4: D = 240 - 160 = 80           J = 4.84375 + (80 - 4.84375)/16 = 9.541015625
    expected_units = [0, 0, 2.5, 4.84375, 9.541015625]
    got = jitter.rfc3550(arrival, ts, 8000)
    assert got == pytest.approx([u / 8 for u in expected_units], abs=1e-9)


def test_jitter_constant_transit_is_zero_and_series_index_kept() -> None:
    arrival = pd.Series(5 + np.arange(100) * 0.02 + 0.3, index=np.arange(100) + 1000)
    ts = (np.arange(100) * 960 + 2**32 - 5000) % 2**32  # opus, wraps
    got = jitter.rfc3550(arrival, ts, 48000)
    assert isinstance(got, pd.Series)
    assert got.index[0] == 1000
    assert np.abs(got.to_numpy()).max() < 1e-9


def test_jitter_converges_to_mean_abs_d() -> None:
    # Alternating +-10 ms deviations: |D| is 20 ms each time after the first, J -> 20 ms.
    n = 400
    arrival = np.arange(n) * 0.02 + np.where(np.arange(n) % 2 == 0, 0.0, 0.010)
    got = jitter.rfc3550(arrival, np.arange(n) * 160, 8000)
    assert got[-1] == pytest.approx(10.0, rel=1e-6)


def test_jitter_bad_input() -> None:
    with pytest.raises(ValueError, match="clock_rate"):
        jitter.rfc3550([0, 1], [0, 160], 0)
    with pytest.raises(ValueError, match="packets"):
        jitter.rfc3550([0, 1], [0], 8000)


def test_loss_wrap_duplicates_reordering() -> None:
    seq = [65533, 65534, 65535, 0, 2, 1, 1, 3, 6]
    r = loss.from_sequence(seq)
    # 65533..6 (extended) is 10 numbers; distinct received 8 (1 duplicated); lost 4 and 5.
    assert (r.expected, r.received, r.lost) == (10, 8, 2)
    assert r.duplicates == 1
    assert r.reordered == 2  # 1 after 2, and its duplicate
    assert r.cycles == 1
    assert r.loss_pct == pytest.approx(20.0)


def test_loss_never_negative() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        base = int(rng.integers(0, 65536))
        seq = (base + rng.integers(0, 300, size=int(rng.integers(1, 400)))) % 65536
        r = loss.from_sequence(seq)
        assert r.lost >= 0
        assert r.received <= r.expected
    assert loss.from_sequence([5, 5, 5]).lost == 0
    assert loss.from_sequence([]).expected == 0


def test_loss_bad_input() -> None:
    with pytest.raises(ValueError, match=r"0\.\.65535"):
        loss.from_sequence([1, 70000])
    assert loss.interval_loss_pct([1, 0, -3], [99, 0, 10]) == pytest.approx(
        [1.0, np.nan, 0.0], nan_ok=True
    )


def _stream(n: int, drop: set[int], spread_s: float, seed: int) -> tuple[list, list, list, list]:
    rng = np.random.default_rng(seed)
    arrival, ts, seq, frames = [], [], [], []
    for i in range(n):
        if i in drop:
            continue
        t = 1_700_000_000 + i * 0.02 + float(rng.uniform(0, spread_s))
        t = round(t * 1e6) / 1e6  # pcap resolution
        s, stamp = (65300 + i) % 65536, (4294960000 + i * 160) % 2**32
        arrival.append(t - 1_700_000_000)
        ts.append(stamp)
        seq.append(s)
        frames.append(
            (t, udp_frame(rtp_packet(s, stamp, 0xCAFE), ("127.0.0.1", 40000), ("127.0.0.1", 40002)))
        )
    return arrival, ts, seq, frames


def test_parity_with_wireshark(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    drop = {10, 11, 200, 201, 202, 450}
    arrival, ts, seq, frames = _stream(600, drop, spread_s=0.015, seed=3)
    pcap = tmp_path / "rtp.pcap"
    write_pcap(pcap, frames)
    out = subprocess.run(
        [tshark, "-r", str(pcap), "-q", "-z", "rtp,streams", "-o", "rtp.heuristic_rtp:TRUE"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    line = next(ln for ln in out.splitlines() if "0x0000cafe" in ln.lower())
    m = re.search(
        r"(\d+)\s+(\d+) \(([\d.]+)%\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+"
        r"([\d.]+)\s+([\d.]+)\s+([\d.]+)",
        line,
    )
    assert m, line
    pkts, lost = int(m.group(1)), int(m.group(2))
    ws_mean_jitter, ws_max_jitter = float(m.group(8)), float(m.group(9))
    j = jitter.rfc3550(arrival, ts, 8000)
    r = loss.from_sequence(seq)
    print(
        f"wireshark: pkts={pkts} lost={lost} mean={ws_mean_jitter} max={ws_max_jitter}; "
        f"ours: lost={r.lost} mean={j[1:].mean():.3f} max={j.max():.3f}"
    )
    assert r.cycles == 1  # the stream crosses the 16-bit wrap (and the 32-bit one)
    assert pkts == r.received
    assert lost == r.lost == len(drop)
    assert j.max() == pytest.approx(ws_max_jitter, abs=0.0015)
    # Wireshark averages J over the packets after the first.
    assert j[1:].mean() == pytest.approx(ws_mean_jitter, abs=0.0015)


def test_jitterbuffer_fixed_by_hand() -> None:
    # 20 ms packets; transit 50 ms except packet 3 (+30 ms) and packet 6 (+70 ms).
    n = 10
    extra = np.zeros(n)
    extra[3], extra[6] = 0.030, 0.070
    arrival = np.arange(n) * 0.02 + 0.05 + extra
    ts = np.arange(n) * 160
    seq = np.arange(n)
    r40 = jitterbuffer.simulate(arrival, ts, 8000, 40, sequence=seq)
    assert r40.late_discarded == 1  # only the 70 ms one misses a 40 ms buffer
    assert list(np.flatnonzero(r40.late)) == [6]
    assert r40.effective_loss_pct == pytest.approx(10.0)
    # Played packets waited 40 ms, except packet 3 which waited 10 ms.
    assert r40.added_delay_ms == pytest.approx((8 * 40 + 10) / 9)
    r80 = jitterbuffer.simulate(arrival, ts, 8000, 80, sequence=seq)
    assert r80.late_discarded == 0
    r0 = jitterbuffer.simulate(arrival, ts, 8000, 0, sequence=seq)
    assert r0.late_discarded == 2


def test_jitterbuffer_network_loss_duplicates_and_mos() -> None:
    arrival = np.array([0.00, 0.02, 0.04, 0.041, 0.10, 0.12])
    ts = np.array([0, 160, 320, 320, 800, 960])
    seq = np.array([0, 1, 2, 2, 5, 6])
    r = jitterbuffer.simulate(
        arrival, ts, 8000, 60, sequence=seq, codec="g711-plc", one_way_delay_ms=100
    )
    assert (r.expected, r.network_lost, r.late_discarded) == (7, 2, 0)
    assert r.late.tolist() == [False, False, False, True, False, False]
    assert r.effective_loss_pct == pytest.approx(200 / 7)
    from voiceinsights.analysis import mos

    assert r.mos == pytest.approx(mos.emodel(100 + r.added_delay_ms, 200 / 7, "g711-plc"))


def test_jitterbuffer_adaptive_tradeoff() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    arrival = np.arange(n) * 0.02 + 0.05 + rng.exponential(0.012, n)
    order = np.argsort(arrival, kind="stable")
    args = (arrival[order], (np.arange(n) * 160)[order], 8000)
    kw = {"sequence": np.arange(n)[order]}
    small = jitterbuffer.simulate(*args, 10, **kw)
    big = jitterbuffer.simulate(*args, 200, **kw)
    ada = jitterbuffer.simulate(*args, "adaptive", **kw)
    # Adaptive sits between: far fewer late packets than 10 ms, far less delay than 200 ms.
    assert ada.late_discarded < small.late_discarded / 2
    assert ada.added_delay_ms < big.added_delay_ms / 2
    assert big.late_discarded == 0
    with pytest.raises(ValueError, match="buffer_ms"):
        jitterbuffer.simulate(*args, -5)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 0.2), st.integers(-2000, 4000)), min_size=1, max_size=60),
    st.integers(0, 2**32 - 1),
    st.sampled_from([8000, 16000, 48000]),
)
def test_jitter_matches_a_plain_loop(steps: list[tuple[float, int]], ts0: int, clock: int) -> None:
    """Vectorised J against the RFC 3550 A.8 recursion written as a loop."""
    arrival, ts = [], []
    t, s = 100.0, ts0
    for dt, dts in steps:
        t += dt
        s = (s + dts) % 2**32
        arrival.append(t)
        ts.append(s)
    got = jitter.rfc3550(arrival, ts, clock)
    j, want = 0.0, [0.0]
    for i in range(1, len(ts)):
        d_ts = (ts[i] - ts[i - 1]) % 2**32
        if d_ts >= 2**31:
            d_ts -= 2**32
        d = (arrival[i] - arrival[i - 1]) * clock - d_ts
        j += (abs(d) - j) / 16
        want.append(j / clock * 1000)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 65535), st.lists(st.integers(-50, 300), min_size=1, max_size=200))
def test_loss_matches_brute_force(base: int, offsets: list[int]) -> None:
    """Sequence numbers within +-32767 of each other: loss equals the gaps in the set."""
    seq = [(base + o) % 65536 for o in offsets]
    r = loss.from_sequence(seq)
    distinct = set(offsets)
    assert r.received == len(distinct)
    assert r.expected == max(offsets) - min(offsets) + 1
    assert r.lost == r.expected - len(distinct) >= 0
    assert r.duplicates == len(offsets) - len(distinct)
