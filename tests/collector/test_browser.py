"""forwarder.js in real headless Chromium against a running collector.

The page (served from another origin, so CORS is exercised) attaches the forwarder to a
stand-in Call that emits the Voice SDK's exact event shapes. Checked: batches land as rows
with the token's identity, feedback and PreflightTest reports are forwarded, a failing
collector is retried with backoff, and events still queued when the page goes away are
delivered by navigator.sendBeacon.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.collector._cdp import Chromium
from tests.collector._server import INGEST_SECRET, CollectorProcess, free_port, wait_rows
from tests.conftest import require_tool
from voiceinsights.collector import issue_ingest_token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<script src="%(collector)s/sdk/forwarder.js"></script></head>
<body><script>
// A stand-in for a Twilio Voice SDK Call: an EventEmitter with parameters and postFeedback.
class FakeCall {
  constructor(sid) { this.parameters = {CallSid: sid}; this.listeners = {}; this.fb = []; }
  on(ev, fn) { (this.listeners[ev] = this.listeners[ev] || []).push(fn); return this; }
  removeListener(ev, fn) {
    this.listeners[ev] = (this.listeners[ev] || []).filter((f) => f !== fn); return this;
  }
  emit(ev, ...args) { (this.listeners[ev] || []).forEach((f) => f(...args)); }
  postFeedback(score, issue) { this.fb.push([score, issue]); return Promise.resolve(); }
}
// The RTCSample the SDK emits every second.
function sdkSample(i) {
  return {
    audioInputLevel: 1000 + i, audioOutputLevel: 2000 + i, bytesReceived: 8000,
    bytesSent: 8100, codecName: "opus", jitter: 3 + i, mos: i === 0 ? null : 4.3,
    packetsLost: i %% 2, packetsLostFraction: (i %% 2) * 2, packetsReceived: 50,
    packetsSent: 50, rtt: 40 + i, timestamp: 1763719200000 + i * 1000,
    totals: {bytesReceived: 8000 * (i + 1), bytesSent: 8100 * (i + 1),
             packetsLost: Math.floor((i + 1) / 2), packetsLostFraction: 1.0,
             packetsReceived: 50 * (i + 1), packetsSent: 50 * (i + 1)},
  };
}
const TOKEN = new URLSearchParams(location.search).get("token");
const COLLECTOR = "%(collector)s";
window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
window.drain = async (handle, want) => {
  for (let i = 0; i < 200; i++) {
    await handle.flush();
    const s = handle.stats();
    if (s.sent >= want && s.queued === 0) return s;
    await sleep(100);
  }
  return handle.stats();
};
</script></body></html>
"""


class _PageServer(http.server.ThreadingHTTPServer):
    collector = ""
    fail_first = 2
    flaky_posts: list[int]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _PageServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = (PAGE % {"collector": self.server.collector}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        # /flaky/sdk/events: 503 for the first requests, then a pass-through proxy.
        data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if len(self.server.flaky_posts) < self.server.fail_first:
            self.server.flaky_posts.append(503)
            status, body = 503, b'{"error": "try later"}'
        else:
            r = httpx.post(
                self.server.collector + "/sdk/events",
                content=data,
                headers={
                    "Content-Type": self.headers["Content-Type"],
                    "Authorization": self.headers.get("Authorization", ""),
                },
            )
            self.server.flaky_posts.append(r.status_code)
            status, body = r.status_code, r.content
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[CollectorProcess, _PageServer, Chromium, str]]:
    binary = require_tool("chromium")
    page_port = free_port()
    origin = f"http://127.0.0.1:{page_port}"
    collector = CollectorProcess(tmp_path / "data", "--allow-origin", origin).start()
    pages = _PageServer(("127.0.0.1", page_port), _Handler)
    pages.collector = collector.base
    pages.flaky_posts = []
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    browser = Chromium(binary, tmp_path / "profile")
    token = issue_ingest_token(INGEST_SECRET, "browser-user")
    try:
        browser.navigate(f"{origin}/page.html?token={token}")
        yield collector, pages, browser, origin
    finally:
        browser.close()
        pages.shutdown()
        pages.server_close()
        assert collector.stop()


def test_forwarder_batches_feedback_and_preflight(setup: tuple) -> None:  # type: ignore[type-arg]
    collector, _pages, browser, _origin = setup
    result = browser.evaluate("""(async () => {
      const call = new FakeCall("CAbrowser01");
      const h = VoiceInsights.attach(call, {url: COLLECTOR + "/sdk/events", token: TOKEN,
                                            intervalMs: 300, maxBatch: 5});
      for (let i = 0; i < 12; i++) call.emit("sample", sdkSample(i));
      call.emit("warning", "high-rtt", {name: "rtt", threshold: {name: "max", value: 400},
                                         values: [410, 420, 450], samples: [sdkSample(11)]});
      call.emit("warning-cleared", "high-rtt");
      await call.postFeedback(3, "echo");
      const pre = new FakeCall(null);
      const p = VoiceInsights.attachPreflight(pre, {url: COLLECTOR + "/sdk/events",
                                                    token: TOKEN});
      pre.emit("completed", {callSid: "CApreflight1", callQuality: "excellent",
        edge: "roaming", selectedEdge: "ashburn", isTurnRequired: false,
        networkTiming: {signaling: {start: 0, end: 120, duration: 120},
                        ice: {start: 120, end: 180, duration: 60},
                        dtls: {start: 180, end: 240, duration: 60},
                        peerConnection: {start: 120, end: 240, duration: 120}},
        samples: [sdkSample(1), sdkSample(2)],
        stats: {jitter: {average: 4, max: 5, min: 3}, mos: {average: 4.3, max: 4.4, min: 4.2},
                rtt: {average: 41, max: 42, min: 40}},
        testTiming: {start: 1763719200000, end: 1763719210000, duration: 10000},
        totals: sdkSample(2).totals, warnings: [], iceCandidateStats: []});
      const s = await drain(h, 15);
      const sp = await drain(p, 1);
      return {stats: s, pre: sp, fb: call.fb};
    })()""")
    assert result["stats"]["sent"] == 15
    assert result["stats"]["dropped"] == 0
    assert result["pre"]["sent"] == 1
    assert result["fb"] == [[3, "echo"]]  # the SDK's own postFeedback still ran
    samples = wait_rows(collector.parquet_dir, "samples", 12)
    mine = samples[samples["call_sid"] == "CAbrowser01"].sort_values("timestamp")
    assert len(mine) == 12
    assert set(mine["identity"]) == {"browser-user"}
    assert mine["jitter_ms"].tolist() == [3.0 + i for i in range(12)]
    assert mine["mos"].isna().tolist() == [True] + [False] * 11
    warnings = wait_rows(collector.parquet_dir, "warnings", 2)
    assert sorted(warnings["event"]) == ["cleared", "raised"]
    assert set(warnings["name"]) == {"high-rtt"}
    feedback = wait_rows(collector.parquet_dir, "feedback", 1)
    assert (feedback.iloc[0]["score"], feedback.iloc[0]["issue"]) == (3, "echo")
    runs = wait_rows(collector.parquet_dir, "probe_runs", 1)
    assert runs.iloc[0]["run_id"] == "preflight:CApreflight1"
    assert runs.iloc[0]["rtt_avg_ms"] == 41


def test_forwarder_retries_after_failures(setup: tuple) -> None:  # type: ignore[type-arg]
    collector, pages, browser, _origin = setup
    result = browser.evaluate("""(async () => {
      const call = new FakeCall("CAretry0001");
      const errors = [];
      const h = VoiceInsights.attach(call, {url: location.origin + "/flaky/sdk/events",
        token: TOKEN, intervalMs: 100, maxBatch: 50, backoffMs: 100,
        onError: (e) => errors.push(e.status || String(e))});
      for (let i = 0; i < 4; i++) call.emit("sample", sdkSample(i));
      for (let i = 0; i < 100 && h.stats().sent < 4; i++) await sleep(100);
      return {stats: h.stats(), errors: errors};
    })()""")
    assert result["errors"] == [503, 503]
    assert result["stats"]["sent"] == 4
    assert pages.flaky_posts == [503, 503, 202]
    samples = wait_rows(collector.parquet_dir, "samples", 4)
    assert (samples["call_sid"] == "CAretry0001").sum() == 4


def test_forwarder_send_beacon_on_unload(setup: tuple) -> None:  # type: ignore[type-arg]
    collector, _pages, browser, _origin = setup
    queued = browser.evaluate("""(async () => {
      const call = new FakeCall("CAbeacon001");
      window.h = VoiceInsights.attach(call, {url: COLLECTOR + "/sdk/events", token: TOKEN,
                                             intervalMs: 600000, maxBatch: 1000});
      for (let i = 0; i < 6; i++) call.emit("sample", sdkSample(i));
      return window.h.stats().queued;
    })()""")
    assert queued == 6  # nothing sent yet: only the unload can deliver these
    browser.navigate("about:blank")
    deadline = time.monotonic() + 30
    samples = wait_rows(collector.parquet_dir, "samples", 6, timeout_s=30)
    while (samples["call_sid"] == "CAbeacon001").sum() < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
        samples = wait_rows(collector.parquet_dir, "samples", 6)
    mine = samples[samples["call_sid"] == "CAbeacon001"]
    assert len(mine) == 6
    assert set(mine["identity"]) == {"browser-user"}
