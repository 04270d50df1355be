"""Write-ahead spool: accepted requests are durable before they are answered.

Each collector process owns one spool directory (``<spool-root>/<host>-<pid>-<time>/``),
claimed with an exclusive ``flock`` on its ``.lock`` file for as long as the process lives.
Requests are appended as JSON lines to numbered segment files (``seg-000001.jsonl``, ...).

**Group commit.** :meth:`Spool.append` queues a line and waits. At the end of the event
loop's turn (once every request that was ready has queued its line) the lines go to a
commit thread, which writes them with a single ``write`` and a single ``fdatasync``, then
wakes all of their waiters. While it syncs, new lines queue up for the next round, so
under load many requests share one disk flush and a request is still answered only once
its bytes are on disk.

**Checkpoints.** The background writer reads committed lines, turns them into Parquet
segments (fsynced) and records how far it got in ``checkpoint.json`` (written to a
temporary name and renamed). Segments wholly before the checkpoint are deleted.

**Recovery.** A directory whose lock nobody holds belongs to a process that died
(``kill -9``, power loss): :func:`claim_orphans` takes it so its records can be replayed
from its checkpoint. A torn last line (a write cut short by the crash) was never
acknowledged and is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "Position",
    "Spool",
    "SpoolDir",
    "claim_orphans",
    "read_checkpoint",
    "read_lines",
    "segment_files",
    "write_checkpoint",
]

_SEGMENT_FMT = "seg-{:06d}.jsonl"
_CHECKPOINT = "checkpoint.json"
_LOCK = ".lock"


class Position(NamedTuple):
    """A place in a spool: segment number and byte offset within it (ordered).

    A named tuple: the commit thread makes one per spooled line, so it is kept cheap.
    """

    segment: int
    offset: int


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolDir:
    """A spool directory held with an exclusive lock (released by :meth:`release`)."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd = lock_fd

    @classmethod
    def try_claim(cls, path: Path) -> SpoolDir | None:
        """Lock ``path`` (creating it) if no live process holds it, else return None."""
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(path, fd)

    def release(self) -> None:
        """Drop the lock (the directory stays)."""
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    def remove(self) -> None:
        """Delete the directory's files and the directory, then release the lock."""
        for child in self.path.iterdir():
            if child.name != _LOCK:
                child.unlink(missing_ok=True)
        (self.path / _LOCK).unlink(missing_ok=True)
        self.release()
        with contextlib.suppress(OSError):
            self.path.rmdir()


def claim_orphans(root: Path, *, exclude: Path | None = None) -> list[SpoolDir]:
    """Claim every spool directory under ``root`` that no live process holds."""
    if not root.is_dir():
        return []
    claimed = []
    for child in sorted(root.iterdir()):
        if not child.is_dir() or (exclude is not None and child == exclude):
            continue
        d = SpoolDir.try_claim(child)
        if d is not None:
            claimed.append(d)
    return claimed


def segment_files(path: Path) -> list[tuple[int, Path]]:
    """Segment files of a spool directory as ``(number, path)``, in order."""
    out = []
    for f in path.glob("seg-*.jsonl"):
        with contextlib.suppress(ValueError):
            out.append((int(f.name[4:-6]), f))
    return sorted(out)


def read_checkpoint(path: Path) -> Position:
    """The checkpoint of a spool directory (the start when there is none)."""
    try:
        data = json.loads((path / _CHECKPOINT).read_text())
        return Position(int(data["segment"]), int(data["offset"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return Position(0, 0)


def write_checkpoint(path: Path, pos: Position) -> None:
    """Record that everything before ``pos`` is in the store.

    Written to a temporary name and renamed, without an fsync: a checkpoint lost in a
    power cut only makes the next start replay more, and replays are idempotent. (The
    Parquet segments themselves are fsynced before the checkpoint moves.)
    """
    tmp = path / (_CHECKPOINT + ".tmp")
    with open(tmp, "w") as fh:
        json.dump({"segment": pos.segment, "offset": pos.offset, "at": time.time()}, fh)
    os.replace(tmp, path / _CHECKPOINT)


def read_lines(
    path: Path, start: Position, end: Position | None, *, max_bytes: int = 8 << 20
) -> Iterator[tuple[list[bytes], Position]]:
    """Yield committed lines after ``start`` in chunks, each with the position after it.

    ``end`` bounds the read (the committed position of a live spool); ``None`` reads to
    the end of every segment, ignoring a torn last line without its newline.
    """
    for number, seg in segment_files(path):
        if number < start.segment or (end is not None and number > end.segment):
            continue
        offset = start.offset if number == start.segment else 0
        limit = end.offset if end is not None and number == end.segment else None
        with open(seg, "rb") as fh:
            fh.seek(offset)
            while True:
                want = max_bytes if limit is None else min(max_bytes, limit - offset)
                if want <= 0:
                    break
                data = fh.read(want)
                if not data:
                    break
                cut = data.rfind(b"\n")
                if cut < 0:
                    if len(data) < want:
                        break  # torn tail: never acknowledged
                    # A single line longer than max_bytes: read on until its newline.
                    rest = fh.readline()
                    if not rest.endswith(b"\n"):
                        break
                    data += rest
                    cut = len(data) - 1
                chunk = data[: cut + 1]
                offset += len(chunk)
                fh.seek(offset)
                yield chunk.splitlines(), Position(number, offset)
        if end is None or number < end.segment:
            # Move past a finished segment even if it held nothing new.
            yield [], Position(number + 1, 0)


class Spool:
    """The write-ahead spool of this process.

    Parameters
    ----------
    root : Path
        Spool root shared by the processes of one machine; this process claims a fresh
        directory under it.
    segment_bytes : int
        Size after which a new segment file is started.
    on_commit : callable, optional
        Called (from the flushing thread) with the number of committed bytes after each
        group commit; the background writer uses it to wake up.
    """

    def __init__(
        self,
        root: Path,
        *,
        segment_bytes: int = 64 << 20,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        name = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns():x}"
        claimed = SpoolDir.try_claim(Path(root) / name)
        if claimed is None:  # pragma: no cover - unique name
            raise RuntimeError(f"spool directory {name} is locked")
        self.dir = claimed
        self.path = claimed.path
        self.segment_bytes = segment_bytes
        self._on_commit = on_commit
        self._segment = 1
        self._fd = self._open_segment(self._segment)
        self._size = 0
        self._committed = Position(1, 0)
        self._lock = threading.Lock()
        # Lines appended during the current turn of the event loop, then (handed over at
        # the end of the turn) the lines the commit thread is to write next.
        self._pending: list[tuple[bytes, asyncio.Future[None], Any]] = []
        self._ready: list[tuple[bytes, asyncio.Future[None], Any]] = []
        self._kick_scheduled = False
        self._handoff: dict[Position, Any] = {}
        #: Most hand-offs kept in memory (beyond, the writer parses from the spool).
        self.max_handoff = 200_000
        self._io_lock = threading.Lock()  # one writer of the segment file at a time
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._closed = False
        #: Group commits done and lines they carried (for metrics).
        self.commits = 0
        self.lines = 0

    def _open_segment(self, number: int) -> int:
        fd = os.open(
            self.path / _SEGMENT_FMT.format(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
        )
        _fsync_dir(self.path)
        return fd

    @property
    def committed(self) -> Position:
        """Position up to which every line is durable."""
        with self._lock:
            return self._committed

    @property
    def pending(self) -> int:
        """Lines waiting for the next group commit."""
        return len(self._pending) + len(self._ready)

    async def append(self, line: bytes, handoff: Any = None) -> None:
        """Append one record (a line without newline); return once it is on disk.

        ``handoff`` (for example the rows already parsed from the line) is kept in memory
        for the writer under the line's end position, so it need not parse the line
        again; after a restart the writer parses the spooled line instead.
        """
        if self._closing:
            raise RuntimeError("spool is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._cond:
            if self._thread is None:
                self._loop = loop
                self._thread = threading.Thread(
                    target=self._flusher, name="vi-spool-commit", daemon=True
                )
                self._thread.start()
            self._pending.append((line + b"\n", fut, handoff))
        if not self._kick_scheduled:
            # Hand the lines over once the requests that are ready now have all appended
            # theirs: one group commit per turn of the loop, not one per request.
            self._kick_scheduled = True
            loop.call_soon(self._kick)
        await fut

    def _kick(self) -> None:
        self._kick_scheduled = False
        with self._cond:
            if self._pending:
                self._ready.extend(self._pending)
                self._pending = []
                self._cond.notify()

    def _flusher(self) -> None:
        # A dedicated thread keeps the disk busy: as soon as one fdatasync returns, every
        # line queued meanwhile goes out in the next write, without waiting for the loop.
        loop = self._loop
        assert loop is not None
        while True:
            with self._cond:
                while not self._ready and not self._closing:
                    self._cond.wait()
                if self._closing:
                    self._ready.extend(self._pending)
                    self._pending = []
                if not self._ready:
                    return
                batch, self._ready = self._ready, []
            error: OSError | None = None
            try:
                self._write_sync([(ln, h) for ln, _, h in batch])
            except OSError as exc:
                error = exc
            try:
                loop.call_soon_threadsafe(_resolve, [f for _, f, _ in batch], error)
            except RuntimeError:  # pragma: no cover - the loop is gone (shutdown)
                return

    def append_sync(self, line: bytes, handoff: Any = None) -> None:
        """Append and sync one record without an event loop (tools and tests)."""
        self._write_sync([(line + b"\n", handoff)])

    def take_handoff(self, end: Position) -> Any:
        """Remove and return what was handed off with the line ending at ``end``."""
        with self._lock:
            return self._handoff.pop(end, None)

    def discard_handoff(self, upto: Position) -> None:
        """Forget hand-offs of lines ending at or before ``upto`` (already written)."""
        with self._lock:
            for key in [k for k in self._handoff if k <= upto]:
                del self._handoff[key]

    def _write_sync(self, lines: list[tuple[bytes, Any]]) -> None:
        with self._io_lock:
            self._write_locked(lines)

    def _write_locked(self, lines: list[tuple[bytes, Any]]) -> None:
        data = b"".join(line for line, _ in lines)
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fdatasync(self._fd)
        except OSError:
            # Never leave a partial line for the next append to be glued to.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        end = self._size
        with self._lock:
            if len(self._handoff) < self.max_handoff:
                for line, handoff in lines:
                    end += len(line)
                    if handoff is not None:
                        self._handoff[Position(self._segment, end)] = handoff
            self._size += len(data)
            self._committed = Position(self._segment, self._size)
            self.commits += 1
            self.lines += len(lines)
        if self._size >= self.segment_bytes:
            new_fd = self._open_segment(self._segment + 1)
            os.close(self._fd)
            self._fd = new_fd
            with self._lock:
                self._segment += 1
                self._size = 0
                self._committed = Position(self._segment, 0)
        if self._on_commit is not None:
            self._on_commit(len(data))

    async def aclose(self) -> None:
        """Commit every queued line, stop the commit thread, close the segment file."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
            await asyncio.sleep(0)  # let the last resolutions run
        self.close()

    def close(self) -> None:
        """Close the segment file (the lock stays until :meth:`SpoolDir.release`)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if not self._closed:
            self._closed = True
            with self._io_lock:
                os.close(self._fd)


def _resolve(futures: list[asyncio.Future[None]], error: OSError | None) -> None:
    for fut in futures:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
