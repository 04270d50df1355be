"""The write-ahead spool: group commit, durability, torn tails, checkpoints, orphans."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from voiceinsights.collector import Position, Spool
from voiceinsights.collector._spool import (
    SpoolDir,
    claim_orphans,
    read_checkpoint,
    read_lines,
    segment_files,
    write_checkpoint,
)


def test_group_commit_shares_fsyncs_and_every_line_is_on_disk(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    sizes_at_ack: list[int] = []

    async def one(i: int) -> None:
        await spool.append(b'{"n":%d}' % i)
        # When append returns, the line is in the file (not only in a buffer of ours).
        sizes_at_ack.append(spool.committed.offset)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(500)))
        await spool.aclose()

    asyncio.run(main())
    lines = [ln for chunk, _ in read_lines(spool.path, Position(0, 0), None) for ln in chunk]
    assert sorted(lines) == sorted(b'{"n":%d}' % i for i in range(500))
    assert spool.lines == 500
    # 500 concurrent requests shared far fewer disk flushes than one each.
    assert spool.commits < 100
    assert max(sizes_at_ack) == (spool.path / "seg-000001.jsonl").stat().st_size


def test_segments_rotate_and_read_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=100)
    for i in range(30):
        spool.append_sync(b'{"i":%03d}' % i)
    spool.close()
    assert len(segment_files(spool.path)) > 3
    got = [ln for chunk, _ in read_lines(spool.path, Position(0, 0), None) for ln in chunk]
    assert got == [b'{"i":%03d}' % i for i in range(30)]


def test_torn_tail_is_ignored_and_checkpoint_resumes(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(5):
        spool.append_sync(b"line%d" % i)
    spool.close()
    seg = spool.path / "seg-000001.jsonl"
    with open(seg, "ab") as fh:
        fh.write(b'{"torn": tr')  # a write cut short by a crash, never acknowledged
    chunks = list(read_lines(spool.path, Position(0, 0), None, max_bytes=12))
    lines = [ln for chunk, _ in chunks for ln in chunk]
    assert lines == [b"line%d" % i for i in range(5)]
    # Resume from a checkpoint taken after the third line.
    after_third = Position(1, len(b"line0\nline1\nline2\n"))
    write_checkpoint(spool.path, after_third)
    assert read_checkpoint(spool.path) == after_third
    rest = [ln for chunk, _ in read_lines(spool.path, after_third, None) for ln in chunk]
    assert rest == [b"line3", b"line4"]


def test_live_read_stops_at_committed_position(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append_sync(b"a")
    committed = spool.committed
    os.write(os.open(spool.path / "seg-000001.jsonl", os.O_WRONLY | os.O_APPEND), b"b\n")
    got = [ln for chunk, _ in read_lines(spool.path, Position(0, 0), committed) for ln in chunk]
    assert got == [b"a"]
    spool.close()


def test_orphans_are_claimed_only_when_their_process_is_gone(tmp_path: Path) -> None:
    held = tmp_path / "held"
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from voiceinsights.collector._spool import SpoolDir
        d = SpoolDir.try_claim(Path({str(held)!r}))
        print("locked", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"locked"
        dead = tmp_path / "dead"
        dead.mkdir()
        claimed = claim_orphans(tmp_path)
        assert [d.path.name for d in claimed] == ["dead"]
        assert SpoolDir.try_claim(held) is None
    finally:
        proc.kill()
        proc.wait()
    again = claim_orphans(tmp_path, exclude=tmp_path / "dead")
    assert [d.path.name for d in again] == ["held"]


def test_a_failed_write_is_reported_and_leaves_no_partial_line(tmp_path: Path) -> None:
    import pytest

    spool = Spool(tmp_path)
    spool.append_sync(b"first")
    good_fd = spool._fd
    spool._fd = os.open("/dev/full", os.O_WRONLY)  # every write fails with ENOSPC

    async def main() -> None:
        with pytest.raises(OSError, match="No space"):
            await spool.append(b"second")

    asyncio.run(main())
    os.close(spool._fd)
    spool._fd = good_fd
    spool.append_sync(b"third")  # the disk has room again
    spool.close()
    lines = [ln for chunk, _ in read_lines(spool.path, Position(0, 0), None) for ln in chunk]
    assert lines == [b"first", b"third"]
