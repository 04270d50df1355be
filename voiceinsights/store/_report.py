"""What a write or an ingest did: counts per table and kind, and every rejection."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IngestReport", "KindCounts", "Rejection", "WriteResult"]


@dataclass
class WriteResult:
    """Outcome of writing rows to one table.

    ``inserted`` new natural keys, ``updated`` stored versions replaced by a preferred one
    (newer REST resource, more complete summary), ``duplicates`` rows whose key was already
    stored (or repeated in the input) and were skipped.
    """

    table: str
    inserted: int = 0
    duplicates: int = 0
    updated: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.table,
            self.inserted + other.inserted,
            self.duplicates + other.duplicates,
            self.updated + other.updated,
        )


@dataclass(frozen=True)
class Rejection:
    """A record that was not stored: where it came from and why."""

    source: str
    line: int | None
    kind: str | None
    field: str | None
    reason: str
    raw: str | None = None

    def __str__(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        what = f" field {self.field!r}" if self.field else ""
        kind = f" [{self.kind}]" if self.kind else ""
        return f"{where}{kind}{what}: {self.reason}"

    def row(self) -> dict[str, Any]:
        """The ``rejected`` table row of this rejection."""
        import datetime as dt

        raw = self.raw
        if raw is not None and len(raw) > 65536:
            raw = raw[:65536]
        return {
            "ingest_source": self.source,
            "line": self.line,
            "kind": self.kind,
            "field": self.field,
            "reason": self.reason,
            "raw": raw,
            "rejected_at": dt.datetime.now(dt.UTC),
        }


@dataclass
class KindCounts:
    """Per kind: records read, rows inserted, duplicate rows skipped, records rejected."""

    records: int = 0
    inserted: int = 0
    duplicates: int = 0
    updated: int = 0
    rejected: int = 0


@dataclass
class IngestReport:
    """What an ingest did, per kind and per table, with every rejected record."""

    files: list[str] = field(default_factory=list)
    kinds: dict[str, KindCounts] = field(default_factory=dict)
    tables: dict[str, WriteResult] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    #: How many of ``rejected`` are already in the store's ``rejected`` table.
    saved: int = field(default=0, repr=False, compare=False)

    # -- building ----------------------------------------------------------------------
    def kind(self, name: str) -> KindCounts:
        return self.kinds.setdefault(name, KindCounts())

    def add_write(self, result: WriteResult, kind: str | None = None) -> None:
        prev = self.tables.get(result.table)
        self.tables[result.table] = result if prev is None else prev + result
        if kind is not None:
            k = self.kind(kind)
            k.inserted += result.inserted
            k.duplicates += result.duplicates
            k.updated += result.updated

    def reject(self, rejection: Rejection) -> None:
        self.rejected.append(rejection)
        self.kind(rejection.kind or "unknown").rejected += 1

    def merge(self, other: IngestReport) -> None:
        self.files.extend(f for f in other.files if f not in self.files)
        for name, c in other.kinds.items():
            k = self.kind(name)
            k.records += c.records
            k.inserted += c.inserted
            k.duplicates += c.duplicates
            k.updated += c.updated
            k.rejected += c.rejected
        for r in other.tables.values():
            self.add_write(r)
        self.rejected.extend(other.rejected)

    # -- totals ------------------------------------------------------------------------
    @property
    def inserted(self) -> int:
        """Rows inserted into all tables."""
        return sum(r.inserted for r in self.tables.values())

    @property
    def duplicates(self) -> int:
        """Rows skipped because their natural key was already stored."""
        return sum(r.duplicates for r in self.tables.values())

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (the CLI's ``--json`` output)."""
        return {
            "files": list(self.files),
            "kinds": {k: vars(v).copy() for k, v in sorted(self.kinds.items())},
            "tables": {
                t: {"inserted": r.inserted, "duplicates": r.duplicates, "updated": r.updated}
                for t, r in sorted(self.tables.items())
            },
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": [
                {
                    "source": r.source,
                    "line": r.line,
                    "kind": r.kind,
                    "field": r.field,
                    "reason": r.reason,
                }
                for r in self.rejected
            ],
        }

    # -- display -----------------------------------------------------------------------
    def _rows(self) -> list[tuple[str, int, int, int, int]]:
        return [
            (name, c.records, c.inserted, c.duplicates, c.rejected)
            for name, c in sorted(self.kinds.items())
        ]

    def __str__(self) -> str:
        head = ("kind", "records", "inserted", "duplicates", "rejected")
        rows = [tuple(str(v) for v in r) for r in self._rows()]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        fmt = "  ".join(
            "{:<%d}" % w if i == 0 else "{:>%d}" % w  # noqa: UP031
            for i, w in enumerate(widths)
        )
        lines = [
            f"ingested {len(self.files)} file(s): {self.inserted} rows inserted, "
            f"{self.duplicates} duplicates skipped, {len(self.rejected)} rejected",
            fmt.format(*head),
        ]
        lines += [fmt.format(*r) for r in rows]
        if self.rejected:
            lines.append("rejected:")
            shown = self.rejected[:20]
            lines += [f"  {r}" for r in shown]
            if len(self.rejected) > len(shown):
                lines.append(
                    f"  ... and {len(self.rejected) - len(shown)} more "
                    "(all kept in the `rejected` table)"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        kinds = ", ".join(
            f"{k}: +{c.inserted}/{c.duplicates} dup/{c.rejected} rej"
            for k, c in sorted(self.kinds.items())
        )
        return (
            f"IngestReport(files={len(self.files)}, inserted={self.inserted}, "
            f"duplicates={self.duplicates}, rejected={len(self.rejected)}; {kinds})"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(
            f"<th>{h}</th>" for h in ("kind", "records", "inserted", "duplicates", "rejected")
        )
        body = "".join(
            "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r) + "</tr>" for r in self._rows()
        )
        out = (
            f"<p>Ingested {len(self.files)} file(s): <b>{self.inserted}</b> rows inserted, "
            f"{self.duplicates} duplicates skipped, {len(self.rejected)} rejected.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
        if self.rejected:
            items = "".join(f"<li>{e(str(r))}</li>" for r in self.rejected[:50])
            out += f"<details><summary>Rejected records</summary><ul>{items}</ul></details>"
        return out
