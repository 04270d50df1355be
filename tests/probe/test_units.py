"""Pure parts of the probe: intervals, schedules, loss model, classification, SDP, stats."""

from __future__ import annotations

import asyncio
import random

import numpy as np
import pytest

from voiceinsights._exceptions import ConfigError, ProbeError
from voiceinsights.analysis import mos as sdk_mos
from voiceinsights.probe._analyse import candidates_from_sdp
from voiceinsights.probe._client import check_answer, endpoint_for
from voiceinsights.probe._echo import OfferError, check_offer, clock_rates_from_sdp
from voiceinsights.probe._schedule import parse_interval, run_every, slot_times
from voiceinsights.probe._signal import (
    FRAME_S,
    SAMPLE_RATE_HZ,
    ReceivedAudio,
    audio_level,
    audio_round_trip_ms,
    speech_like,
)
from voiceinsights.probe._stats import RawStats, sample_from_stats
from voiceinsights.probe.relay import Impairment, LossModel, classify, rewrite_candidates

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 40000 UDP/TLS/RTP/SAVPF 96 0\r\nc=IN IP4 127.0.0.1\r\n"
    "a=rtpmap:96 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
    "a=candidate:2 1 udp 1694498815 203.0.113.7 40001 typ srflx raddr 127.0.0.1 rport 40000\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:secretsecretsecretsecret\r\n"
    "a=fingerprint:sha-256 AA:BB\r\n"
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        ("90", 90.0),
        ("2min", 120.0),
        ("1d", 86400.0),
    ],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "-5m", "0s", "m5", "five minutes"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval(text)


def test_slot_times() -> None:
    assert slot_times(100.0, 10.0, 100.0) == (0, 100.0)
    assert slot_times(100.0, 10.0, 100.5) == (1, 110.0)
    assert slot_times(100.0, 10.0, 125.0) == (3, 130.0)


class FakeClock:
    """A monotonic clock that only moves when the schedule sleeps or a job works."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_schedule_does_not_drift_when_runs_take_time() -> None:
    clock = FakeClock()
    durations = iter([0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.95, 0.4])

    async def job() -> float:
        clock.now += next(durations)
        return clock.now

    result = asyncio.run(run_every(1.0, job, count=8, clock=clock.time, sleep=clock.sleep))
    # Run k starts exactly at start + k s, whatever the runs before it took.
    assert result.started_at == pytest.approx([1000.0 + k for k in range(8)], abs=1e-9)
    assert result.skipped == 0


def test_schedule_skips_overrun_slots_and_survives_errors() -> None:
    clock = FakeClock()
    calls = {"n": 0}

    async def job() -> int:
        calls["n"] += 1
        n = calls["n"]
        if n == 2:
            clock.now += 2.5  # overruns slots 2 and 3
        if n == 3:
            raise RuntimeError("transient")
        return n

    errors: list[BaseException] = []
    result = asyncio.run(
        run_every(1.0, job, count=5, clock=clock.time, sleep=clock.sleep, on_error=errors.append)
    )
    assert result.slots == [0, 1, 4, 5, 6]
    assert result.skipped == 2
    assert result.results == [1, 2, 4, 5]
    assert [str(e) for e in errors] == ["transient"]
    assert result.started_at == pytest.approx([1000.0, 1001.0, 1004.0, 1005.0, 1006.0])


def test_schedule_with_the_real_loop_clock_keeps_its_period() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()

        async def job() -> None:
            await asyncio.sleep(0.05)

        result = await run_every(0.2, job, count=5)
        return [t - result.started_at[0] for t in result.started_at] + [loop.time()]

    offsets = asyncio.run(main())[:-1]
    # Never early, and each start is scheduled from the first one, so lateness does not
    # accumulate: the last start is as close to its slot as any other (loaded machine:
    # a generous bound on a single late wake-up).
    for k, t in enumerate(offsets):
        assert t >= 0.2 * k - 0.005
    assert offsets[-1] - 0.8 < 0.3


@pytest.mark.parametrize(("loss", "burst"), [(5.0, 1.0), (10.0, 1.0), (5.0, 4.0), (20.0, 3.0)])
def test_loss_model_rate_and_burst_length(loss: float, burst: float) -> None:
    model = LossModel(loss, burst, random.Random(42))
    draws = np.array([model.lost() for _ in range(200_000)])
    assert draws.mean() * 100 == pytest.approx(loss, rel=0.05)
    # Mean run length of consecutive losses.
    edges = np.diff(np.concatenate(([0], draws.astype(int), [0])))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    expected_run = burst if burst > 1 else 1 / (1 - loss / 100)
    assert runs.mean() == pytest.approx(expected_run, rel=0.05)


def test_loss_model_is_seeded() -> None:
    a = LossModel(10, 2, random.Random(7))
    b = LossModel(10, 2, random.Random(7))
    assert [a.lost() for _ in range(500)] == [b.lost() for _ in range(500)]


def test_impairment_validation() -> None:
    for bad in ({"delay_ms": -1}, {"loss_pct": 100}, {"burst": 0.5}, {"directions": ("up",)}):
        with pytest.raises(ConfigError):
            Impairment(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        (0, 1, "stun"),
        (1, 1, "stun"),
        (3, 0, "stun"),
        (20, 0, "dtls"),
        (22, 254, "dtls"),
        (63, 0, "dtls"),
        (128, 111, "rtp"),
        (0x80, 0x80 | 111, "rtp"),
        (128, 200, "rtcp"),
        (129, 201, "rtcp"),
        (191, 223, "rtcp"),
        (64, 0, "other"),
        (200, 0, "other"),
    ],
)
def test_classify_rfc7983(first: int, second: int, kind: str) -> None:
    assert classify(bytes([first, second]) + bytes(14)) == kind


def test_rewrite_candidates_keeps_one_udp_candidate() -> None:
    sdp, original = rewrite_candidates(OFFER, "127.0.0.1", 5555)
    assert original == ("127.0.0.1", 40000)
    cands = candidates_from_sdp(sdp, remote=True)
    assert [(c["address"], c["port"], c["candidateType"]) for c in cands] == [
        ("127.0.0.1", 5555, "host")
    ]
    assert "m=audio 5555 " in sdp
    assert "203.0.113.7" not in sdp
    assert sdp.endswith("\r\n")


def test_offer_and_answer_checks() -> None:
    check_offer(OFFER)
    check_answer(OFFER)
    assert clock_rates_from_sdp(OFFER) == {96: 48000, 0: 8000}
    for bad in (
        "",
        "hello",
        OFFER.replace("m=audio", "m=video"),
        OFFER.replace("a=fingerprint", "a=fp"),
    ):
        with pytest.raises(OfferError):
            check_offer(bad)
        with pytest.raises(ProbeError) as info:
            check_answer(bad)
        assert info.value.phase == "signaling"


def test_endpoint_for() -> None:
    assert endpoint_for("http://h:1") == ("http://h:1/offer", "json")
    assert endpoint_for("http://h:1/") == ("http://h:1/offer", "json")
    assert endpoint_for("http://h:1/echo/whip") == ("http://h:1/echo/whip", "whip")
    assert endpoint_for("https://h/x/offer") == ("https://h/x/offer", "json")
    with pytest.raises(ProbeError):
        endpoint_for("ftp://h/")
    with pytest.raises(ProbeError):
        endpoint_for("127.0.0.1:8080")


def test_first_sample_units_and_null_mos() -> None:
    raw = RawStats(
        packets_received=50,
        packets_lost=0,
        jitter_units=480,
        packets_sent=50,
        bytes_sent=5000,
        rtt_s=None,
    )
    s = sample_from_stats(
        raw, None, clock_rate=48000, timestamp_ms=1e12, bytes_received_total=6000, codec_name="opus"
    )
    assert s["jitter"] == pytest.approx(10.0)  # 480 units at 48 kHz
    assert s["rtt"] is None
    assert s["mos"] is None  # the SDK's first sample has no MOS
    assert s["packetsReceived"] == 50
    assert s["totals"]["packetsLostFraction"] == 0.0


def test_sample_deltas_rtt_carry_forward_and_sdk_mos() -> None:
    first = sample_from_stats(
        RawStats(packets_received=50, jitter_units=80, packets_sent=50, bytes_sent=5000, rtt_s=0.1),
        None,
        clock_rate=8000,
        timestamp_ms=1e12,
        bytes_received_total=6000,
        codec_name="pcmu",
    )
    assert first["jitter"] == pytest.approx(10.0)  # 80 units at 8 kHz
    assert first["rtt"] == pytest.approx(100.0)
    second = sample_from_stats(
        RawStats(
            packets_received=97,
            packets_lost=3,
            jitter_units=80,
            packets_sent=100,
            bytes_sent=10000,
            rtt_s=None,
        ),
        first,
        clock_rate=8000,
        timestamp_ms=1e12 + 1000,
        bytes_received_total=11000,
        codec_name="pcmu",
    )
    assert second["packetsReceived"] == 47
    assert second["packetsLost"] == 3
    assert second["packetsLostFraction"] == pytest.approx(6.0)
    assert second["bytesReceived"] == 5000
    assert second["rtt"] == pytest.approx(100.0)  # carried forward
    # Published spot value of the SDK formula: (100 ms, 10 ms, 3 %) -> 4.166.
    assert sdk_mos.twilio_sdk(100, 10, 3) == pytest.approx(4.166, abs=5e-4)
    expected = sdk_mos.twilio_sdk(100.0, 10.0, 6.0)
    assert second["mos"] == pytest.approx(expected)
    assert second["totals"]["packetsLostFraction"] == pytest.approx(3.0)


def test_totals_loss_is_100_before_any_packet() -> None:
    s = sample_from_stats(
        RawStats(),
        None,
        clock_rate=48000,
        timestamp_ms=1e12,
        bytes_received_total=0,
        codec_name="opus",
    )
    assert s["totals"]["packetsLostFraction"] == 100.0
    assert s["packetsLostFraction"] == 0.0


def test_speech_like_is_deterministic_and_not_periodic() -> None:
    a = speech_like(3.0, seed=1)
    assert np.array_equal(a, speech_like(3.0, seed=1))
    assert not np.array_equal(a, speech_like(3.0, seed=2))
    assert a.dtype == np.int16
    assert a.size == 3 * SAMPLE_RATE_HZ
    assert 8000 < int(np.abs(a).max()) <= 16384
    # pauses and syllables: a good share of 20 ms frames are near-silent, others loud
    frames = a[: a.size // 960 * 960].reshape(-1, 960)
    levels = np.array([audio_level(f) for f in frames])
    assert (levels < 50).mean() > 0.15
    assert (levels > 1000).mean() > 0.3


@pytest.mark.parametrize("lag_ms", [0, 37, 180, 611])
def test_audio_round_trip_finds_a_known_lag(lag_ms: int) -> None:
    signal = speech_like(4.0, seed=3)
    n = int(SAMPLE_RATE_HZ * FRAME_S)
    t0 = 1_700_000_000.0
    sent = [t0 + k * FRAME_S for k in range(signal.size // n)]
    # The echo: the same frames, arriving lag_ms later, decoded at 8 kHz (PCMU path).
    received = ReceivedAudio(sample_rate_hz=8000)
    for k, t in enumerate(sent):
        block = signal[k * n : (k + 1) * n][::6].astype(np.int16)
        received.received_at_s.append(t + lag_ms / 1000.0)
        received.frames.append(block)
    assert audio_round_trip_ms(signal, sent, received) == pytest.approx(lag_ms, abs=1)


def test_audio_round_trip_gives_none_for_unrelated_audio() -> None:
    signal = speech_like(4.0, seed=3)
    other = speech_like(4.0, seed=99)
    n = int(SAMPLE_RATE_HZ * FRAME_S)
    sent = [k * FRAME_S for k in range(signal.size // n)]
    received = ReceivedAudio(
        received_at_s=[t + 0.1 for t in sent],
        frames=[other[k * n : (k + 1) * n] for k in range(len(sent))],
    )
    silent = ReceivedAudio(
        received_at_s=[t + 0.1 for t in sent], frames=[np.zeros(n, np.int16)] * len(sent)
    )
    assert audio_round_trip_ms(signal, sent, silent) is None
    lag = audio_round_trip_ms(signal, sent, received)
    assert lag is None or abs(lag - 100) > 5  # no false lock on the real lag
