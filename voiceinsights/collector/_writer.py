"""Background writer: spooled records -> canonical rows -> Parquet segments -> checkpoint.

The writer runs in its own thread. Every ``interval_s`` (sooner when enough has been
spooled) it reads the committed lines after its checkpoint, re-parses each record with
:func:`voiceinsights.models.parse_record`, writes one Parquet segment per table with
:func:`voiceinsights.store.write_segment` (hive-partitioned, written to a temporary name and
renamed, unique file names so several processes can share one directory), fsyncs them and
only then advances the checkpoint. A crash between the two writes the same rows again on
replay; the natural keys make that harmless.

It also adopts the spool directories of collector processes that died (their lock is
free): it replays them to the end and deletes them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring as _json_str  # JSON string, not ASCII-escaped
from pathlib import Path
from typing import Any

from voiceinsights._exceptions import ValidationError
from voiceinsights.collector._form import form_record, parse_form
from voiceinsights.collector._metrics import Metrics
from voiceinsights.collector._spool import (
    Position,
    Spool,
    claim_orphans,
    read_checkpoint,
    read_lines,
    segment_files,
    write_checkpoint,
)

__all__ = ["SegmentWriter", "encode_form", "encode_record", "records_to_rows"]

log = logging.getLogger("voiceinsights.collector")

#: What the collector hands the writer with a spool line: (number of records, their rows).
Handoff = tuple[int, list[tuple[str, dict[str, Any]]]]

_RAW_LIMIT = 64 * 1024


def encode_record(
    endpoint: str,
    received_at: datetime,
    identity: str | None,
    records: Iterable[tuple[str, Any]],
) -> bytes:
    """One spool line: the endpoint, receive time, caller identity and raw records.

    ``records`` are ``(kind, raw)`` pairs exactly as received (form fields as a dict, JSON
    objects as parsed).
    """
    doc = {
        "e": endpoint,
        "t": received_at.isoformat(),
        "i": identity,
        "r": [[kind, raw] for kind, raw in records],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def encode_form(endpoint: str, received_at: datetime, kind: str, body: str) -> bytes:
    """One spool line holding a form-encoded callback's body exactly as received.

    The same JSON as :func:`encode_record` writes for a document
    ``{"e": endpoint, "t": ..., "i": null, "f": [kind, body]}``, put together directly.
    """
    return (
        f'{{"e":{_json_str(endpoint)},"t":"{received_at.isoformat()}","i":null,'
        f'"f":[{_json_str(kind)},{_json_str(body)}]}}'
    ).encode()


def records_to_rows(
    lines: Iterable[bytes],
    parsed: Sequence[Handoff | None] | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], int]:
    """Turn spool lines into canonical rows by table.

    ``parsed`` may give, line by line, the ``(records, rows)`` the collector already
    parsed when it accepted the request; those lines are not parsed again.

    Returns
    -------
    rows : dict
        Table name -> rows.
    rejected : list of dict
        ``rejected`` rows for records that no longer parse (kept, not dropped).
    records : int
        Number of records read.
    """
    from voiceinsights.models import parse_record

    by_table: dict[str, list[dict[str, Any]]] = {}
    rejected: list[dict[str, Any]] = []
    count = 0
    now = datetime.now(UTC)
    for i, line in enumerate(lines):
        done = parsed[i] if parsed is not None else None
        if done is not None:
            count += done[0]
            for table, row in done[1]:
                by_table.setdefault(table, []).append(row)
            continue
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            endpoint = str(doc["e"])
            received_at = datetime.fromisoformat(doc["t"])
            if "f" in doc:  # a form body (encode_form)
                kind, body = doc["f"]
                items = [(str(kind), form_record(parse_form(str(body))))]
            else:
                items = doc["r"]
        except (ValueError, KeyError, TypeError) as exc:  # pragma: no cover - our own format
            rejected.append(_rejected("spool", 0, None, None, f"bad spool line: {exc}", line, now))
            continue
        for index, (kind, raw) in enumerate(items):
            count += 1
            try:
                rows = parse_record(raw, kind=kind, source=endpoint, received_at=received_at)
            except ValidationError as exc:
                rejected.append(_rejected(endpoint, index + 1, kind, exc.field, str(exc), raw, now))
                continue
            for table, row in rows:
                by_table.setdefault(table, []).append(row)
    return by_table, rejected, count


def _rejected(
    source: str,
    line: int,
    kind: str | None,
    field: str | None,
    reason: str,
    raw: Any,
    now: datetime,
) -> dict[str, Any]:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else json.dumps(raw)
    return {
        "ingest_source": source,
        "line": line,
        "kind": kind,
        "field": field,
        "reason": reason,
        "raw": text[:_RAW_LIMIT],
        "rejected_at": now,
    }


class SegmentWriter:
    """Move spooled records into Parquet segments under ``parquet_root``.

    Parameters
    ----------
    spool : Spool
        This process's spool.
    parquet_root : Path
        Directory of the hive-partitioned segments (``<table>/date=YYYY-MM-DD/*.parquet``).
    metrics : Metrics
        Where rows written, failures and flush latencies are counted.
    interval_s : float
        Longest time a committed record waits before it is written.
    wake_bytes : int
        Committed bytes after which the writer wakes early.
    orphan_interval_s : float
        How often to look for spool directories of dead processes.
    after_flush : callable, optional
        Called after each flush that wrote rows (for example periodic compaction).
    """

    def __init__(
        self,
        spool: Spool,
        parquet_root: Path,
        metrics: Metrics,
        *,
        interval_s: float = 1.0,
        wake_bytes: int = 4 << 20,
        orphan_interval_s: float = 30.0,
        after_flush: Callable[[], None] | None = None,
    ) -> None:
        self.spool = spool
        self.root = Path(parquet_root)
        self.metrics = metrics
        self.interval_s = interval_s
        self.wake_bytes = wake_bytes
        self.orphan_interval_s = orphan_interval_s
        self.after_flush = after_flush
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._unflushed = 0
        self._thread: threading.Thread | None = None
        self._io_lock = threading.Lock()
        #: Records written by this writer (own spool and adopted ones).
        self.records_written = 0
        #: Spool lines of this process's own spool written so far.
        self.own_lines_written = 0
        self.last_error: str | None = None

    # -- the thread ---------------------------------------------------------------------
    def notify(self, nbytes: int) -> None:
        """Tell the writer ``nbytes`` were committed (called by the spool)."""
        self._unflushed += nbytes
        if self._unflushed >= self.wake_bytes:
            self._wake.set()

    def start(self) -> None:
        """Start the writer thread (adopting orphaned spools first, in the thread)."""
        self._thread = threading.Thread(target=self._run, name="vi-writer", daemon=True)
        self._thread.start()

    def stop(self, *, drain: bool = True) -> None:
        """Stop the thread; with ``drain`` write everything committed first."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if drain:
            self.flush()

    def _run(self) -> None:
        next_orphans = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_orphans:
                self.adopt_orphans()
                next_orphans = time.monotonic() + self.orphan_interval_s
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.flush()
                self.last_error = None
            except Exception as exc:  # keep the spool; retry next round
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("writer flush failed; records stay in the spool")

    # -- work ---------------------------------------------------------------------------
    def flush(self) -> int:
        """Write everything this process has committed; return the records written."""
        with self._io_lock:
            self._unflushed = 0
            return self._drain(self.spool.path, self.spool.committed)

    def adopt_orphans(self) -> int:
        """Replay and delete spool directories whose process died; return records written."""
        total = 0
        root = self.spool.path.parent
        for orphan in claim_orphans(root, exclude=self.spool.path):
            try:
                with self._io_lock:
                    n = self._drain(orphan.path, None)
                log.info("replayed %d records from spool %s", n, orphan.path.name)
                total += n
                orphan.remove()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("could not replay spool %s; will retry", orphan.path)
                orphan.release()
        return total

    def _drain(self, path: Path, end: Position | None) -> int:
        start = read_checkpoint(path)
        written = 0
        pos = start
        own = path == self.spool.path
        for lines, after in read_lines(path, start, end):
            t0 = time.perf_counter()
            parsed = self._handoffs(lines, after) if own and lines else None
            n = self._write(lines, parsed) if lines else 0
            write_checkpoint(path, after)
            pos = after
            if lines:
                self.metrics.observe_flush(time.perf_counter() - t0)
            written += n
            if own:
                self.own_lines_written += len(lines)
                self.spool.discard_handoff(after)
        if pos.segment > start.segment:
            for number, seg in segment_files(path):
                if number < pos.segment:
                    seg.unlink(missing_ok=True)
        if written and self.after_flush is not None:
            self.after_flush()
        return written

    def _handoffs(self, lines: list[bytes], after: Position) -> list[Handoff | None]:
        """The rows the collector parsed for these lines, where it still has them."""
        ends = []
        end = after.offset
        for line in reversed(lines):
            ends.append(end)
            end -= len(line) + 1
        ends.reverse()
        return [self.spool.take_handoff(Position(after.segment, e)) for e in ends]

    def _write(self, lines: list[bytes], parsed: list[Handoff | None] | None = None) -> int:
        from voiceinsights.store._parquet import write_segment

        by_table, rejected, count = records_to_rows(lines, parsed)
        if rejected:
            by_table.setdefault("rejected", []).extend(rejected)
            self.metrics.inc("records_failed_total", len(rejected))
        for table, rows in by_table.items():
            # write_segment fsyncs each file and its folder before it returns.
            write_segment(self.root, table, rows)
            self.metrics.inc("rows_written_total", len(rows), table=table)
        self.records_written += count
        return count
