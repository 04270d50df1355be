"""Progress display: rich bars on a terminal, silence when output is piped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["ProgressTask", "progress"]


class ProgressTask(Protocol):
    def advance(self, amount: float = 1) -> None: ...

    def update_total(self, total: float | None) -> None: ...


class _Silent:
    def advance(self, amount: float = 1) -> None:
        pass

    def update_total(self, total: float | None) -> None:
        pass


class _RichTask:
    def __init__(self, bar: object, task_id: object) -> None:
        self._bar = bar
        self._task_id = task_id

    def advance(self, amount: float = 1) -> None:
        self._bar.advance(self._task_id, amount)  # type: ignore[attr-defined]

    def update_total(self, total: float | None) -> None:
        self._bar.update(self._task_id, total=total)  # type: ignore[attr-defined]


@contextmanager
def progress(
    description: str, total: float | None = None, *, enabled: bool | None = None
) -> Iterator[ProgressTask]:
    """Show a progress bar on stderr when it is a terminal.

    ``enabled=None`` decides by ``sys.stderr.isatty()``; piped output stays clean.
    """
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield _Silent()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )
    with bar:
        yield _RichTask(bar, bar.add_task(description, total=total))
