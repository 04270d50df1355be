"""The collector's ASGI application: routes, limits, authentication, CORS and metrics.

Every accepted request is validated record by record with
:func:`voiceinsights.models.parse_record` (so a malformed field is a 400 naming it),
durably appended to the write-ahead spool, and only then answered. Rejections are
answered with a JSON ``{"error": ..., "field": ...}``, counted by reason in ``/metrics``
and logged; they are never stored as data.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from voiceinsights._exceptions import SignatureError, ValidationError
from voiceinsights.collector._form import form_record, parse_form
from voiceinsights.collector._metrics import Metrics
from voiceinsights.collector._signature import validate_body_signature, validate_form_signature
from voiceinsights.collector._spool import Spool
from voiceinsights.collector._tokens import TokenVerifier
from voiceinsights.collector._writer import SegmentWriter, encode_form, encode_record

__all__ = ["Collector", "CollectorConfig", "create_app", "parse_form"]

log = logging.getLogger("voiceinsights.collector")

_FORM = "application/x-www-form-urlencoded"
_FORM_ENDPOINTS = {
    "/twilio/voice/status": "call-status",
    "/twilio/conference/status": "conference-status",
    "/twilio/recording/status": "recording-status",
}
_SDK_KINDS = {
    "sdk-sample",
    "sdk-warning",
    "sdk-warning-cleared",
    "sdk-feedback",
    "preflight-report",
}


@dataclass
class CollectorConfig:
    """Settings of a collector process.

    Parameters
    ----------
    data_dir : Path
        Holds ``spool/`` (write-ahead spools, one directory per process) and ``parquet/``
        (the hive-partitioned segments a notebook reads with ``open_parquet``).
    auth_tokens : sequence of str
        Twilio auth tokens that sign webhooks (several during a rotation). Empty refuses
        every Twilio webhook with 403.
    public_url : str, optional
        The scheme, host and optional port prefix Twilio calls (behind a proxy or tunnel);
        the signature is checked over it plus the request's path and query.
    api_secrets, ingest_secrets : sequence of str
        Secrets of Twilio AccessTokens and of collector-issued ingest tokens for
        ``/sdk/events``.
    account_sid : str, optional
        Required ``sub`` of AccessTokens.
    allow_origins : sequence of str
        Browser origins allowed to post SDK events (CORS); none by default.
    max_body_bytes : int
        Larger bodies get 413.
    max_batch_records : int
        Most records one SDK batch or Event Streams delivery may carry (413 beyond).
    flush_interval_s : float
        Longest time a spooled record waits before it is written to Parquet.
    after_flush : callable, optional
        Called by the writer after a flush that wrote rows (compaction).
    """

    data_dir: Path
    auth_tokens: Sequence[str] = ()
    public_url: str | None = None
    api_secrets: Sequence[str] = ()
    ingest_secrets: Sequence[str] = ()
    account_sid: str | None = None
    allow_origins: Sequence[str] = ()
    max_body_bytes: int = 1 << 20
    max_batch_records: int = 5000
    flush_interval_s: float = 1.0
    after_flush: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def spool_root(self) -> Path:
        """Directory of the per-process spools."""
        return Path(self.data_dir) / "spool"

    @property
    def parquet_dir(self) -> Path:
        """Directory of the Parquet segments (``voiceinsights.open_parquet`` reads it)."""
        return Path(self.data_dir) / "parquet"


class _RejectError(Exception):
    def __init__(self, status: int, reason: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.field = field


class Collector:
    """One collector process: its spool, writer and metrics (see :func:`create_app`)."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.tokens = TokenVerifier(
            tuple(config.api_secrets), tuple(config.ingest_secrets), config.account_sid
        )
        self.spool: Spool | None = None
        self.writer: SegmentWriter | None = None
        self._public = config.public_url.rstrip("/") if config.public_url else None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Claim a spool, replay the spools of dead processes, start the writer."""
        import voiceinsights.models  # noqa: F401 - load the wire models now, not on a request

        self.config.parquet_dir.mkdir(parents=True, exist_ok=True)
        writer_box: list[SegmentWriter] = []
        self.spool = Spool(self.config.spool_root, on_commit=lambda n: writer_box[0].notify(n))
        self.writer = SegmentWriter(
            self.spool,
            self.config.parquet_dir,
            self.metrics,
            interval_s=self.config.flush_interval_s,
            after_flush=self.config.after_flush,
        )
        writer_box.append(self.writer)
        self.writer.adopt_orphans()
        self.writer.start()
        spool, writer = self.spool, self.writer
        self.metrics.gauge(
            "queue_depth", lambda: spool.pending, "Requests waiting for the next group commit"
        )
        self.metrics.gauge(
            "spool_backlog_requests",
            lambda: spool.lines - writer.own_lines_written,
            "Spooled requests of this process not yet written to Parquet",
        )
        self.metrics.gauge(
            "spool_commits_total", lambda: spool.commits, "Group commits (one fdatasync each)"
        )
        log.info("collector spool %s, segments in %s", spool.path, self.config.parquet_dir)
        # Everything loaded so far (pandas, pyarrow, the models) lives as long as the
        # process: keep it out of the garbage collector's full passes.
        gc.freeze()

    async def stop(self) -> None:
        """Commit what is queued, write everything to Parquet, remove the empty spool."""
        if self.spool is None or self.writer is None:
            return
        await self.spool.aclose()
        self.writer.stop(drain=True)
        if self.writer.last_error is None:
            self.spool.dir.remove()
        else:
            self.spool.dir.release()

    # -- helpers ------------------------------------------------------------------------
    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: ``--public-url`` + path + query, or what the server saw."""
        host = request.headers.get("host")
        return self._signed_url_of(request.scope, None if host is None else host.encode("latin-1"))

    def _signed_url_of(self, scope: Scope, host: bytes | None) -> str:
        raw_path = scope.get("raw_path")
        path: str = (
            raw_path.decode("latin-1") if raw_path else scope.get("root_path", "") + scope["path"]
        )
        query = scope.get("query_string", b"").decode("latin-1")
        tail = path + ("?" + query if query else "")
        if self._public is not None:
            return self._public + tail
        netloc = host.decode("latin-1") if host else "localhost"
        return f"{scope.get('scheme', 'http')}://{netloc}{tail}"

    async def _receive_body(self, receive: Receive, declared: str | None) -> bytes:
        """The request body, within the size limit (413 beyond it)."""
        limit = self.config.max_body_bytes
        if declared is not None:
            if not declared.isdigit():
                raise _RejectError(400, "content-length", "Content-Length is not a number")
            if int(declared) > limit:
                raise _RejectError(
                    413, "too-large", f"body of {declared} bytes exceeds the limit of {limit} bytes"
                )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _RejectError(413, "too-large", f"body exceeds the limit of {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            elif message["type"] == "http.disconnect":
                raise _RejectError(400, "disconnect", "client disconnected mid-body")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def read_body(self, request: Request, content_types: Sequence[str]) -> bytes:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in content_types:
            raise _RejectError(
                415,
                "content-type",
                f"content type {ctype or 'none'!r} is not accepted here; "
                f"send {' or '.join(content_types)}",
            )
        return await self._receive_body(request.receive, request.headers.get("content-length"))

    async def spool_records(
        self,
        endpoint: str,
        identity: str | None,
        records: list[tuple[str, Any]],
        received_at: datetime,
        rows: list[tuple[str, dict[str, Any]]],
    ) -> None:
        """Durably spool one request's records; ``rows`` (already parsed) go to the writer."""
        line = encode_record("collector:" + endpoint, received_at, identity, records)
        await self._spool_line(endpoint, line, len(records), rows)

    async def _spool_line(
        self, endpoint: str, line: bytes, count: int, rows: list[tuple[str, dict[str, Any]]]
    ) -> None:
        assert self.spool is not None, "collector not started"
        try:
            await self.spool.append(line, (count, rows))
        except OSError as exc:  # disk full, I/O error: not the client's fault; it may retry
            log.error("spool append failed: %s", exc)
            raise _RejectError(
                503, "spool-unavailable", "the collector cannot store data right now"
            ) from None
        self.metrics.add("records_accepted_total", (("endpoint", endpoint),), count)

    def _validate(
        self, endpoint: str, raw: Any, kind: str, received_at: datetime, where: str = ""
    ) -> list[tuple[str, dict[str, Any]]]:
        from voiceinsights.models import parse_record

        try:
            return parse_record(
                raw, kind=kind, source="collector:" + endpoint, received_at=received_at
            )
        except ValidationError as exc:
            name = exc.field or "record"
            raise _RejectError(400, "invalid-field", str(exc), where + name) from None

    # -- handlers -----------------------------------------------------------------------
    async def form_callback(
        self, scope: Scope, receive: Receive, headers: dict[bytes, bytes], kind: str
    ) -> None:
        """Validate, check and durably spool one form-encoded Twilio callback.

        Works on the raw ASGI request (the busiest endpoints skip Starlette's request
        objects); raises :class:`_RejectError` for a bad request.
        """
        endpoint: str = scope["path"]
        ctype = headers.get(b"content-type", b"").decode("latin-1")
        ctype = ctype.split(";")[0].strip().lower()
        if ctype != _FORM:
            raise _RejectError(
                415,
                "content-type",
                f"content type {ctype or 'none'!r} is not accepted here; send {_FORM}",
            )
        declared = headers.get(b"content-length")
        body = await self._receive_body(
            receive, None if declared is None else declared.decode("latin-1")
        )
        try:
            text = body.decode("utf-8")
            pairs = parse_form(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _RejectError(
                400, "malformed-body", f"form body does not decode: {exc}", "body"
            ) from None
        signature = headers.get(b"x-twilio-signature")
        url = self._signed_url_of(scope, headers.get(b"host"))
        self._check_signature(
            lambda tokens: validate_form_signature(
                url, pairs, None if signature is None else signature.decode("latin-1"), tokens
            )
        )
        now = datetime.now(UTC)
        rows = self._validate(endpoint, form_record(pairs), kind, now)
        # The body as received is the record: the writer decodes it again on a replay.
        line = encode_form("collector:" + endpoint, now, kind, text)
        await self._spool_line(endpoint, line, 1, rows)

    async def event_streams(self, request: Request) -> Response:
        endpoint = request.url.path
        body = await self.read_body(request, ("application/json",))
        self._check_signature(
            lambda tokens: validate_body_signature(
                self.signed_url(request), body, request.headers.get("x-twilio-signature"), tokens
            )
        )
        events = self._json(body)
        if not isinstance(events, list):
            raise _RejectError(
                400,
                "invalid-field",
                "an Event Streams delivery is a JSON array of CloudEvents",
                "body",
            )
        self._check_count(len(events))
        now = datetime.now(UTC)
        rows = []
        for i, event in enumerate(events):
            rows.extend(self._validate(endpoint, event, "cloudevent", now, f"[{i}]."))
        await self.spool_records(endpoint, None, [("cloudevent", e) for e in events], now, rows)
        return Response(status_code=204)

    async def sdk_events(self, request: Request) -> Response:
        from voiceinsights.models import detect_kind

        endpoint = request.url.path
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        token = token or request.query_params.get("token")
        try:
            identity = self.tokens.verify(token)
        except SignatureError as exc:
            raise _RejectError(403, "token", str(exc)) from None
        # text/plain is what navigator.sendBeacon sends without a CORS preflight.
        body = await self.read_body(request, ("application/json", "text/plain"))
        doc = self._json(body)
        if isinstance(doc, dict) and "events" in doc:
            doc = doc["events"]
        items = doc if isinstance(doc, list) else [doc]
        self._check_count(len(items))
        now = datetime.now(UTC)
        records: list[tuple[str, Any]] = []
        rows: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(items):
            where = f"[{i}]."
            if not isinstance(item, dict):
                raise _RejectError(
                    400, "invalid-field", f"event {i} is not a JSON object", f"[{i}]"
                )
            try:
                kind = detect_kind(item)
            except ValidationError as exc:
                raise _RejectError(
                    400, "invalid-field", str(exc), where + (exc.field or "type")
                ) from None
            if kind not in _SDK_KINDS:
                raise _RejectError(
                    400,
                    "invalid-field",
                    f"event {i} is a {kind} record, not an SDK envelope",
                    where + "type",
                )
            envelope = dict(item)
            envelope["identity"] = identity  # the token's identity, not the client's claim
            rows.extend(self._validate(endpoint, envelope, kind, now, where))
            records.append((kind, envelope))
        if records:
            await self.spool_records(endpoint, identity, records, now, rows)
        return JSONResponse({"accepted": len(records)}, status_code=202)

    async def healthz(self, request: Request) -> Response:
        spool, writer = self.spool, self.writer
        ok = writer is not None and writer.last_error is None
        return JSONResponse(
            {
                "status": "ok" if ok else "degraded",
                "spool": spool.path.name if spool else None,
                "records_spooled": spool.lines if spool else 0,
                "records_written": writer.records_written if writer else 0,
                "writer_error": writer.last_error if writer else None,
            },
            status_code=200 if ok else 503,
        )

    async def metrics_endpoint(self, request: Request) -> Response:
        return PlainTextResponse(
            self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    async def forwarder_js(self, request: Request) -> Response:
        text = resources.files("voiceinsights").joinpath("static/forwarder.js").read_text()
        return Response(
            text,
            media_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    # -- shared checks ------------------------------------------------------------------
    def _check_signature(self, check: Callable[[Sequence[str]], None]) -> None:
        if not self.config.auth_tokens:
            raise _RejectError(
                403,
                "signature",
                "this collector has no Twilio auth token configured; Twilio webhooks are refused",
            )
        try:
            check(tuple(self.config.auth_tokens))
        except SignatureError as exc:
            raise _RejectError(403, "signature", str(exc)) from None

    def _check_count(self, n: int) -> None:
        if n > self.config.max_batch_records:
            raise _RejectError(
                413,
                "too-many-records",
                f"{n} records in one request exceed the limit of {self.config.max_batch_records}",
            )

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _RejectError(
                400, "malformed-body", f"body is not valid JSON: {exc}", "body"
            ) from None


def _reject(collector: Collector, method: str, path: str, rej: _RejectError) -> JSONResponse:
    """The answer to a refused request (counted and logged, never stored)."""
    collector.metrics.inc("rejections_total", endpoint=path, reason=rej.reason)
    log.warning("rejected %s %s: %d %s", method, path, rej.status, rej.message)
    body: dict[str, Any] = {"error": rej.message, "reason": rej.reason}
    if rej.field is not None:
        body["field"] = rej.field
    return JSONResponse(body, status_code=rej.status)


def _wrap(
    collector: Collector, handler: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    metrics = collector.metrics

    async def endpoint(request: Request) -> Response:
        path = request.url.path
        try:
            response = await handler(request)
        except _RejectError as rej:
            response = _reject(collector, request.method, path, rej)
        metrics.inc("requests_total", endpoint=path, status=str(response.status_code))
        return response

    return endpoint


def _first_headers(scope: Scope) -> dict[bytes, bytes]:
    """Request headers by (lower-case) name; the first of a repeated header wins."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name not in headers:
            headers[name] = value
    return headers


_VARY_ORIGIN: Final = (b"vary", b"Origin")


class _FormEndpoint:
    """ASGI app of one form-encoded Twilio callback endpoint.

    Routed like any endpoint, and also called directly by :class:`_FastForms`. Answers
    204 once the callback is spooled, or the rejection; counts both.
    """

    def __init__(self, collector: Collector, path: str, kind: str) -> None:
        self.collector = collector
        self.path = path
        self.kind = kind
        self._ok_key = (("endpoint", path), ("status", "204"))

    async def __call__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, bytes] | None = None,
        vary: bool = False,
    ) -> None:
        collector = self.collector
        try:
            await collector.form_callback(
                scope, receive, headers or _first_headers(scope), self.kind
            )
        except _RejectError as rej:
            response = _reject(collector, scope["method"], self.path, rej)
            if vary:
                response.headers["Vary"] = "Origin"
            collector.metrics.inc("requests_total", endpoint=self.path, status=str(rej.status))
            await response(scope, receive, send)
            return
        collector.metrics.add("requests_total", self._ok_key)
        headers_out = [_VARY_ORIGIN] if vary else []
        await send({"type": "http.response.start", "status": 204, "headers": headers_out})
        await send({"type": "http.response.body", "body": b""})


class _FastForms:
    """Middleware that hands Twilio's form callbacks straight to their endpoint.

    Status callbacks are the collector's busiest requests: a plain ``POST`` to one of
    their exact paths without an ``Origin`` header (Twilio sends none) skips CORS, the
    exception middleware, routing and Starlette's request objects. The answers are the
    same as on the routed path (including the ``Vary: Origin`` CORS adds); everything
    else, and errors raised here, go through the usual stack.
    """

    def __init__(self, app: ASGIApp, endpoints: dict[str, _FormEndpoint]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self.endpoints.get(scope["path"])
            if endpoint is not None:
                headers = _first_headers(scope)
                if b"origin" not in headers:
                    await endpoint(scope, receive, send, headers, vary=True)
                    return
        await self.app(scope, receive, send)


def create_app(config: CollectorConfig) -> Starlette:
    """Build the collector's ASGI app; the spool and writer start with its lifespan.

    The app's ``state.collector`` is the :class:`Collector`.
    """
    collector = Collector(config)

    def route(path: str, fn: Callable[[Request], Awaitable[Response]], method: str) -> Route:
        return Route(path, _wrap(collector, fn), methods=[method])

    forms = {p: _FormEndpoint(collector, p, kind) for p, kind in _FORM_ENDPOINTS.items()}
    routes = [
        *(Route(p, forms[p], methods=["POST"]) for p in _FORM_ENDPOINTS),
        route("/twilio/events", collector.event_streams, "POST"),
        route("/sdk/events", collector.sdk_events, "POST"),
        route("/sdk/forwarder.js", collector.forwarder_js, "GET"),
        route("/healthz", collector.healthz, "GET"),
        route("/metrics", collector.metrics_endpoint, "GET"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        reason = {404: "not-found", 405: "method-not-allowed"}.get(status, "http-error")
        message = {
            404: f"no such endpoint: {request.url.path}",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(status, str(getattr(exc, "detail", "error")))
        collector.metrics.inc("rejections_total", endpoint="other", reason=reason)
        collector.metrics.inc("requests_total", endpoint="other", status=str(status))
        headers = getattr(exc, "headers", None)
        return JSONResponse(
            {"error": message, "reason": reason}, status_code=status, headers=headers
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path, exc_info=exc)
        collector.metrics.inc("requests_total", endpoint=request.url.path, status="500")
        return JSONResponse({"error": "internal error", "reason": "internal"}, status_code=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        collector.start()
        try:
            yield
        finally:
            await collector.stop()

    middleware = [
        Middleware(_FastForms, endpoints=forms),
        Middleware(
            CORSMiddleware,
            allow_origins=list(config.allow_origins),
            allow_methods=["POST", "GET"],
            allow_headers=["authorization", "content-type"],
            max_age=600,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.collector = collector
    return app
