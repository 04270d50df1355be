"""A local fake of Twilio's Calls and Voice Insights REST APIs, for tests and benchmarks.

A real HTTP server (starlette + uvicorn in a thread) on 127.0.0.1 serving Twilio's payload
shapes: the Calls list with RELATIVE ``next_page_uri`` paging, Insights lists with an
ABSOLUTE ``meta.next_page_url`` carrying a ``PageToken``, Basic auth checked against an
auth token or API key, Twilio error bodies, and injectable faults (429 with Retry-After,
500s, slow answers, permanent failure after some pages) plus a fixed per-request latency.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
API_KEY = "SK" + "b" * 32
API_SECRET = "fake-api-secret"


def sid(prefix: str, n: int) -> str:
    """A well-formed SID: prefix + 32 hex digits derived from ``n``."""
    return f"{prefix}{n:032x}"


def rfc2822(t: datetime | None) -> str | None:
    return None if t is None else format_datetime(t.astimezone(UTC), usegmt=False)


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _twilio_time(value: str) -> datetime:
    """Parse ISO (``2026-11-21T10:00:00Z``), a date, or a relative ``4h``/``30m``/``2d``."""
    v = value.strip()
    units = {"m": 60, "h": 3600, "d": 86400}
    if v and v[-1] in units and v[:-1].isdigit():
        return datetime.now(UTC) - timedelta(seconds=int(v[:-1]) * units[v[-1]])
    if len(v) == 10:
        return datetime.fromisoformat(v).replace(tzinfo=UTC)
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


def twilio_error(status: int, code: int, message: str) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status)


@dataclass
class Fault:
    """An injected failure: requests whose path contains ``match`` get it.

    ``skip`` matching requests pass first; then ``times`` of them (None: forever) answer
    ``status`` (with ``Retry-After`` when set) or are delayed by ``delay_s``.
    """

    match: str
    status: int | None = None
    times: int | None = 1
    retry_after: str | None = None
    delay_s: float = 0.0
    skip: int = 0
    hits: int = 0


@dataclass
class FakeTwilio:
    """State and behaviour of the fake. Add data with the ``add_*`` builders."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    api_keys: dict[str, str] = field(default_factory=lambda: {API_KEY: API_SECRET})
    latency_s: float = 0.0
    max_page_size: int = 1000
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    conferences: dict[str, dict[str, Any]] = field(default_factory=dict)
    participants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    #: When set, Insights next-page links name this host (as Twilio's public host would).
    foreign_next_host: str | None = None

    # -- builders (Twilio's exact field names) ------------------------------------------
    def add_call(
        self,
        n: int,
        start: datetime,
        *,
        status: str = "completed",
        duration_s: int = 60,
        parent: str | None = None,
        direction: str = "outbound-api",
        to: str = "+14155550100",
        from_: str = "+14155550199",
        updated: datetime | None = None,
    ) -> dict[str, Any]:
        """Add a Call resource (and its summary, 2 events, 2 metrics) and return it."""
        call_sid = sid("CA", n)
        end = start + timedelta(seconds=duration_s) if status == "completed" else None
        acct = self.account_sid
        call = {
            "sid": call_sid,
            "parent_call_sid": parent,
            "account_sid": acct,
            "to": to,
            "to_formatted": to,
            "from": from_,
            "from_formatted": from_,
            "phone_number_sid": None,
            "status": status,
            "start_time": rfc2822(start),
            "end_time": rfc2822(end),
            "duration": str(duration_s) if end else None,
            "price": "-0.01400" if end else None,
            "price_unit": "USD",
            "direction": direction,
            "answered_by": None,
            "api_version": "2010-04-01",
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "date_created": rfc2822(start - timedelta(seconds=2)),
            "date_updated": rfc2822(updated or end or start),
            "uri": f"/2010-04-01/Accounts/{acct}/Calls/{call_sid}.json",
            "subresource_uris": {
                "recordings": f"/2010-04-01/Accounts/{acct}/Calls/{call_sid}/Recordings.json",
            },
        }
        self.calls[call_sid] = call
        self.add_summary(call_sid, start, end, status, to, from_, direction)
        self.events[call_sid] = [
            self._event(call_sid, start + timedelta(seconds=i), name)
            for i, name in enumerate(("initiated", "answered"))
        ]
        self.metrics[call_sid] = [
            self._metric(call_sid, start + timedelta(seconds=10 * (i + 1)), i) for i in range(2)
        ]
        return call

    def add_summary(
        self,
        call_sid: str,
        start: datetime,
        end: datetime | None,
        status: str,
        to: str,
        from_: str,
        direction: str,
    ) -> dict[str, Any]:
        state = {"completed": "completed", "in-progress": "answered"}.get(status, status)
        edge = {
            "metrics": {
                d: {
                    "codec": 0,
                    "codec_name": "pcmu",
                    "jitter": {"max": 12.5, "avg": 3.25},
                    "packets_received": 3000,
                    "packets_lost": 6,
                    "packets_loss_percentage": 0.2,
                }
                for d in ("inbound", "outbound")
            },
            "properties": {"media_region": "us1", "direction": "outbound"},
        }
        summary = {
            "account_sid": self.account_sid,
            "call_sid": call_sid,
            "call_type": "carrier",
            "call_state": state,
            "answered_by": "unknown",
            "processing_state": "complete" if end else "partial",
            "created_time": iso(start - timedelta(seconds=2)),
            "start_time": iso(start),
            "end_time": iso(end),
            "duration": int((end - start).total_seconds()) if end else None,
            "connect_duration": int((end - start).total_seconds()) if end else None,
            "from": {
                "caller": from_,
                "carrier": "Twilio",
                "connection": "twilio_sdk",
                "country_code": "US",
            },
            "to": {
                "callee": to,
                "carrier": "Verizon",
                "connection": "mobile",
                "country_code": "US",
            },
            "carrier_edge": edge,
            "client_edge": None,
            "sdk_edge": None,
            "sip_edge": None,
            "tags": ["high_jitter"] if int(call_sid[-4:], 16) % 5 == 0 else [],
            "url": f"https://insights.twilio.com/v1/Voice/{call_sid}/Summary",
            "attributes": {"conference_participant": False},
            "properties": {
                "direction": direction.replace("-", "_"),
                "pdd_ms": 850,
                "disconnected_by": "callee",
                "last_sip_response_num": 200,
                "media_region": "us1",
                "signaling_region": "us1",
            },
            "trust": None,
            "annotation": None,
        }
        self.summaries[call_sid] = summary
        return summary

    def _event(self, call_sid: str, t: datetime, name: str) -> dict[str, Any]:
        return {
            "timestamp": iso(t),
            "call_sid": call_sid,
            "account_sid": self.account_sid,
            "edge": "carrier_edge",
            "group": "connection",
            "level": "INFO",
            "name": name,
            "carrier_edge": {"metadata": {"edge_location": "ashburn"}},
            "sip_edge": None,
            "sdk_edge": None,
            "client_edge": None,
        }

    def _metric(self, call_sid: str, t: datetime, i: int) -> dict[str, Any]:
        return {
            "timestamp": iso(t),
            "call_sid": call_sid,
            "account_sid": self.account_sid,
            "edge": "carrier_edge",
            "direction": "both",
            "carrier_edge": {
                "codec": "pcmu",
                "codec_name": "pcmu",
                "cumulative": {
                    "jitter": {"avg": 3.0, "max": 9.0},
                    "packets_received": 500 * (i + 1),
                    "packets_lost": i,
                },
                "interval": {
                    "packets_received": 500,
                    "packets_lost": i,
                    "jitter": {"value": 3.0 + i},
                },
            },
            "sip_edge": None,
            "sdk_edge": None,
            "client_edge": None,
        }

    def add_conference(self, n: int, start: datetime, call_sids: list[str]) -> dict[str, Any]:
        conf_sid = sid("CF", n)
        end = start + timedelta(minutes=5)
        conf = {
            "conference_sid": conf_sid,
            "account_sid": self.account_sid,
            "friendly_name": f"room-{n}",
            "create_time": iso(start),
            "start_time": iso(start),
            "end_time": iso(end),
            "duration_seconds": 300,
            "connect_duration_seconds": 300,
            "status": "completed",
            "max_participants": 250,
            "max_concurrent_participants": len(call_sids),
            "unique_participants": len(call_sids),
            "end_reason": "last_participant_left",
            "ended_by": call_sids[-1] if call_sids else None,
            "mixer_region": "us1",
            "mixer_region_requested": None,
            "recording_enabled": False,
            "detected_issues": {
                "call_quality": 0,
                "region_configuration": 0,
                "participant_behavior": 0,
            },
            "tags": [],
            "tag_info": None,
            "processing_state": "complete",
            "url": f"https://insights.twilio.com/v1/Conferences/{conf_sid}",
            "links": {
                "conference_participants": f"https://insights.twilio.com/v1/Conferences/{conf_sid}/Participants"
            },
        }
        self.conferences[conf_sid] = conf
        self.participants[conf_sid] = [
            {
                "participant_sid": sid("CP", n * 100 + i),
                "label": f"p{i}",
                "conference_sid": conf_sid,
                "call_sid": cs,
                "account_sid": self.account_sid,
                "call_direction": "inbound",
                "from": "+14155550199",
                "to": "+14155550100",
                "call_status": "completed",
                "country_code": "US",
                "is_moderator": i == 0,
                "join_time": iso(start),
                "leave_time": iso(end),
                "duration_seconds": 300,
                "outbound_queue_length": 0,
                "outbound_time_in_queue": 0,
                "jitter_buffer_size": None,
                "is_coach": False,
                "coached_participants": None,
                "participant_region": "us1",
                "conference_region": "us1",
                "call_type": "carrier",
                "processing_state": "complete",
                "properties": {},
                "events": {},
                "metrics": {},
                "url": f"https://insights.twilio.com/v1/Conferences/{conf_sid}/Participants/"
                f"{sid('CP', n * 100 + i)}",
            }
            for i, cs in enumerate(call_sids)
        ]
        return conf

    def populate(self, n_calls: int, *, end: datetime, span: timedelta, seed: int = 1) -> list[str]:
        """``n_calls`` completed calls, started and ended within ``[end - span, end)``.

        Every 4th is a child leg of the call before it. Returns their SIDs, newest first.
        """
        rng = random.Random(seed)
        step = span / max(n_calls, 1)
        for i in range(n_calls):
            start = end - span + step * i + timedelta(seconds=rng.random())
            parent = sid("CA", i - 1) if i % 4 == 3 else None
            self.add_call(
                i,
                start,
                parent=parent,
                direction="outbound-dial" if parent else "outbound-api",
                duration_s=min(rng.randint(5, 600), max(1, int((end - start).total_seconds()) - 1)),
            )
        return [c["sid"] for c in self._sorted_calls()]

    def load_fixtures(self, directory: Path) -> None:
        """Serve the committed fixture dataset: its Calls REST pages and Insights pages.

        The items are re-paged by the fake (any page size, tokens of its own); the account
        SID becomes the fixtures' one.
        """
        pages = sorted(directory.glob("rest_calls_page*.json"))
        for page in pages:
            for call in json.loads(page.read_text())["calls"]:
                self.calls[call["sid"]] = call
                self.account_sid = call["account_sid"]
        for summary in json.loads((directory / "insights_summaries.json").read_text())[
            "call_summaries"
        ]:
            self.summaries[summary["call_sid"]] = summary
        for name, target in (("events", self.events), ("metrics", self.metrics)):
            body = json.loads((directory / f"insights_{name}.json").read_text())
            for item in body[body["meta"]["key"]]:
                target.setdefault(item["call_sid"], []).append(item)

    # -- serving helpers ---------------------------------------------------------------
    def _sorted_calls(self) -> list[dict[str, Any]]:
        def key(c: dict[str, Any]) -> tuple[datetime, str]:
            from email.utils import parsedate_to_datetime

            return parsedate_to_datetime(c["start_time"]), c["sid"]

        return sorted(self.calls.values(), key=key, reverse=True)

    def requests_to(self, fragment: str) -> int:
        """How many logged requests had ``fragment`` in their path."""
        return sum(1 for _, path, _ in self.log if fragment in path)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        if user == self.account_sid:
            return password == self.auth_token
        return self.api_keys.get(user) == password

    def _fault(self, path: str) -> Fault | None:
        for f in self.faults:
            if f.match not in path:
                continue
            if f.skip > 0:
                f.skip -= 1
                continue
            if f.times is not None and f.hits >= f.times:
                continue
            f.hits += 1
            return f
        return None


def _page_bounds(
    items: list[dict[str, Any]], token: str | None, key: str, size: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Items after the one whose id ``token`` names (stable under inserts), and the next
    token."""
    start = 0
    if token:
        ids = [it[key] for it in items]
        last = token[2:]
        start = ids.index(last) + 1 if last in ids else len(items)
    chunk = items[start : start + size]
    more = start + size < len(items)
    return chunk, ("PT" + chunk[-1][key]) if more and chunk else None


def _keep(q: Any) -> str:
    """The filters of a list request, re-encoded for the next/previous page links."""
    rest = [(k, v) for k, v in q.multi_items() if k not in ("Page", "PageToken", "PageSize")]
    return ("&" + urlencode(rest)) if rest else ""


def build_app(fake: FakeTwilio) -> Starlette:
    """The ASGI app serving ``fake``."""

    async def dispatch(request: Request) -> Response:
        path = request.url.path
        fake.log.append((request.method, path, request.url.query))
        fake.in_flight += 1
        fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if fake.latency_s:
                await asyncio.sleep(fake.latency_s)
            if not fake._authorized(request):
                return twilio_error(401, 20003, "Authenticate")
            fault = fake._fault(path)
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status is not None:
                    resp = twilio_error(
                        fault.status,
                        20429 if fault.status == 429 else 20500,
                        "Too Many Requests" if fault.status == 429 else "Internal Server Error",
                    )
                    if fault.retry_after is not None:
                        resp.headers["Retry-After"] = fault.retry_after
                    return resp
            return await route(request, path)
        finally:
            fake.in_flight -= 1

    async def route(request: Request, path: str) -> Response:
        q = request.query_params
        size = min(int(q.get("PageSize", "50")), fake.max_page_size)
        parts = [p for p in path.split("/") if p]
        not_found = twilio_error(404, 20404, f"The requested resource {path} was not found")
        if parts[:2] == ["2010-04-01", "Accounts"] and len(parts) >= 4:
            if parts[2] != fake.account_sid:
                return not_found
            if parts[3] == "Calls.json":
                return calls_page(request, size)
            if parts[3] == "Calls" and len(parts) == 5 and parts[4].endswith(".json"):
                call = fake.calls.get(parts[4][:-5])
                return JSONResponse(call) if call else not_found
            return not_found
        if parts[:2] == ["v1", "Voice"] and len(parts) == 3 and parts[2] == "Summaries":
            return summaries_page(request, size)
        if parts[:2] == ["v1", "Voice"] and len(parts) == 4:
            call_sid, leaf = parts[2], parts[3]
            known = (fake.summaries, fake.calls, fake.events, fake.metrics)
            if not any(call_sid in table for table in known):
                return not_found
            if leaf == "Summary":
                summary = fake.summaries.get(call_sid)
                return JSONResponse(summary) if summary else not_found
            if leaf == "Events":
                items = [
                    e for e in fake.events.get(call_sid, []) if q.get("Edge") in (None, e["edge"])
                ]
                return insights_page(request, items, "events", "timestamp", size)
            if leaf == "Metrics":
                items = fake.metrics.get(call_sid, [])
                return insights_page(request, items, "metrics", "timestamp", size)
            if leaf == "Annotation":
                return await annotation(request, call_sid)
            return not_found
        if parts[:2] == ["v1", "Conferences"]:
            if len(parts) == 2:
                items = sorted(
                    fake.conferences.values(), key=lambda c: c["create_time"], reverse=True
                )
                if "CreatedAfter" in q:
                    lo = _twilio_time(q["CreatedAfter"])
                    items = [c for c in items if _twilio_time(c["create_time"]) >= lo]
                if "CreatedBefore" in q:
                    hi = _twilio_time(q["CreatedBefore"])
                    items = [c for c in items if _twilio_time(c["create_time"]) <= hi]
                return insights_page(request, items, "conferences", "conference_sid", size)
            conf = fake.conferences.get(parts[2])
            if conf is None:
                return not_found
            if len(parts) == 3:
                return JSONResponse(conf)
            if len(parts) == 4 and parts[3] == "Participants":
                return insights_page(
                    request, fake.participants[parts[2]], "participants", "participant_sid", size
                )
            if len(parts) == 5 and parts[3] == "Participants":
                for p in fake.participants[parts[2]]:
                    if p["participant_sid"] == parts[4]:
                        return JSONResponse(p)
            return not_found
        return not_found

    def calls_page(request: Request, size: int) -> Response:
        from email.utils import parsedate_to_datetime

        q = request.query_params
        items = fake._sorted_calls()
        if "StartTime>=" in q:
            lo = _twilio_time(q["StartTime>="])
            items = [c for c in items if parsedate_to_datetime(c["start_time"]) >= lo]
        if "StartTime<=" in q:
            hi = _twilio_time(q["StartTime<="])
            items = [c for c in items if parsedate_to_datetime(c["start_time"]) <= hi]
        for param, fld in (
            ("Status", "status"),
            ("To", "to"),
            ("From", "from"),
            ("ParentCallSid", "parent_call_sid"),
        ):
            if param in q:
                items = [c for c in items if c[fld] == q[param]]
        chunk, token = _page_bounds(items, q.get("PageToken"), "sid", size)
        page = int(q.get("Page", "0"))
        base = f"/2010-04-01/Accounts/{fake.account_sid}/Calls.json"
        keep = _keep(q)
        return JSONResponse(
            {
                "calls": chunk,
                "page": page,
                "page_size": size,
                "start": page * size,
                "end": page * size + max(len(chunk) - 1, 0),
                "first_page_uri": f"{base}?PageSize={size}&Page=0{keep}",
                "previous_page_uri": None
                if page == 0
                else f"{base}?PageSize={size}&Page={page - 1}{keep}",
                "next_page_uri": None
                if token is None
                else f"{base}?PageSize={size}&Page={page + 1}&PageToken={token}{keep}",
                "uri": f"{base}?PageSize={size}&Page={page}{keep}",
            }
        )

    def summaries_page(request: Request, size: int) -> Response:
        q = request.query_params
        lo = _twilio_time(q.get("StartTime", "4h"))
        hi = _twilio_time(q["EndTime"]) if "EndTime" in q else datetime.now(UTC)
        items = [s for s in fake.summaries.values() if lo <= _twilio_time(s["start_time"]) <= hi]
        if "ProcessingState" in q:
            items = [s for s in items if s["processing_state"] == q["ProcessingState"]]
        items.sort(key=lambda s: (s["start_time"], s["call_sid"]), reverse=True)
        return insights_page(request, items, "call_summaries", "call_sid", size)

    def insights_page(
        request: Request, items: list[dict[str, Any]], key: str, id_key: str, size: int
    ) -> Response:
        q = request.query_params
        chunk, token = _page_bounds(items, q.get("PageToken"), id_key, size)
        page = int(q.get("Page", "0"))
        host = fake.foreign_next_host or str(request.base_url).rstrip("/")
        root = host + request.url.path
        keep = _keep(q)
        return JSONResponse(
            {
                "meta": {
                    "page": page,
                    "page_size": size,
                    "key": key,
                    "first_page_url": f"{root}?PageSize={size}&Page=0{keep}",
                    "previous_page_url": None
                    if page == 0
                    else f"{root}?PageSize={size}&Page={page - 1}{keep}",
                    "next_page_url": None
                    if token is None
                    else f"{root}?PageSize={size}&Page={page + 1}&PageToken={token}{keep}",
                    "url": f"{root}?PageSize={size}&Page={page}{keep}",
                },
                key: chunk,
            }
        )

    async def annotation(request: Request, call_sid: str) -> Response:
        current = fake.annotations.setdefault(
            call_sid,
            {
                "call_sid": call_sid,
                "account_sid": fake.account_sid,
                "answered_by": None,
                "connectivity_issue": None,
                "quality_issues": None,
                "spam": None,
                "call_score": None,
                "comment": None,
                "incident": None,
                "url": f"https://insights.twilio.com/v1/Voice/{call_sid}/Annotation",
            },
        )
        if request.method == "POST":
            form = await request.form()
            for wire, value in form.items():
                name = "".join("_" + ch.lower() if ch.isupper() else ch for ch in wire)[1:]
                if name not in current:
                    return twilio_error(400, 20001, f"Invalid parameter {wire}")
                text = str(value)
                if name == "quality_issues":
                    current[name] = text.split(",")
                elif name == "spam":
                    current[name] = text == "true"
                elif name == "call_score":
                    current[name] = int(text)
                else:
                    current[name] = text
            fake.summaries.setdefault(call_sid, {})["annotation"] = {
                k: v for k, v in current.items() if k not in ("call_sid", "account_sid", "url")
            }
        return JSONResponse(current)

    routes = [Route("/{path:path}", dispatch, methods=["GET", "POST"])]
    return Starlette(routes=routes)


@contextmanager
def serve(fake: FakeTwilio) -> Iterator[str]:
    """Run ``fake`` on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(fake), log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("fake Twilio server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
