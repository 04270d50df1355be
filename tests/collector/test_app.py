"""The collector over real HTTP: a uvicorn subprocess on 127.0.0.1, rows read back with
``open_parquet`` exactly as a notebook would while it runs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.collector._server import (
    API_SECRET,
    AUTH_TOKEN,
    INGEST_SECRET,
    CollectorProcess,
    call_status,
    post_callback,
    read_table,
    sign_form,
    wait_rows,
)
from tests.collector.test_tokens import access_token
from voiceinsights.collector import body_sha256, compute_signature, issue_ingest_token

ORIGIN = "http://app.test:5173"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    data = tmp_path_factory.mktemp("collector") / "data"
    proc = CollectorProcess(
        data,
        "--allow-origin",
        ORIGIN,
        "--max-body-bytes",
        "65536",
        env={"TWILIO_API_SECRET": API_SECRET},
    ).start()
    yield proc
    assert proc.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def _sample(ts_ms: int) -> dict[str, object]:
    return {
        "audioInputLevel": 1200,
        "audioOutputLevel": 900,
        "bytesReceived": 8200,
        "bytesSent": 8100,
        "packetsReceived": 50,
        "packetsSent": 50,
        "packetsLost": 1,
        "packetsLostFraction": 2.0,
        "jitter": 4.5,
        "rtt": 42.0,
        "mos": 4.31,
        "codecName": "opus",
        "timestamp": ts_ms,
        "totals": {
            "bytesReceived": 82000,
            "bytesSent": 81000,
            "packetsLost": 3,
            "packetsLostFraction": 0.6,
            "packetsReceived": 500,
            "packetsSent": 500,
        },
    }


def test_signed_callbacks_land_in_parquet(server: CollectorProcess, client: httpx.Client) -> None:
    for seq, status in enumerate(["initiated", "ringing", "in-progress", "completed"]):
        r = post_callback(
            client, server.base, "/twilio/voice/status", call_status("CAland0001", seq, status)
        )
        assert r.status_code == 204, r.text
    conf = [
        ("ConferenceSid", "CFland0001"),
        ("FriendlyName", "room"),
        ("SequenceNumber", "1"),
        ("StatusCallbackEvent", "participant-join"),
        ("CallSid", "CAland0001"),
        ("Muted", "false"),
        ("Timestamp", "Sat, 21 Nov 2026 10:00:00 +0000"),
    ]
    assert post_callback(client, server.base, "/twilio/conference/status", conf).status_code == 204
    rec = [
        ("RecordingSid", "RElanded01"),
        ("RecordingStatus", "completed"),
        ("CallSid", "CAland0001"),
        ("RecordingDuration", "7"),
        ("RecordingChannels", "2"),
        ("RecordingStartTime", "Sat, 21 Nov 2026 10:00:00 +0000"),
    ]
    assert post_callback(client, server.base, "/twilio/recording/status", rec).status_code == 204
    df = wait_rows(server.parquet_dir, "call_events", 4, prefix="CAland0001")
    mine = df[df["call_sid"] == "CAland0001"].sort_values("sequence_number")
    assert list(mine["call_status"]) == ["initiated", "ringing", "in-progress", "completed"]
    assert set(mine["ingest_source"]) == {"collector:/twilio/voice/status"}
    assert mine["received_at"].notna().all()
    conf_df = wait_rows(server.parquet_dir, "conference_events", 1)
    assert conf_df.iloc[0]["event"] == "participant-join"
    assert not conf_df.iloc[0]["muted"]
    rec_df = wait_rows(server.parquet_dir, "recordings", 1)
    assert rec_df.iloc[0]["recording_duration_s"] == 7.0


def test_replays_and_retries_are_idempotent(server: CollectorProcess, client: httpx.Client) -> None:
    params = call_status("CAreplay001", 2)
    for _ in range(3):  # Twilio retry or an attacker replaying a captured request
        r = post_callback(client, server.base, "/twilio/voice/status", params)
        assert r.status_code == 204
    time.sleep(1.0)
    df = wait_rows(server.parquet_dir, "call_events", 1, prefix="CAreplay001")
    assert (df["call_sid"] == "CAreplay001").sum() == 1


def _rejections(client: httpx.Client, server: CollectorProcess, reason: str) -> float:
    text = client.get(server.base + "/metrics").text
    total = 0.0
    for line in text.splitlines():
        if (
            line.startswith("voiceinsights_collector_rejections_total{")
            and f'reason="{reason}"' in line
        ):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_forged_and_altered_requests_are_refused(
    server: CollectorProcess, client: httpx.Client
) -> None:
    before = _rejections(client, server, "signature")
    url = server.base + "/twilio/voice/status"
    params = call_status("CAforged001")
    # Signed with a token the collector does not know.
    r = post_callback(
        client,
        server.base,
        "/twilio/voice/status",
        params,
        token="attacker-token-0123456789abcdef0123",
    )
    assert r.status_code == 403
    assert "does not match" in r.json()["error"]
    # Signed correctly, then a field altered in transit.
    headers = sign_form(url, params)
    altered = [(k, "failed" if k == "CallStatus" else v) for k, v in params]
    r = client.post(url, content=urlencode(altered), headers=headers)
    assert r.status_code == 403
    # A valid signature for one endpoint replayed against another.
    headers = sign_form(server.base + "/twilio/recording/status", params)
    r = client.post(url, content=urlencode(params), headers=headers)
    assert r.status_code == 403
    # No signature at all.
    r = client.post(
        url,
        content=urlencode(params),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 403
    assert r.json() == {"error": "missing X-Twilio-Signature header", "reason": "signature"}
    assert _rejections(client, server, "signature") == before + 4
    time.sleep(1.0)
    df = read_table(server.parquet_dir, "call_events")
    assert (df["call_sid"] == "CAforged001").sum() == 0


def test_port_quirk_on_the_wire(server: CollectorProcess, client: httpx.Client) -> None:
    # Twilio signed the URL without the port the server sees in its Host header.
    params = call_status("CAportq0001")
    r = post_callback(
        client,
        server.base,
        "/twilio/voice/status?x=1",
        params,
        signed_url="http://127.0.0.1/twilio/voice/status?x=1",
    )
    assert r.status_code == 204, r.text
    # The query string is part of what is signed.
    r = post_callback(
        client,
        server.base,
        "/twilio/voice/status?x=2",
        params,
        signed_url="http://127.0.0.1/twilio/voice/status?x=1",
    )
    assert r.status_code == 403


def test_bad_input_gets_4xx_with_reason_never_500(
    server: CollectorProcess, client: httpx.Client
) -> None:
    url = server.base + "/twilio/voice/status"
    # 413: body over --max-body-bytes (64 KiB here), declared or streamed.
    big = [*call_status("CAbig000001"), ("Pad", "x" * 70000)]
    r = client.post(url, content=urlencode(big), headers=sign_form(url, big))
    assert r.status_code == 413
    assert "limit" in r.json()["error"]

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 8192

    r = client.post(
        url, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413
    # 415: JSON to a form endpoint; form to a JSON endpoint.
    r = client.post(url, json={"CallSid": "CA1"})
    assert r.status_code == 415
    assert "application/x-www-form-urlencoded" in r.json()["error"]
    r = client.post(
        server.base + "/twilio/events",
        content=b"a=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    # 400 naming the field: a correctly signed callback with a bad value / missing field.
    bad = [(k, "exploded" if k == "CallStatus" else v) for k, v in call_status("CAbad00001")]
    r = post_callback(client, server.base, "/twilio/voice/status", bad)
    assert r.status_code == 400
    assert r.json()["field"] == "CallStatus"
    missing = [(k, v) for k, v in call_status("CAbad00002") if k != "CallSid"]
    r = post_callback(client, server.base, "/twilio/voice/status", missing)
    assert r.status_code == 400
    assert r.json()["field"] == "CallSid"
    # 400 for a malformed body.
    r = client.post(url, content=b"\xff\xfe=\xff", headers=sign_form(url, []))
    assert r.status_code == 400
    assert r.json()["field"] == "body"
    # 403 with a reason: SDK events without a token / with an expired one.
    r = client.post(server.base + "/sdk/events", json=[])
    assert r.status_code == 403
    assert "missing token" in r.json()["error"]
    r = client.post(
        server.base + "/sdk/events",
        json=[],
        headers={"Authorization": "Bearer " + access_token(API_SECRET, exp_in=-600)},
    )
    assert r.status_code == 403
    assert "expired" in r.json()["error"]
    # 404 and 405.
    r = client.post(server.base + "/twilio/nope", content=b"")
    assert r.status_code == 404
    assert r.json()["reason"] == "not-found"
    r = client.get(url)
    assert r.status_code == 405
    metrics = client.get(server.base + "/metrics").text
    assert 'status="500"' not in metrics
    for reason in (
        "too-large",
        "content-type",
        "invalid-field",
        "malformed-body",
        "token",
        "not-found",
    ):
        assert _rejections(client, server, reason) >= 1, reason
    time.sleep(0.6)
    df = read_table(server.parquet_dir, "call_events")
    assert not df["call_sid"].isin(["CAbig000001", "CAbad00001", "CAbad00002"]).any()


def test_callbacks_answer_alike_on_fast_and_routed_paths(
    server: CollectorProcess, client: httpx.Client
) -> None:
    """Without an Origin header callbacks take the short path past CORS and routing; with
    one they go through the whole stack. Both give the same answers and store the same."""
    url = server.base + "/twilio/voice/status"
    cases: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = []
    for n, sid in enumerate(("CAfast00001", "CArouted001")):
        good = call_status(sid, 3)
        bad_value = [(k, "exploded" if k == "CallStatus" else v) for k, v in good]
        cases += [
            ("good", good, sign_form(url, good)),
            ("bad-value", bad_value, sign_form(url, bad_value)),
            ("forged", good, sign_form(url, good, token="x" * 32 + str(n))),
            ("json", good, {"Content-Type": "application/json"}),
        ]
    answers: dict[str, list[tuple[int, bytes, str | None]]] = {}
    for i, (name, params, headers) in enumerate(cases):
        extra = {"Origin": ORIGIN} if i >= len(cases) // 2 else {}
        r = client.post(url, content=urlencode(params), headers={**headers, **extra})
        if name == "forged":  # the message does not depend on the token
            assert r.json()["reason"] == "signature"
        answers.setdefault(name, []).append((r.status_code, r.content, r.headers.get("vary")))
        if extra:
            assert r.headers["access-control-allow-origin"] == ORIGIN
        else:
            assert "access-control-allow-origin" not in r.headers
    assert [a[0] for a in answers["good"]] == [204, 204]
    assert [a[0] for a in answers["bad-value"]] == [400, 400]
    assert [a[0] for a in answers["forged"]] == [403, 403]
    assert [a[0] for a in answers["json"]] == [415, 415]
    for name, (fast, routed) in answers.items():
        assert fast == routed, name
        assert fast[2] is not None
        assert "Origin" in fast[2]
    wait_rows(server.parquet_dir, "call_events", 1, prefix="CAfast00001")
    wait_rows(server.parquet_dir, "call_events", 1, prefix="CArouted001")
    df = read_table(server.parquet_dir, "call_events")
    got = df[df["call_sid"].isin(["CAfast00001", "CArouted001"])]
    assert sorted(got["call_sid"]) == ["CAfast00001", "CArouted001"]
    cols = ["call_status", "sequence_number", "timestamp", "extra", "ingest_source"]
    assert got[cols].iloc[0].to_dict() == got[cols].iloc[1].to_dict()


def _cloudevent(i: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "type": "com.twilio.voice.status-callback.call.completed",
        "source": "/v1/Accounts/AC/Calls",
        "id": f"EVstream{i:04d}",
        "time": "2026-11-21T10:00:00Z",
        "datacontenttype": "application/json",
        # Event Streams may deliver data as a JSON string.
        "data": json.dumps(
            {
                "sid": f"CAstream{i:04d}",
                "request": {
                    "method": "POST",
                    "url": "https://x.test",
                    "parameters": {
                        "CallSid": f"CAstream{i:04d}",
                        "CallStatus": "completed",
                        "SequenceNumber": "4",
                        "Timestamp": "Sat, 21 Nov 2026 10:00:00 +0000",
                    },
                },
            }
        ),
    }


def test_event_streams_sink(server: CollectorProcess, client: httpx.Client) -> None:
    body = json.dumps([_cloudevent(i) for i in range(3)]).encode()
    url = server.base + f"/twilio/events?bodySHA256={body_sha256(body)}"
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Signature": compute_signature(url, [], AUTH_TOKEN),
    }
    assert client.post(url, content=body, headers=headers).status_code == 204
    # The same signature with a body changed in transit.
    assert (
        client.post(
            url, content=body.replace(b"EVstream0000", b"EVstream9999"), headers=headers
        ).status_code
        == 403
    )
    # A signed delivery with one bad event: 400 naming the event and field.
    bad = [_cloudevent(7), {"specversion": "1.0", "source": "s", "id": "x"}]
    body2 = json.dumps(bad).encode()
    url2 = server.base + f"/twilio/events?bodySHA256={body_sha256(body2)}"
    r = client.post(
        url2,
        content=body2,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Signature": compute_signature(url2, [], AUTH_TOKEN),
        },
    )
    assert r.status_code == 400
    assert r.json()["field"] == "[1].type"
    ce = wait_rows(server.parquet_dir, "cloudevents", 3)
    assert set(ce["id"]) >= {"EVstream0000", "EVstream0001", "EVstream0002"}
    assert "EVstream0007" not in set(ce["id"])
    ev = read_table(server.parquet_dir, "call_events")
    assert {"CAstream0000", "CAstream0001", "CAstream0002"} <= set(ev["call_sid"])


def test_sdk_events_with_tokens_and_cors(server: CollectorProcess, client: httpx.Client) -> None:
    base_ms = 1_763_719_200_000
    batch = [
        {
            "type": "sample",
            "call_sid": "CAsdk00001",
            "identity": "mallory",
            "data": _sample(base_ms + i * 1000),
        }
        for i in range(5)
    ]
    batch.append(
        {
            "type": "warning",
            "call_sid": "CAsdk00001",
            "data": {
                "name": "high-rtt",
                "data": {
                    "name": "rtt",
                    "threshold": {"name": "max", "value": 400},
                    "values": [450, 480, 500],
                    "samples": [],
                },
            },
        }
    )
    batch.append(
        {
            "type": "feedback",
            "call_sid": "CAsdk00001",
            "data": {"score": 2, "issue": "choppy-audio"},
        }
    )
    r = client.post(
        server.base + "/sdk/events",
        json=batch,
        headers={"Authorization": "Bearer " + access_token(API_SECRET)},
    )
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 7}
    # A collector-issued ingest token, as sendBeacon sends it: query token, text/plain.
    token = issue_ingest_token(INGEST_SECRET, "kiosk-3")
    more = [{"type": "sample", "call_sid": "CAsdk00002", "data": _sample(base_ms)}]
    r = client.post(
        server.base + f"/sdk/events?token={token}",
        content=json.dumps(more),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )
    assert r.status_code == 202, r.text
    # A bad sample field is named with its position in the batch.
    broken = [
        more[0],
        {
            "type": "sample",
            "call_sid": "CAsdk00003",
            "data": {**_sample(base_ms), "jitter": "lots"},
        },
    ]
    r = client.post(
        server.base + "/sdk/events", json=broken, headers={"Authorization": "Bearer " + token}
    )
    assert r.status_code == 400
    assert r.json()["field"] == "[1].data.jitter"
    samples = wait_rows(server.parquet_dir, "samples", 6)
    mine = samples[samples["call_sid"] == "CAsdk00001"]
    assert len(mine) == 5
    assert set(mine["identity"]) == {"alice"}  # the token's identity, not the claimed one
    assert mine["jitter_ms"].tolist() == [4.5] * 5
    assert set(samples[samples["call_sid"] == "CAsdk00002"]["identity"]) == {"kiosk-3"}
    assert "CAsdk00003" not in set(samples["call_sid"])
    warn = wait_rows(server.parquet_dir, "warnings", 1)
    assert warn.iloc[0]["name"] == "high-rtt"
    fb = wait_rows(server.parquet_dir, "feedback", 1)
    assert fb.iloc[0]["score"] == 2
    # CORS: the configured origin gets a preflight answer, another origin does not.
    pre = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = client.options(server.base + "/sdk/events", headers={"Origin": ORIGIN, **pre})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    evil = client.options(
        server.base + "/sdk/events", headers={"Origin": "https://evil.test", **pre}
    )
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers


def test_a_repeated_json_key_keeps_its_last_value(
    server: CollectorProcess, client: httpx.Client
) -> None:
    # The file ingest keeps a repeated key's last value (ECMA-262 JSON.parse); so does the
    # collector, whatever the raw body says first.
    sample = json.dumps(_sample(1_763_719_900_000))
    assert '"jitter": 4.5' in sample
    body = (
        '[{"type": "sample", "call_sid": "CAdupfirst", "call_sid": "CAduplast", '
        '"data": ' + sample.replace('"jitter": 4.5', '"jitter": 99.0, "jitter": 7.25') + "}]"
    )
    r = client.post(
        server.base + "/sdk/events",
        content=body,
        headers={
            "Authorization": "Bearer " + access_token(API_SECRET),
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 202, r.text
    samples = wait_rows(server.parquet_dir, "samples", 1, prefix="CAduplast")
    assert samples["jitter_ms"].tolist() == [7.25]
    everything = read_table(server.parquet_dir, "samples")
    assert "CAdupfirst" not in set(everything["call_sid"])


def test_forwarder_js_is_served(server: CollectorProcess, client: httpx.Client) -> None:
    r = client.get(server.base + "/sdk/forwarder.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert "VoiceInsights" in r.text
    assert "sendBeacon" in r.text


def test_concurrent_load_every_ack_is_stored(server: CollectorProcess) -> None:
    n = 300

    async def main() -> list[int]:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(timeout=60, limits=limits) as ac:

            async def one(i: int) -> int:
                url = server.base + "/twilio/voice/status"
                params = call_status(f"CAload{i:05d}", i % 7)
                r = await ac.post(url, content=urlencode(params), headers=sign_form(url, params))
                return r.status_code

            return await asyncio.gather(*(one(i) for i in range(n)))

    statuses = asyncio.run(main())
    assert statuses == [204] * n
    loaded = wait_rows(server.parquet_dir, "call_events", n, prefix="CAload")
    assert len(loaded) == n
    assert loaded["call_sid"].is_unique
    metrics = httpx.get(server.base + "/metrics").text
    commits = next(
        float(ln.split()[-1])
        for ln in metrics.splitlines()
        if ln.startswith("voiceinsights_collector_spool_commits_total ")
    )
    assert commits >= 1
    assert "voiceinsights_collector_flush_latency_seconds_count" in metrics
    assert 'voiceinsights_collector_rows_written_total{table="call_events"}' in metrics


def test_public_url_is_what_gets_signed(tmp_path: Path) -> None:
    proc = CollectorProcess(tmp_path / "data", "--public-url", "https://hooks.example.com/").start()
    try:
        with httpx.Client(timeout=30) as client:
            params = call_status("CApublic001")
            path = "/twilio/voice/status?tenant=7"
            r = post_callback(
                client, proc.base, path, params, signed_url="https://hooks.example.com" + path
            )
            assert r.status_code == 204, r.text
            # Port quirk against the public URL too.
            r = post_callback(
                client,
                proc.base,
                path,
                call_status("CApublic002"),
                signed_url="https://hooks.example.com:443" + path,
            )
            assert r.status_code == 204, r.text
            # What the server itself sees is not what Twilio signed: refused.
            r = post_callback(client, proc.base, path, call_status("CApublic003"))
            assert r.status_code == 403
        df = wait_rows(proc.parquet_dir, "call_events", 2)
        assert set(df["call_sid"]) == {"CApublic001", "CApublic002"}
    finally:
        assert proc.stop()
    # A graceful stop drains and removes the spool.
    assert list((tmp_path / "data" / "spool").iterdir()) == []


_PATHS = [
    "/twilio/voice/status",
    "/twilio/conference/status",
    "/twilio/recording/status",
    "/twilio/events",
    "/sdk/events",
    "/sdk/events?token=abc",
    "/twilio/events?bodySHA256=0",
]
_CTYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "",
    "multipart/form-data; boundary=x",
    "application/json; charset=utf-8",
]


def test_fuzzed_requests_never_get_a_500(server: CollectorProcess) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    ["type", "data", "call_sid", "specversion", "id", "CallSid", "events", "x"]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
    bodies = (
        st.binary(max_size=300)
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.lists(
            st.tuples(
                st.sampled_from(["CallSid", "CallStatus", "SequenceNumber", "Timestamp", "x"]),
                st.text(max_size=12),
            ),
            max_size=6,
        ).map(lambda p: urlencode(p).encode())
    )
    auth = st.sampled_from(
        ["", "Bearer", "Bearer x.y.z", "Basic abc", "Bearer " + access_token(API_SECRET)]
    )
    with httpx.Client(timeout=30) as client:

        @settings(
            max_examples=120,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(
            path=st.sampled_from(_PATHS),
            ctype=st.sampled_from(_CTYPES),
            body=bodies,
            authorization=auth,
            signature=st.sampled_from(["", "abc", "RSOYDt4T1cUTdK1PDd93"]),
        )
        def check(path: str, ctype: str, body: bytes, authorization: str, signature: str) -> None:
            headers = {
                "Content-Type": ctype,
                "Authorization": authorization,
                "X-Twilio-Signature": signature,
            }
            headers = {k: v for k, v in headers.items() if v}
            r = client.post(server.base + path, content=body, headers=headers)
            assert r.status_code < 500, (r.status_code, r.text)
            if r.status_code >= 400:
                assert r.json()["error"]

        check()


def test_disk_full_is_a_503_not_a_500(tmp_path: Path) -> None:
    import os

    from tests.collector._server import AUTH_TOKEN as TOKEN
    from voiceinsights.collector import CollectorConfig, create_app

    app = create_app(CollectorConfig(data_dir=tmp_path / "data", auth_tokens=[TOKEN]))
    collector = app.state.collector

    async def main() -> httpx.Response:
        collector.start()
        spool = collector.spool
        good_fd = spool._fd
        spool._fd = os.open("/dev/full", os.O_WRONLY)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hooks.test") as c:
                params = call_status("CAdiskfull1")
                url = "http://hooks.test/twilio/voice/status"
                return await c.post(url, content=urlencode(params), headers=sign_form(url, params))
        finally:
            os.close(spool._fd)
            spool._fd = good_fd
            await collector.stop()

    r = asyncio.run(main())
    assert r.status_code == 503
    assert r.json()["reason"] == "spool-unavailable"
