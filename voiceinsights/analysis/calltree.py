"""Call trees: parent and child legs, their roots and depths, grouped by conference.

Each Twilio call leg is a Call resource; a leg created by ``<Dial>`` names its creator in
``parent_call_sid``. :func:`build` turns status-callback rows (``call_events``), Calls REST
rows (``rest_calls``) or the store's ``calls`` view into one row per leg with its root,
depth and path, and returns a :class:`CallTree` that renders as text and as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import pandas as pd

from voiceinsights._exceptions import AnalysisInputError, CallTreeCycleError
from voiceinsights.analysis._frames import to_pandas

__all__ = ["LEG_COLUMNS", "TERMINAL_STATUSES", "CallTree", "build", "legs_from_events"]

#: Statuses after which a leg does not change any more.
TERMINAL_STATUSES: Final = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

#: Columns of :attr:`CallTree.legs`.
LEG_COLUMNS: Final = (
    "call_sid",
    "parent_call_sid",
    "root_call_sid",
    "depth",
    "path",
    "direction",
    "status",
    "from_address",
    "to_address",
    "start_time",
    "end_time",
    "duration_s",
    "orphan",
    "conference_sid",
)

#: Columns of :data:`LEG_COLUMNS` that :func:`build` derives from the tree.
_TREE_COLUMNS: Final = frozenset({"root_call_sid", "depth", "path", "orphan", "conference_sid"})

#: Columns of :data:`LEG_COLUMNS` that each source frame gives, in that order.
_SOURCE_COLUMNS: Final = tuple(c for c in LEG_COLUMNS if c not in _TREE_COLUMNS)

_NULL_SID = ("", "None", "null")


def _sid(v: Any) -> str | None:
    if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v) in _NULL_SID:
        return None
    return str(v)


def _clean_sid(s: pd.Series) -> pd.Series:
    return pd.Series([_sid(v) for v in s], index=s.index, dtype=object)


def legs_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per leg from status-callback rows (``call_events`` columns).

    The status is the one of the highest ``sequence_number`` (by timestamp when the
    sequence number is missing), a terminal status outranking any non-terminal one, since
    callbacks may arrive out of order. ``start_time`` is the first event, ``end_time`` the
    terminal event's time, ``duration_s`` ``call_duration_s`` when reported, else the span.
    """
    ev = events.copy()
    ev["_terminal"] = ev["call_status"].isin(TERMINAL_STATUSES)
    seq = ev["sequence_number"] if "sequence_number" in ev else pd.Series(np.nan, ev.index)
    ev["_seq"] = pd.to_numeric(seq, errors="coerce").fillna(-1)
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True)
    ev = ev.sort_values(["call_sid", "_terminal", "_seq", "timestamp"], kind="stable")
    last = ev.groupby("call_sid", sort=False).tail(1).set_index("call_sid")
    g = ev.groupby("call_sid", sort=False)

    def first_valid(col: str) -> pd.Series:
        if col not in ev:
            return pd.Series(None, index=last.index, dtype=object)
        return g[col].agg(lambda s: s.dropna().iloc[0] if s.notna().any() else None)

    term = ev[ev["_terminal"]].groupby("call_sid")["timestamp"].max()
    start = g["timestamp"].min()
    out = pd.DataFrame(
        {
            "parent_call_sid": first_valid("parent_call_sid"),
            "direction": first_valid("direction"),
            "status": last["call_status"],
            "from_address": first_valid("from_address"),
            "to_address": first_valid("to_address"),
            "start_time": start,
            "end_time": term.reindex(last.index),
        }
    )
    reported = (
        g["call_duration_s"].max()
        if "call_duration_s" in ev
        else pd.Series(np.nan, index=last.index)
    )
    span = (out["end_time"] - out["start_time"]).dt.total_seconds()
    out["duration_s"] = pd.to_numeric(reported, errors="coerce").fillna(span)
    return out.rename_axis("call_sid").reset_index()


def _legs(frame: pd.DataFrame) -> pd.DataFrame:
    if "call_status" in frame.columns:  # status callbacks
        legs = legs_from_events(frame)
    else:  # rest_calls, calls view or any frame with one row per leg
        legs = frame.copy()
        if "call_sid" not in legs and "sid" in legs:
            legs = legs.rename(columns={"sid": "call_sid"})
        if "call_sid" not in legs:
            raise AnalysisInputError(f"a call_sid column is needed; got {list(frame.columns)}")
        legs = legs.drop_duplicates("call_sid", keep="last")
    for col in ("parent_call_sid", "direction", "status", "from_address", "to_address"):
        if col not in legs:
            legs[col] = None
    for col in ("start_time", "end_time"):
        legs[col] = pd.to_datetime(legs[col], utc=True) if col in legs else pd.NaT
    if "duration_s" not in legs:
        legs["duration_s"] = (legs["end_time"] - legs["start_time"]).dt.total_seconds()
    legs["call_sid"] = _clean_sid(legs["call_sid"])
    legs["parent_call_sid"] = _clean_sid(legs["parent_call_sid"])
    legs = legs[legs["call_sid"].notna()]
    return legs[list(_SOURCE_COLUMNS)]


def _merge(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Legs from several sources; later frames fill what earlier ones lack and win ties."""
    merged: pd.DataFrame | None = None
    for f in frames:
        legs = _legs(f).set_index("call_sid")
        merged = legs if merged is None else legs.combine_first(merged)
    assert merged is not None
    return merged.reset_index()


def _find_cycle(parent: dict[str, str | None], start: str) -> list[str]:
    seen: list[str] = []
    node: str | None = start
    while node is not None and node not in seen:
        seen.append(node)
        node = parent.get(node)
    assert node is not None
    cycle = seen[seen.index(node) :]
    # Name the cycle from its smallest SID so the message is stable.
    k = cycle.index(min(cycle))
    cycle = cycle[k:] + cycle[:k]
    return [*cycle, cycle[0]]


def build(*frames: Any, conference_events: Any = None) -> CallTree:
    """Build the call tree of the legs in ``frames``.

    Parameters
    ----------
    *frames : DataFrame, pyarrow Table or DuckDB relation
        Status-callback rows (``call_events`` columns: recognised by ``call_status``),
        ``rest_calls`` rows or the ``calls`` view. Rows may come in any order (children
        before parents). With several frames, later ones take precedence per field
        (pass callbacks first, REST rows after).
    conference_events : DataFrame, optional
        ``conference_events`` rows; participants (``call_sid`` of participant events) are
        grouped under their ``conference_sid``.

    Returns
    -------
    CallTree

    Raises
    ------
    CallTreeCycleError
        When parent links form a cycle; the error names the SIDs in it.
    AnalysisInputError
        When no frame is given or a frame has no ``call_sid``.
    """
    if not frames:
        raise AnalysisInputError("build() needs at least one frame of legs")
    legs = _merge([to_pandas(f) for f in frames])
    sids = legs["call_sid"].tolist()
    parent: dict[str, str | None] = {
        s: _sid(p) for s, p in zip(sids, legs["parent_call_sid"].tolist(), strict=True)
    }
    known = set(sids)
    root: dict[str, str] = {}
    depth: dict[str, int] = {}
    path: dict[str, str] = {}
    orphan: dict[str, bool] = {}
    for sid in sids:
        chain: list[str] = []
        node: str | None = sid
        while node is not None and node not in root:
            if node in chain:
                raise CallTreeCycleError(_find_cycle(parent, node))
            chain.append(node)
            p = parent.get(node)
            node = p if p in known else None
        # Resolve the chain from its top down.
        for n in reversed(chain):
            p = parent.get(n)
            if p is not None and p in root:
                root[n], depth[n] = root[p], depth[p] + 1
                path[n] = f"{path[p]}/{n}"
                orphan[n] = False
            else:
                root[n], depth[n], path[n] = n, 0, n
                orphan[n] = p is not None and p not in known
    legs["root_call_sid"] = legs["call_sid"].map(root)
    legs["depth"] = legs["call_sid"].map(depth).astype("int64")
    legs["path"] = legs["call_sid"].map(path)
    legs["orphan"] = legs["call_sid"].map(orphan).astype(bool)
    conferences: dict[str, str] = {}
    legs["conference_sid"] = None
    if conference_events is not None:
        ce = to_pandas(conference_events)
        part = ce[ce["call_sid"].notna() & ce["conference_sid"].notna()]
        if "timestamp" in part:
            part = part.sort_values("timestamp", kind="stable")
        first_conf = part.drop_duplicates("call_sid").set_index("call_sid")["conference_sid"]
        legs["conference_sid"] = legs["call_sid"].map(first_conf)
        names = ce.dropna(subset=["conference_sid"]).drop_duplicates("conference_sid")
        if "friendly_name" in names:
            conferences = {
                str(k): str(v)
                for k, v in zip(names["conference_sid"], names["friendly_name"], strict=True)
                if pd.notna(v)
            }
    legs = legs.sort_values(["root_call_sid", "path"], kind="stable").reset_index(drop=True)
    return CallTree(legs[list(LEG_COLUMNS)], conferences)


class CallTree:
    """Legs of one or more calls as trees.

    Attributes
    ----------
    legs : pandas.DataFrame
        One row per leg, columns :data:`LEG_COLUMNS`, sorted by root and path.
    conferences : dict
        Conference SID -> friendly name, for conferences seen in ``conference_events``.
    """

    def __init__(self, legs: pd.DataFrame, conferences: dict[str, str] | None = None):
        self.legs = legs
        self.conferences = conferences or {}

    def __len__(self) -> int:
        return len(self.legs)

    @property
    def roots(self) -> list[str]:
        """Root legs (orphans included), in order."""
        return self.legs.loc[self.legs["depth"] == 0, "call_sid"].tolist()

    def children(self, call_sid: str) -> list[str]:
        """Direct children of a leg."""
        legs = self.legs
        return legs.loc[
            (legs["parent_call_sid"] == call_sid)
            & ~legs["orphan"]
            & (legs["call_sid"] != call_sid),
            "call_sid",
        ].tolist()

    def _groups(self) -> Iterator[tuple[str | None, list[str]]]:
        """(conference SID or None, root SIDs) groups; a tree joins the conference of any
        of its legs."""
        conf_of_root = (
            self.legs.dropna(subset=["conference_sid"])
            .drop_duplicates("root_call_sid")
            .set_index("root_call_sid")["conference_sid"]
            .to_dict()
        )
        groups: dict[str | None, list[str]] = {}
        for r in self.roots:
            groups.setdefault(conf_of_root.get(r), []).append(r)
        for conf in sorted(k for k in groups if k is not None):
            yield conf, groups[conf]
        if None in groups:
            yield None, groups[None]

    def _label(self, row: dict[Any, Any]) -> str:
        parts = [str(row["call_sid"])]
        for col in ("direction", "status"):
            if pd.notna(row[col]):
                parts.append(str(row[col]))
        if pd.notna(row["duration_s"]):
            parts.append(f"{float(row['duration_s']):g} s")
        if pd.notna(row["to_address"]) and str(row["to_address"]):
            parts.append(f"to {row['to_address']}")
        if row["orphan"]:
            parts.append(f"(orphan: parent {row['parent_call_sid']} not seen)")
        return "  ".join(parts)

    def _walk(self) -> Iterator[tuple[str | None, int, dict[Any, Any]]]:
        by_sid = {str(r["call_sid"]): r for r in self.legs.to_dict("records")}
        kids: dict[str, list[str]] = {}
        for sid, p, orphan in zip(
            self.legs["call_sid"], self.legs["parent_call_sid"], self.legs["orphan"], strict=True
        ):
            if _sid(p) is not None and not orphan:
                kids.setdefault(p, []).append(sid)
        for conf, roots in self._groups():
            stack = [(r, 0) for r in reversed(roots)]
            while stack:
                sid, level = stack.pop()
                yield conf, level, by_sid[sid]
                stack.extend((k, level + 1) for k in reversed(kids.get(sid, [])))

    def to_text(self) -> str:
        """Indented text: conferences first, each leg under its parent."""
        lines: list[str] = []
        current: object = object()
        for conf, level, row in self._walk():
            if conf != current:
                current = conf
                if conf is not None:
                    name = self.conferences.get(conf)
                    lines.append(f"conference {conf}" + (f" ({name})" if name else ""))
            indent = ("    " if conf is not None else "") + "    " * level
            lines.append(f"{indent}{'└─ ' if level else ''}{self._label(row)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        n_roots = len(self.roots)
        head = f"<CallTree {len(self)} legs, {n_roots} roots>"
        return head + ("\n" + self.to_text() if len(self) else "")

    def _repr_html_(self) -> str:
        out = [f"<div><b>CallTree</b>: {len(self)} legs, {len(self.roots)} roots<ul>"]
        current: object = object()
        open_conf = False
        for conf, level, row in self._walk():
            if conf != current:
                if open_conf:
                    out.append("</ul></li>")
                    open_conf = False
                current = conf
                if conf is not None:
                    name = self.conferences.get(conf, "")
                    out.append(f"<li><b>conference {html.escape(conf)}</b> {html.escape(name)}<ul>")
                    open_conf = True
            style = f"margin-left:{1.5 * level}em"
            cls = ' style="color:#b00"' if row["orphan"] else ""
            out.append(
                f'<li style="{style}"><code{cls}>{html.escape(self._label(row))}</code></li>'
            )
        if open_conf:
            out.append("</ul></li>")
        out.append("</ul></div>")
        return "".join(out)
