"""Self-contained HTML documents: inline CSS, plotly.js inlined once, no network needed."""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = ["CSS", "HtmlReport", "badges", "format_value", "key_value_table", "table_html"]

CSS: Final = """
:root { --fg:#1f2937; --muted:#6b7280; --line:#e5e7eb; --accent:#2563eb; }
* { box-sizing: border-box; }
body { font-family: Inter, 'Segoe UI', Helvetica, Arial, sans-serif; color: var(--fg);
       margin: 0; background: #f9fafb; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
       min-height: 100vh; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
p.sub { color: var(--muted); margin: 0 0 16px; }
table.vi { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
table.vi th, table.vi td { padding: 4px 10px; border-bottom: 1px solid var(--line);
       text-align: left; vertical-align: top; }
table.vi thead th { background: #f3f4f6; }
table.vi.kv th { color: var(--muted); font-weight: 500; }
.badge { display: inline-block; padding: 1px 8px; margin: 0 4px 4px 0; border-radius: 10px;
         font-size: 12px; background: #eef2ff; color: #3730a3; }
.badge.bad { background: #fee2e2; color: #991b1b; }
.badge.ok { background: #dcfce7; color: #166534; }
.figure { margin: 8px 0 16px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
.cols { display: flex; gap: 48px; flex-wrap: wrap; }
.cols .col { flex: 1 1 360px; }
pre.tree { font-size: 13px; background: #f9fafb; padding: 8px 12px; border-radius: 6px; }
"""

# Badge styles inline too, for notebooks.
_BADGE: Final = (
    "display:inline-block;padding:1px 8px;margin:0 4px 4px 0;border-radius:10px;font-size:12px;"
)
_OK: Final = "background:#dcfce7;color:#166534;"
_BAD: Final = "background:#fee2e2;color:#991b1b;"
_TAG: Final = "background:#eef2ff;color:#3730a3;"

_BAD_TAGS: Final = frozenset(
    {
        "high_jitter",
        "high_packet_loss",
        "high_latency",
        "low_mos",
        "silence",
        "ice_failure",
        "high_pdd",
        "degraded",
        "failed",
    }
)


def format_value(value: Any, digits: int = 2) -> str:
    """A cell value as short text: rounded floats, ISO times, '–' for missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:.{digits}f}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        if pd.isna(value):
            return "–"
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(format_value(v, digits) for v in value)
    try:
        if pd.isna(value):
            return "–"
    except (TypeError, ValueError):
        pass
    return str(value)


def key_value_table(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of labels and values (escaped)."""
    # Inline styles: a notebook shows this without the report's style sheet.
    rows = "".join(
        f"<tr><th style='text-align:left;font-weight:500;color:#6b7280;padding:2px 10px 2px 0'>"
        f"{html.escape(k)}</th><td style='text-align:left;padding:2px 0'>"
        f"{html.escape(format_value(v))}</td></tr>"
        for k, v in pairs
    )
    return f"<table class='vi kv'>{rows}</table>"


def table_html(frame: pd.DataFrame, *, max_rows: int = 200, digits: int = 2) -> str:
    """A DataFrame as an escaped HTML table (first ``max_rows`` rows)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_value(v, digits))}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False)
    )
    more = (
        f"<p class='sub'>showing {max_rows} of {len(frame)} rows</p>"
        if len(frame) > max_rows
        else ""
    )
    return f"<table class='vi'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def badges(labels: Sequence[str]) -> str:
    """Tags as coloured badges (impairment tags red)."""
    if not labels:
        return f"<span class='badge ok' style='{_BADGE}{_OK}'>no tags</span>"
    return "".join(
        f"<span class='badge{' bad' if t in _BAD_TAGS else ''}' "
        f"style='{_BADGE}{_BAD if t in _BAD_TAGS else _TAG}'>{html.escape(t)}</span>"
        for t in labels
    )


class HtmlReport:
    """An HTML document assembled from sections, written as one self-contained file.

    Figures are embedded as plotly divs; the plotly.js library is inlined once in the
    document head, so the file opens in a browser with no network at all.

    Examples
    --------
    >>> doc = HtmlReport("Probe report")
    >>> doc.heading("Runs")
    >>> doc.paragraph("No runs yet.")
    >>> "<h2>Runs</h2>" in doc.to_html()
    True
    """

    def __init__(self, title: str, subtitle: str | None = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self._parts: list[str] = []
        self._figures = 0

    def heading(self, text: str) -> None:
        """A section heading."""
        self._parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text (escaped)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def key_values(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """A label/value table."""
        self._parts.append(key_value_table(pairs))

    def table(self, frame: pd.DataFrame, *, max_rows: int = 200) -> None:
        """A DataFrame as a table."""
        self._parts.append(table_html(frame, max_rows=max_rows))

    def badges(self, labels: Sequence[str]) -> None:
        """Tags as badges."""
        self._parts.append(f"<p>{badges(labels)}</p>")

    def columns(self, *sections: tuple[str, str]) -> None:
        """Sections side by side: each ``(heading, markup made by this package)``."""
        cells = "".join(
            f"<div class='col'><h2>{html.escape(title)}</h2>{markup}</div>"
            for title, markup in sections
        )
        self._parts.append(f"<div class='cols'>{cells}</div>")

    def raw(self, markup: str) -> None:
        """Trusted markup made by this package (never user text)."""
        self._parts.append(markup)

    def figure(self, fig: go.Figure) -> None:
        """A plotly figure (drawn by the inlined plotly.js)."""
        self._figures += 1
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=f"vi-figure-{self._figures}",
            config={"displaylogo": False, "responsive": True},
        )
        self._parts.append(f"<div class='figure'>{div}</div>")

    @property
    def figure_count(self) -> int:
        """How many figures the document holds."""
        return self._figures

    def to_html(self) -> str:
        """The whole document as a string."""
        script = ""
        if self._figures:
            from plotly.offline import get_plotlyjs

            script = f"<script type='text/javascript'>{get_plotlyjs()}</script>"
        from voiceinsights import __version__

        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        sub = f"<p class='sub'>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(self.title)}</title><style>{CSS}</style>{script}</head>"
            f"<body><main><h1>{html.escape(self.title)}</h1>{sub}"
            + "".join(self._parts)
            + f"<footer>voiceinsights {html.escape(__version__)} · generated {stamp}</footer>"
            "</main></body></html>\n"
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the document to ``path`` (parent folders are created) and return it."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(self.to_html(), encoding="utf-8")
        tmp.replace(out)
        return out
