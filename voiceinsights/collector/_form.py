"""Form-encoded bodies of Twilio's callbacks: strict decoding into fields and records."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

__all__ = ["form_record", "parse_form"]


def parse_form(text: str) -> list[tuple[str, str]]:
    """Decode an ``application/x-www-form-urlencoded`` body into ``(name, value)`` pairs.

    Strict: a field without ``=`` or a percent-escape that is not UTF-8 raises
    ``ValueError`` / ``UnicodeDecodeError``. Empty fields (``a=1&&b=2``) are skipped.
    """
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"form field {name[:40]!r} has no '='")
        # Only escaped text needs decoding (most names and many values are plain).
        if "%" in name or "+" in name:
            name = unquote_plus(name, errors="strict")
        if "%" in value or "+" in value:
            value = unquote_plus(value, errors="strict")
        pairs.append((name, value))
    return pairs


def form_record(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The record of a callback: a repeated field's values become a list, in order."""
    record: dict[str, Any] = {}
    for name, value in pairs:
        if name in record:
            prev = record[name]
            record[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            record[name] = value
    return record
