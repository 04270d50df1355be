"""Hypothesis strategies for canonical rows of any schema table."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import strategies as st

from voiceinsights.schema import Table

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), _text,
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)  # fmt: skip
_json = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)
_times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31),
    timezones=st.just(dt.UTC),
)  # fmt: skip

_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "VARCHAR": _text,
    "INTEGER": st.integers(-(2**31), 2**31 - 1),
    "BIGINT": st.integers(-(2**63), 2**63 - 1),
    "DOUBLE": st.floats(allow_nan=False, width=64),
    "BOOLEAN": st.booleans(),
    "TIMESTAMPTZ": _times,
    "JSON": st.dictionaries(_text, _json, max_size=4).map(
        lambda d: json.dumps(d, separators=(",", ":"), ensure_ascii=False)
    ),
    "VARCHAR[]": st.lists(_text, max_size=3),
}


def rows(table: Table, max_size: int = 8) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of rows of ``table`` with distinct, non-null natural keys."""
    fields = {
        c.name: (
            _BY_TYPE[c.type] if c.name in table.key else st.one_of(st.none(), _BY_TYPE[c.type])
        )
        for c in table.columns
    }
    return st.lists(
        st.fixed_dictionaries(fields),
        max_size=max_size,
        unique_by=lambda r: tuple(json.dumps(r[k], default=str) for k in table.key),
    )
