"""Shared pieces of the wire models: base classes, field types, rows and errors."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from voiceinsights._exceptions import ValidationError
from voiceinsights._time import parse_epoch_ms, parse_timestamp
from voiceinsights.schema import get_table

__all__ = [
    "EpochMs",
    "FormModel",
    "Row",
    "Timestamp",
    "WireModel",
    "dumps",
    "extra_json",
    "make_row",
    "validate",
]

#: A canonical row: (table name, {column: value}) with every column of the table.
Row = tuple[str, dict[str, Any]]

M = TypeVar("M", bound=BaseModel)


def _timestamp(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


#: A timestamp in any format :func:`voiceinsights._time.parse_timestamp` accepts, as UTC.
Timestamp = Annotated[datetime | None, BeforeValidator(_timestamp)]


def _epoch_ms(value: Any) -> datetime | None:
    try:
        return parse_epoch_ms(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


#: A timestamp whose numbers are always epoch milliseconds (the Voice SDK's), as UTC.
EpochMs = Annotated[datetime | None, BeforeValidator(_epoch_ms)]


class WireModel(BaseModel):
    """Base of every wire model: Twilio's field names as aliases, unknown fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def unmodelled(self) -> dict[str, Any]:
        """Fields of the input that the model has no attribute for (kept in ``extra``)."""
        return dict(self.model_extra or {})


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]  # parse_qs style {"Field": ["value"]}
    if isinstance(value, str) and value == "":
        return None
    return value


class FormModel(WireModel):
    """A form-encoded callback: empty strings are nulls, single-item lists are unwrapped,
    and numbers are accepted where text is expected (a CSV reader may have typed them)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _form_values(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Common case first: text keys and non-empty text values need no copy.
            for k, v in data.items():
                if type(k) is not str or type(v) is not str or not v:
                    break
            else:
                return data
        if isinstance(data, Mapping):
            return {str(k): _blank_to_none(v) for k, v in data.items()}
        return data

    def _column_values(self) -> dict[str, Any]:
        """The modelled fields by attribute name (as ``model_dump()`` gives them for these
        flat models of scalars), less any that an unmodelled input key shadows."""
        values = dict(self.__dict__)
        extra = self.__pydantic_extra__
        if extra:
            for key in extra:
                values.pop(key, None)
        return values


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def dumps(value: Any) -> str:
    """JSON text of a value (sorted keys, compact, NaN as null) for JSON columns."""
    return _ENCODER.encode(_nan_to_none(value))


# What json.dumps(..., default=_json_default, sort_keys=True, separators=(",", ":"),
# allow_nan=False) would build on every call, built once.
_ENCODER = json.JSONEncoder(
    default=_json_default, sort_keys=True, separators=(",", ":"), allow_nan=False
)
_TEXT_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


def extra_json(extra: Mapping[str, Any]) -> str | None:
    """The ``extra`` column: JSON of the unmodelled fields, or null when there are none."""
    cleaned = {k: v for k, v in extra.items() if v is not None}
    if not cleaned:
        return None
    if all(type(v) is str for v in cleaned.values()):  # form fields: nothing to convert
        return _TEXT_ENCODER.encode(cleaned)
    return dumps(cleaned)


_COLUMNS: dict[str, tuple[str, ...]] = {}
_COLUMN_SETS: dict[str, frozenset[str]] = {}


def make_row(table: str, values: Mapping[str, Any]) -> Row:
    """A canonical row of ``table``: every column present, in schema order.

    Unknown keys are a programming error and raise ``KeyError``.
    """
    columns = _COLUMNS.get(table)
    if columns is None:
        columns = get_table(table).column_names
        _COLUMNS[table] = columns
        _COLUMN_SETS[table] = frozenset(columns)
    if not _COLUMN_SETS[table].issuperset(values):
        unknown = set(values) - _COLUMN_SETS[table]
        raise KeyError(f"{table} has no columns {sorted(unknown)}")
    get = values.get
    return table, {c: get(c) for c in columns}


def validate(model: type[M], data: Any, *, kind: str, prefix: str = "") -> M:
    """Validate ``data`` with ``model``; errors become :class:`voiceinsights.ValidationError`.

    The error's ``field`` is Twilio's field name (dotted for nested fields, with ``prefix``
    for a model nested in an envelope, e.g. ``data.jitter``).
    """
    if not isinstance(data, Mapping):
        where = prefix or "record"
        raise ValidationError(
            f"{kind}: {where} must be a JSON object, got {type(data).__name__}",
            field=prefix or None,
            kind=kind,
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise to_validation_error(exc, kind=kind, prefix=prefix) from None


def to_validation_error(
    exc: pydantic.ValidationError, *, kind: str, prefix: str = ""
) -> ValidationError:
    """Turn pydantic's error into ours, naming the first offending field."""
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    field = ".".join(p for p in (prefix, loc) if p) or None
    message = first["msg"]
    if first["type"] == "missing":
        text = f"{kind}: required field {field!r} is missing"
    else:
        got = first.get("input")
        shown = repr(got)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        text = f"{kind}: field {field!r}: {message} (got {shown})"
    more = len(exc.errors()) - 1
    if more:
        text += f" (and {more} more error{'s' if more > 1 else ''})"
    return ValidationError(text, field=field, kind=kind)


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
