"""Turn the tabular inputs the analysis accepts into pandas DataFrames."""

from __future__ import annotations

from typing import Any

import pandas as pd

from voiceinsights._exceptions import AnalysisInputError

__all__ = ["to_pandas"]


def to_pandas(data: Any) -> pd.DataFrame:
    """``data`` as a pandas DataFrame.

    Accepts a DataFrame (returned as is), a pyarrow Table or RecordBatch, a DuckDB
    relation, or any object with ``to_pandas()``/``df()``; a list of dicts becomes a frame.

    Raises
    ------
    AnalysisInputError
        For anything else.
    """
    if isinstance(data, pd.DataFrame):
        return data
    for method in ("to_pandas", "df"):
        fn = getattr(data, method, None)
        if callable(fn):
            out = fn()
            if isinstance(out, pd.DataFrame):
                return out
    if isinstance(data, list):
        return pd.DataFrame.from_records(data)
    raise AnalysisInputError(
        f"expected a pandas DataFrame, pyarrow Table or DuckDB relation, got {type(data)!r}"
    )
