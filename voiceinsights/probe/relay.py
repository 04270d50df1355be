"""Impairment relay: known delay, jitter and loss between a probe and its echo endpoint.

The kernel here has no netem and tests have no root, so impairment happens in user space:
the relay sits in the signaling path as an HTTP proxy to the echo endpoint and rewrites
the ICE candidate of each side so that every media datagram flows through two UDP
sockets on loopback that it owns::

    caller  <-- UDP -->  [A] relay [B]  <-- UDP -->  echo endpoint
             "to-caller"              "to-echo"

Datagrams are classified by their first byte (RFC 7983: 0-3 STUN, 20-63 DTLS, 128-191
RTP/RTCP, RTCP told apart by its packet type 192-223). Only RTP and RTCP are impaired by
default, so ICE and DTLS setup are not disturbed. Every forwarded datagram is scheduled
with ``loop.call_at`` on the loop clock (equal ``call_later`` times reorder packets and
drift). Loss is Bernoulli or, with ``burst > 1``, a two-state Gilbert-Elliott chain with
that mean burst length; delay is ``delay_ms`` plus a uniform ``±jitter_ms``; order is kept
unless ``reorder=True``. The RNG is seeded per direction, so runs repeat.

SRTP leaves the RTP header in the clear, so the relay's ground-truth log records for every
datagram its direction, kind, sequence number, RTP timestamp, SSRC, arrival and forward
times (wall clock, s since the epoch) and whether it was dropped: the reference the probe's
measurements are checked against.

The relay rewrites the first UDP candidate of each side and removes the others; it is a
tool for loopback tests, not a TURN server.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Literal
from urllib.parse import urljoin

import pandas as pd

__all__ = [
    "DIRECTIONS",
    "Impairment",
    "LossModel",
    "PacketRecord",
    "Relay",
    "classify",
    "read_log",
    "records_frame",
    "relay",
    "rewrite_candidates",
]

Direction = Literal["to-echo", "to-caller"]
#: Directions of the relay's log: towards the echo endpoint and back to the caller.
DIRECTIONS: tuple[Direction, Direction] = ("to-echo", "to-caller")


def classify(data: bytes) -> str:
    """Kind of a datagram: ``stun``, ``dtls``, ``rtp``, ``rtcp`` or ``other`` (RFC 7983)."""
    if not data:
        return "other"
    b = data[0]
    if b <= 3:
        return "stun"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        if len(data) >= 2 and 192 <= data[1] <= 223:
            return "rtcp"
        return "rtp"
    return "other"


@dataclass(frozen=True)
class Impairment:
    """What the relay does to media.

    Attributes
    ----------
    delay_ms : float
        Fixed one-way delay added in each impaired direction (ms).
    jitter_ms : float
        Each packet's delay varies uniformly within ``delay_ms ± jitter_ms`` (ms, never
        below 0).
    loss_pct : float
        Long-run share of packets dropped (%).
    burst : float
        Mean length of a loss burst in packets; 1 gives independent (Bernoulli) loss.
    seed : int
        Seed of the loss and jitter draws.
    reorder : bool
        Let jitter reorder packets; by default a packet never overtakes the previous one.
    impair_all : bool
        Also impair STUN and DTLS (setup), not only RTP/RTCP.
    directions : tuple of str
        Directions impaired: ``to-echo``, ``to-caller`` or both (default).
    """

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    burst: float = 1.0
    seed: int = 0
    reorder: bool = False
    impair_all: bool = False
    directions: tuple[str, ...] = DIRECTIONS

    def __post_init__(self) -> None:
        from voiceinsights._exceptions import ConfigError

        if self.delay_ms < 0 or self.jitter_ms < 0:
            raise ConfigError("delay_ms and jitter_ms must be >= 0")
        if not 0 <= self.loss_pct < 100:
            raise ConfigError("loss_pct must be in 0..100 (exclusive)")
        if self.burst < 1:
            raise ConfigError("burst (mean loss-burst length in packets) must be >= 1")
        bad = set(self.directions) - set(DIRECTIONS)
        if bad:
            raise ConfigError(f"directions must be among {DIRECTIONS}, got {sorted(bad)}")


class LossModel:
    """Packet loss with a long-run rate ``loss_pct`` and mean burst length ``burst``.

    ``burst == 1``: each packet is lost independently with probability ``loss_pct/100``.
    ``burst > 1``: Gilbert-Elliott with a loss-free good state and an all-loss bad state;
    P(bad -> good) = 1 / burst, P(good -> bad) = p r / (1 - p) with p the loss rate, so the
    stationary loss rate is p and bursts last ``burst`` packets on average.
    """

    def __init__(self, loss_pct: float, burst: float, rng: random.Random) -> None:
        self.p = loss_pct / 100.0
        self.burst = burst
        self.rng = rng
        self.bad = False
        self.r = 1.0 / burst
        self.q = self.p * self.r / (1.0 - self.p) if self.p < 1 else 1.0

    def lost(self) -> bool:
        """Draw the fate of the next packet."""
        if self.p <= 0:
            return False
        if self.burst <= 1:
            return self.rng.random() < self.p
        if self.bad:
            if self.rng.random() < self.r:
                self.bad = False
        elif self.rng.random() < self.q:
            self.bad = True
        return self.bad


@dataclass
class PacketRecord:
    """One datagram through the relay (times: wall clock, s since the epoch).

    ``dropped`` is a loss the impairment decided; ``sent_s`` is None for those and for
    datagrams still in flight (delayed) when their session ended.
    """

    session: str
    direction: str
    kind: str
    size: int
    received_s: float
    sent_s: float | None = None
    dropped: bool = False
    delay_ms: float = 0.0
    sequence_number: int | None = None
    rtp_timestamp: int | None = None
    ssrc: int | None = None
    payload_type: int | None = None


def rewrite_candidates(sdp: str, host: str, port: int) -> tuple[str, tuple[str, int] | None]:
    """Point the first UDP candidate of ``sdp`` at ``host:port`` and drop the others.

    Returns the rewritten SDP and the original ``(address, port)`` of that candidate
    (``None`` when the SDP has no UDP candidate). The ``c=`` line and the ``m=`` port
    follow.
    """
    out: list[str] = []
    original: tuple[str, int] | None = None
    newline = "\r\n" if "\r\n" in sdp else "\n"
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if original is not None or len(parts) < 8 or parts[2].lower() != "udp":
                continue
            original = (parts[4], int(parts[5]))
            parts[4], parts[5] = host, str(port)
            # keep "typ host" etc.; drop raddr/rport, which would leak the real address
            if "raddr" in parts:
                parts = parts[: parts.index("raddr")]
            line = " ".join(parts)
        elif line.startswith("c=IN IP"):
            line = f"c=IN IP{6 if ':' in host else 4} {host}"
        elif line.startswith("m=audio "):
            parts = line.split()
            parts[1] = str(port)
            line = " ".join(parts)
        out.append(line)
    return newline.join(out) + newline, original


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, leg: _Leg, side: str) -> None:
        self.leg = leg
        self.side = side
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.leg.received(self.side, data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.
        pass


class _Leg:
    """The two sockets of one relayed session."""

    def __init__(self, relay: Relay, session: str) -> None:
        self.relay = relay
        self.session = session
        self.caller_side: _Endpoint | None = None  # socket A: the caller talks to it
        self.echo_side: _Endpoint | None = None  # socket B: the echo endpoint talks to it
        self.caller_addr: tuple[str, int] | None = None
        self.echo_addr: tuple[str, int] | None = None
        imp = relay.impairment
        self.models = {
            d: LossModel(imp.loss_pct, imp.burst, random.Random(f"{imp.seed}:{d}:loss"))
            for d in DIRECTIONS
        }
        self.jitter_rng = {d: random.Random(f"{imp.seed}:{d}:jitter") for d in DIRECTIONS}
        self.last_send = dict.fromkeys(DIRECTIONS, 0.0)
        self.records: list[PacketRecord] = []

    async def open(self, host: str) -> None:
        loop = asyncio.get_running_loop()
        _, a = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self, "caller"), local_addr=(host, 0)
        )
        _, b = await loop.create_datagram_endpoint(
            lambda: _Endpoint(self, "echo"), local_addr=(host, 0)
        )
        self.caller_side, self.echo_side = a, b

    def address(self, side: str) -> tuple[str, int]:
        ep = self.caller_side if side == "caller" else self.echo_side
        assert ep is not None
        assert ep.transport is not None
        addr = ep.transport.get_extra_info("sockname")
        return str(addr[0]), int(addr[1])

    def received(self, side: str, data: bytes, addr: tuple[str, int]) -> None:
        if side == "caller":
            self.caller_addr = addr
            direction: Direction = "to-echo"
            out, dest = self.echo_side, self.echo_addr
        else:
            self.echo_addr = addr
            direction = "to-caller"
            out, dest = self.caller_side, self.caller_addr
        if out is None or out.transport is None or dest is None:
            return
        kind = classify(data)
        rec = PacketRecord(self.session, direction, kind, len(data), time.time())
        if kind in ("rtp", "rtcp") and len(data) >= 12:
            rec.sequence_number = int.from_bytes(data[2:4], "big") if kind == "rtp" else None
            rec.rtp_timestamp = int.from_bytes(data[4:8], "big") if kind == "rtp" else None
            rec.ssrc = int.from_bytes(data[8:12] if kind == "rtp" else data[4:8], "big")
            rec.payload_type = data[1] & 0x7F if kind == "rtp" else data[1]
        self.records.append(rec)
        imp = self.relay.impairment
        impaired = direction in imp.directions and (imp.impair_all or kind in ("rtp", "rtcp"))
        transport = out.transport
        if not impaired:
            rec.sent_s = rec.received_s
            transport.sendto(data, dest)
            return
        if self.models[direction].lost():
            rec.dropped = True
            return
        delay = imp.delay_ms
        if imp.jitter_ms > 0:
            delay += self.jitter_rng[direction].uniform(-imp.jitter_ms, imp.jitter_ms)
        delay = max(delay, 0.0)
        loop = asyncio.get_running_loop()
        at = loop.time() + delay / 1000.0
        if not imp.reorder:
            at = max(at, self.last_send[direction])
            self.last_send[direction] = at
        rec.delay_ms = delay

        def send() -> None:
            if transport.is_closing():
                return  # still in flight when the session ended: sent_s stays None
            rec.sent_s = time.time()
            transport.sendto(data, dest)

        loop.call_at(at, send)

    def close(self) -> None:
        for ep in (self.caller_side, self.echo_side):
            if ep is not None and ep.transport is not None:
                ep.transport.close()


@dataclass
class Relay:
    """An impairing relay in front of the echo endpoint at ``target``.

    Use as ``async with Relay(target, Impairment(...)) as relay:`` and point the probe at
    ``relay.url``. ``relay.log()`` returns the ground truth.

    Parameters
    ----------
    target : str
        Base URL of the echo endpoint (``http://host:port``).
    impairment : Impairment
        What to do to media.
    host : str
        Loopback (or local) address the relay listens on for HTTP and media.
    port : int
        HTTP port (0 picks a free one).
    log_file : file, optional
        Text file to which every record is written as JSON Lines when its session ends.
    """

    target: str
    impairment: Impairment = field(default_factory=Impairment)
    host: str = "127.0.0.1"
    port: int = 0
    log_file: IO[str] | None = None
    url: str = ""
    records: list[PacketRecord] = field(default_factory=list)
    _legs: dict[str, tuple[_Leg, str | None]] = field(default_factory=dict)
    _stack: Any = None

    # ------------------------------------------------------------------ HTTP proxy
    def app(self) -> Any:
        """The starlette application proxying signaling to ``target``."""
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, PlainTextResponse, Response
        from starlette.routing import Route

        async def forward_offer(request: Any) -> Any:
            import httpx

            path = request.url.path
            body = await request.body()
            is_json = path.endswith("/offer")
            data: dict[str, Any] = {}
            try:
                if is_json:
                    data = json.loads(body)
                    if not isinstance(data, dict):
                        raise TypeError("the body is not a JSON object")
                    offer = data["sdp"]
                else:
                    offer = body.decode()
                if not isinstance(offer, str):
                    raise TypeError("sdp is not a string")
            except (ValueError, KeyError, TypeError) as exc:
                return PlainTextResponse(f"malformed offer: {exc}\n", status_code=400)
            sid = uuid.uuid4().hex
            leg = _Leg(self, sid)
            await leg.open(self.host)
            offer, caller = rewrite_candidates(offer, *leg.address("echo"))
            leg.caller_addr = caller
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() in {"content-type", "authorization"}
            }
            upstream = urljoin(self.target.rstrip("/") + "/", path.lstrip("/"))
            payload = json.dumps({**data, "sdp": offer}) if is_json else offer
            try:
                async with httpx.AsyncClient(timeout=15) as client:
                    resp = await client.post(upstream, content=payload, headers=headers)
            except httpx.HTTPError as exc:
                leg.close()
                return PlainTextResponse(f"relay: upstream {upstream}: {exc}\n", status_code=502)
            if resp.status_code not in (200, 201):
                leg.close()
                return Response(
                    resp.content,
                    status_code=resp.status_code,
                    media_type=resp.headers.get("content-type"),
                )
            answer = resp.json()["sdp"] if is_json else resp.text
            answer, echo = rewrite_candidates(answer, *leg.address("caller"))
            leg.echo_addr = echo
            location = resp.headers.get("location")
            self._legs[sid] = (leg, urljoin(upstream, location) if location else None)
            headers_out = {"Location": f"/sessions/{sid}"}
            if is_json:
                out = {**resp.json(), "sdp": answer, "location": f"/sessions/{sid}"}
                return JSONResponse(out, status_code=201, headers=headers_out)
            return Response(
                answer, status_code=201, media_type="application/sdp", headers=headers_out
            )

        async def delete(request: Any) -> Any:
            import httpx

            sid = request.path_params["session_id"]
            entry = self._legs.pop(sid, None)
            if entry is None:
                return PlainTextResponse("no such session\n", status_code=404)
            leg, upstream = entry
            status = 204
            if upstream is not None:
                auth = request.headers.get("authorization")
                try:
                    async with httpx.AsyncClient(timeout=5) as client:
                        resp = await client.delete(
                            upstream, headers={"Authorization": auth} if auth else {}
                        )
                    status = resp.status_code
                except httpx.HTTPError:
                    status = 502
            await asyncio.sleep(0.05)  # let in-flight datagrams land in the log
            self._finish(leg)
            return Response(status_code=status if status != 200 else 204)

        async def health(request: Any) -> Any:
            return JSONResponse({"sessions": len(self._legs), "target": self.target})

        return Starlette(
            routes=[
                Route("/whip", forward_offer, methods=["POST"]),
                Route("/offer", forward_offer, methods=["POST"]),
                Route("/sessions/{session_id}", delete, methods=["DELETE"]),
                Route("/health", health, methods=["GET"]),
            ]
        )

    def _finish(self, leg: _Leg) -> None:
        leg.close()
        self.records.extend(leg.records)
        if self.log_file is not None:
            for rec in leg.records:
                self.log_file.write(json.dumps(asdict(rec)) + "\n")
            self.log_file.flush()

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Relay:
        from contextlib import AsyncExitStack

        from voiceinsights.probe._signaling import serve_app

        self._stack = AsyncExitStack()
        self.url = await self._stack.enter_async_context(
            serve_app(self.app(), self.host, self.port)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for leg, _ in list(self._legs.values()):
            self._finish(leg)
        self._legs.clear()
        if self._stack is not None:
            await self._stack.aclose()

    # ------------------------------------------------------------------ ground truth
    def log(self, direction: str | None = None) -> pd.DataFrame:
        """Ground-truth records of finished sessions (all, or one direction)."""
        return records_frame(self.records, direction)


def records_frame(
    records: list[PacketRecord] | list[dict[str, Any]], direction: str | None = None
) -> pd.DataFrame:
    """Relay records (objects or dicts read from a ``--log`` file) as a DataFrame."""
    rows = [asdict(r) if isinstance(r, PacketRecord) else r for r in records]
    columns = list(PacketRecord.__dataclass_fields__)
    df = pd.DataFrame(rows, columns=columns)
    if direction is not None:
        df = df[df["direction"] == direction].reset_index(drop=True)
    return df


def read_log(path: str) -> pd.DataFrame:
    """Read a relay ``--log`` JSON Lines file."""
    with open(path) as fh:
        return records_frame([json.loads(line) for line in fh if line.strip()])


@asynccontextmanager
async def relay(
    target: str, impairment: Impairment | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Relay]:
    """``async with relay(target, Impairment(delay_ms=50)) as r:`` - shorthand for
    :class:`Relay`."""
    async with Relay(target, impairment or Impairment(), host, port) as r:
        yield r
