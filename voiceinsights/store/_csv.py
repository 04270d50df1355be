"""CSV ingest: status callbacks as exported form fields, one per row."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceinsights._exceptions import ValidationError
from voiceinsights.schema import get_table
from voiceinsights.store._bulk import line_blocks
from voiceinsights.store._bulk_csv import map_callbacks, parse_block, read_header
from voiceinsights.store._ingest import (
    _RAW_MAX,
    COMMIT_BYTES,
    _handle,
    _open,
    _Writer,
    ingest_record_iter,
)
from voiceinsights.store._report import IngestReport, Rejection
from voiceinsights.store._write import transaction, write_arrow

if TYPE_CHECKING:
    from voiceinsights._progress import ProgressTask
    from voiceinsights.store._store import Store

__all__ = ["ingest_csv"]


def _is_callbacks(header: list[str]) -> bool:
    from voiceinsights.models import detect_kind

    if "type" in header and "data" in header:
        return False
    try:
        return detect_kind(dict.fromkeys(header, "")) == "call-status"
    except ValidationError:
        return False


def _dict_rows(
    lines: Iterable[str], header: list[str] | None, first_line: int, source: str,
    report: IngestReport,
) -> Iterator[tuple[int | None, Any]]:  # fmt: skip
    """Rows of CSV text as ``(line, fields)`` with physical line numbers."""
    reader = csv.DictReader(lines, fieldnames=header)
    try:
        for row in reader:
            line = first_line + reader.line_num - 1
            extra = row.pop(None, None)
            if extra:
                reason = f"{len(extra)} more values than header fields"
                report.reject(Rejection(source, line, None, None, reason, json.dumps(extra)))
                continue
            yield line, {k: v for k, v in row.items() if v is not None}
    except csv.Error as exc:
        line = first_line + reader.line_num - 1
        report.reject(Rejection(source, line, None, None, f"unreadable CSV: {exc}"))


def _record_path(store: Store, path: Path, report: IngestReport, kind: str | None) -> None:
    source = str(path)
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            rows = _dict_rows(text, None, 1, source, report)
            ingest_record_iter(store, rows, source=source, kind=kind, report=report)
        except UnicodeDecodeError as exc:
            report.reject(Rejection(source, None, None, None, f"not UTF-8 text: {exc}"))


def ingest_csv(
    store: Store,
    path: Path,
    report: IngestReport,
    kind: str | None,
    task: ProgressTask | None = None,
) -> None:
    """Ingest a CSV file; call-progress callbacks take the SQL path (see ``_bulk_csv``)."""
    with _open(path) as fh:
        head = fh.readline()
    try:
        header = read_header(head) if head.strip() else []
    except (UnicodeDecodeError, csv.Error):
        header = []
    if kind not in (None, "call-status") or not header or not _is_callbacks(header):
        _record_path(store, path, report, kind)
        return
    with transaction(store.connection):
        _bulk(store, path, header, report, kind, task)


def _bulk(
    store: Store,
    path: Path,
    header: list[str],
    report: IngestReport,
    kind: str | None,
    task: ProgressTask | None,
) -> None:
    source = str(path)
    conn = store.connection
    writer = _Writer(store, report, source, in_tx=True)
    table = get_table("call_events")
    pending = 0
    with _open(path) as fh:
        fh.readline()  # the header
        for first, block in line_blocks(fh):
            first_line = first + 1
            parsed = parse_block(header, first_line, block)
            if parsed is None:
                for line, record in _block_records(block, header, first_line, source, report):
                    _handle(writer, line, record, kind="call-status", received_at=None)
            else:
                rows, _ = parsed
                rel, leftovers = map_callbacks(conn, rows, header, source, writer.now)
                result = write_arrow(conn, table, rel)
                report.add_write(result, "call-status")
                report.kind("call-status").records += (
                    result.inserted + result.duplicates + result.updated
                )
                conn.execute("DROP TABLE IF EXISTS _vi_csv_mapped")
                for line, record in leftovers:
                    _handle(writer, line, record, kind="call-status", received_at=None)
            if task is not None:
                task.advance(len(block))
            pending += len(block)
            if pending >= COMMIT_BYTES:
                writer.flush()
                conn.execute("COMMIT")
                conn.execute("BEGIN TRANSACTION")
                pending = 0
    writer.flush()


def _block_records(
    block: bytes, header: list[str], first_line: int, source: str, report: IngestReport
) -> Iterator[tuple[int | None, Any]]:
    """Record-by-record reading of one block (quoted line breaks, odd rows, bad UTF-8)."""
    lines = []
    for i, piece in enumerate(block.splitlines(keepends=True)):
        try:
            lines.append(piece.decode("utf-8"))
        except UnicodeDecodeError:
            text = piece[:_RAW_MAX].decode("utf-8", "replace")
            report.reject(Rejection(source, first_line + i, None, None, "line is not UTF-8 text",
                                    text))  # fmt: skip
            lines.append("\n")  # keeps the line numbering
    yield from _dict_rows(lines, header, first_line, source, report)
