"""Column and table definitions, and the compact text form the table modules use.

Each table lists its columns as rows of ``name | type | unit | source | description``
(a line starting with ``>`` continues the previous description), so the definitions read
like the nomenclature they generate. Rows starting with ``@`` include a shared group of
columns (``@sample_fields``, ``@edge_metrics``, ``@provenance``, ``@received``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "Table", "parse_columns", "table"]


@dataclass(frozen=True)
class Column:
    """One column: its DuckDB type, unit and the wire field it comes from."""

    name: str
    type: str
    doc: str
    unit: str = ""
    source: str = ""


@dataclass(frozen=True)
class Table:
    """A canonical table.

    ``key`` lists the natural-key columns that make ingestion idempotent; ``time_column``
    is the column Parquet exports partition by (as ``date=YYYY-MM-DD``).
    """

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str | None
    extra: bool = True
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.columns)
        object.__setattr__(self, "column_names", names)
        missing = [k for k in self.key if k not in names]
        if missing:  # pragma: no cover - a programming error caught at import
            raise ValueError(f"{self.name}: key columns {missing} are not columns")
        if len(set(names)) != len(names):  # pragma: no cover - likewise
            raise ValueError(f"{self.name}: duplicate column names")

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def parse_columns(text: str) -> tuple[Column, ...]:
    """Parse the ``name | type | unit | source | description`` rows of a table."""
    columns: list[Column] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            last = columns[-1]
            doc = f"{last.doc} {line[1:].strip()}".strip()
            columns[-1] = Column(last.name, last.type, doc, last.unit, last.source)
        elif line.startswith("@"):
            columns.extend(_GROUPS[line[1:]])
        else:
            name, type_, unit, source, doc = (part.strip() for part in line.split("|", 4))
            columns.append(Column(name, type_, doc, unit, source))
    return tuple(columns)


def table(
    name: str,
    doc: str,
    *,
    key: tuple[str, ...],
    time_column: str | None,
    columns: str,
    extra: bool = True,
) -> Table:
    """Build a :class:`Table` from its compact text form."""
    return Table(name, doc, parse_columns(columns), key, time_column, extra)


# The per-second SDK sample fields, shared by `samples` and `probe_samples`.
_SAMPLE_FIELDS = """
    timestamp              | TIMESTAMPTZ | UTC      | timestamp (ms epoch)       | Sample time
    audio_input_level      | INTEGER     | 0..32767 | audioInputLevel            | Microphone level
    audio_output_level     | INTEGER     | 0..32767 | audioOutputLevel           | Speaker level
    bytes_received         | BIGINT      | bytes    | bytesReceived              | Bytes received
    > this second
    bytes_sent             | BIGINT      | bytes    | bytesSent                  | Bytes sent this
    > second
    packets_received       | BIGINT      | packets  | packetsReceived            | Packets received
    > this second
    packets_sent           | BIGINT      | packets  | packetsSent                | Packets sent
    > this second
    packets_lost           | BIGINT      | packets  | packetsLost                | Inbound packets
    > lost this second
    packets_lost_pct       | DOUBLE      | %        | packetsLostFraction        | Inbound loss
    > this second (the SDK's packetsLostFraction is a percentage despite its name)
    jitter_ms              | DOUBLE      | ms       | jitter                     | Inbound
    > interarrival jitter
    rtt_ms                 | DOUBLE      | ms       | rtt                        | Round-trip time
    > (carried forward when missing)
    mos                    | DOUBLE      | 1..4.5   | mos                        | MOS by the Voice
    > SDK formula; null on a call's first sample
    codec_name             | VARCHAR     |          | codecName                  | Audio codec
    > (opus, pcmu)
    total_bytes_received   | BIGINT      | bytes    | totals.bytesReceived       | Cumulative bytes
    > received
    total_bytes_sent       | BIGINT      | bytes    | totals.bytesSent           | Cumulative bytes
    > sent
    total_packets_received | BIGINT      | packets  | totals.packetsReceived     | Cumulative
    > packets received
    total_packets_sent     | BIGINT      | packets  | totals.packetsSent         | Cumulative
    > packets sent
    total_packets_lost     | BIGINT      | packets  | totals.packetsLost         | Cumulative
    > inbound packets lost
    total_packets_lost_pct | DOUBLE      | %        | totals.packetsLostFraction | Cumulative
    > inbound loss (100 before any packet)
"""

# Where a record came from; every table fed from the wire carries these.
_PROVENANCE = """
    received_at   | TIMESTAMPTZ | UTC |  | When voiceinsights received the record
    ingest_source | VARCHAR     |     |  | Where the record came from: file path, collector
    > endpoint or API resource
    extra         | JSON        |     |  | Wire fields not modelled as columns, kept verbatim
"""


def _edge_metrics() -> tuple[Column, ...]:
    # Insights summaries nest metrics per edge and direction; the flattened columns repeat
    # the same six fields for inbound and outbound.
    fields = (
        ("codec", "VARCHAR", "", "codec_name", "Codec on the {d} stream of metrics_edge"),
        ("jitter_avg_ms", "DOUBLE", "ms", "jitter.avg", "Average {d} jitter"),
        ("jitter_max_ms", "DOUBLE", "ms", "jitter.max", "Maximum {d} jitter"),
        ("packets_received", "BIGINT", "packets", "packets_received", "{d} packets received"),
        ("packets_lost", "BIGINT", "packets", "packets_lost", "{d} packets lost"),
        ("loss_pct", "DOUBLE", "%", "packets_loss_percentage", "{d} packet loss"),
    )
    return tuple(
        Column(f"{d}_{name}", type_, doc.format(d=d), unit, f"<edge>.metrics.{d}.{source}")
        for d in ("inbound", "outbound")
        for name, type_, unit, source, doc in fields
    )


_GROUPS: dict[str, tuple[Column, ...]] = {}
_GROUPS["sample_fields"] = parse_columns(_SAMPLE_FIELDS)
_GROUPS["provenance"] = parse_columns(_PROVENANCE)
_GROUPS["received"] = _GROUPS["provenance"][:2]
_GROUPS["edge_metrics"] = _edge_metrics()
