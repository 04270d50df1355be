"""Printing DataFrames the sqlite-utils way: a table, ``--csv`` or ``--json``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import click

__all__ = ["emit", "format_options"]


def format_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--table`` (default), ``--csv`` and ``--json`` to a command."""
    func = click.option("--json", "fmt", flag_value="json", help="Print a JSON array of objects.")(
        func
    )
    func = click.option("--csv", "fmt", flag_value="csv", help="Print CSV with a header.")(func)
    return click.option(
        "--table", "fmt", flag_value="table", default=True, help="Print an aligned table."
    )(func)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


def emit(df: Any, fmt: str) -> None:
    """Print a DataFrame as ``table``, ``csv`` or ``json``."""
    import pandas as pd

    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        records = [
            {k: _plain(None if _isna(v) else v) for k, v in row.items()}
            for row in df.to_dict(orient="records")
        ]
        click.echo(json.dumps(records, indent=2, default=str))
        return
    if df.empty:
        click.echo("(no rows)")
        return
    with pd.option_context(
        "display.max_rows",
        None,
        "display.max_columns",
        None,
        "display.width",
        200,
        "display.max_colwidth",
        60,
    ):
        click.echo(df.to_string(index=False))


def _isna(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays
        return False
