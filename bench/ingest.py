"""JSON Lines ingest: SDK sample envelopes into the store vs DuckDB's own ``read_json``.

A JSON Lines file of SDK ``sample`` envelopes with realistic values (per-second samples of
5-minute calls: levels, byte and packet counters, jitter, RTT, MOS, cumulative totals) is
written once. Then, each in its own process so peak memory can be read from the kernel:

- **ours**: ``store.ingest(file)`` into a new, empty store (line splitting, checks,
  natural-key de-duplication, leftover-line handling and the commit included);
- **baseline**: DuckDB ``read_json(file, format='newline_delimited', columns=...)`` creating
  a typed table in a fresh database file, the bar set in ``machine-notes.md``;
- **floor**: ours with the per-line cleanliness tests switched off, to show what splitting,
  per-line parsing, mapping and writing cost without them.

Each side runs three times, alternating, and keeps its best time. Figures: seconds (ratio
ours / baseline, goal <= 2), rows/s, input size and the peak RSS of each process (goal:
under 1 GiB for a 2 GB input; memory is bounded by the block, the commit interval and
DuckDB's memory limit during ingest, not by the file).
Full: 1,000,000 envelopes; ``--short``: 50,000.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench._result import Result

REPO = Path(__file__).resolve().parent.parent
#: Runs of each side; the best time of each is compared.
ROUNDS = 3

_OURS = """
import sys, time
import voiceinsights as vi
with vi.open(sys.argv[2]) as store:  # a new, empty store (creating it is not ingest)
    t0 = time.perf_counter()
    report = store.ingest(sys.argv[1], progress=False)
    elapsed = time.perf_counter() - t0
    n = store.counts()["samples"]
assert not report.rejected, report.rejected[:3]
print(elapsed, n)
"""

# The same ingest with the per-line cleanliness tests switched off (every parsed line is
# taken as it is): what line splitting, DuckDB's per-line parse, the mapping and the store
# write cost on their own. Not a mode of the package (it would store coerced values); it
# shows how far below the 2x goal the design's floor is.
_FLOOR = """
import sys, time
import voiceinsights as vi
from voiceinsights.store import _bulk
import re
lax = _bulk._build_sample_sql(None)
regex = f"regexp_full_match(raw, '{_bulk._clean_line_regex()}')"
lax, n_regex = lax.replace(regex, "true"), lax.count(regex)
lax, n_unique = re.subn(r"CASE WHEN fast OR NOT parsed THEN true .*? END", "true", lax, flags=re.S)
assert (n_regex, n_unique) == (1, 1), "the cleanliness tests moved: update bench/ingest.py"
_bulk.sample_sql = lambda layout=None: lax
with vi.open(sys.argv[2]) as store:
    t0 = time.perf_counter()
    report = store.ingest(sys.argv[1], progress=False)
    elapsed = time.perf_counter() - t0
    n = store.counts()["samples"]
print(elapsed, n)
"""

_BASELINE = """
import sys, time
import duckdb
totals = ("STRUCT(bytesReceived BIGINT, bytesSent BIGINT, packetsLost BIGINT, "
          "packetsLostFraction DOUBLE, packetsReceived BIGINT, packetsSent BIGINT)")
data = ("STRUCT(timestamp BIGINT, audioInputLevel INTEGER, audioOutputLevel INTEGER, "
        "bytesReceived BIGINT, bytesSent BIGINT, packetsReceived BIGINT, packetsSent BIGINT, "
        "packetsLost BIGINT, packetsLostFraction DOUBLE, jitter DOUBLE, rtt DOUBLE, "
        "mos DOUBLE, codecName VARCHAR, totals " + totals + ")")
t0 = time.perf_counter()
conn = duckdb.connect(sys.argv[2])
conn.execute("SET enable_progress_bar = false")
conn.execute(
    "CREATE TABLE samples AS SELECT * FROM read_json(?, format='newline_delimited', "
    "columns={'type': 'VARCHAR', 'call_sid': 'VARCHAR', 'data': '" + data + "'})",
    [sys.argv[1]],
)
n = conn.execute("SELECT count(*) FROM samples").fetchall()[0][0]
conn.close()
print(time.perf_counter() - t0, n)
"""


def write_envelopes(path: Path, n: int, seed: int = 11) -> None:
    """``n`` sample envelopes: calls of 300 s, one sample per second, realistic values."""
    rng = random.Random(seed)
    start_ms = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    template = (
        '{{"type":"sample","call_sid":"{sid}","identity":"{ident}","data":{{'
        '"timestamp":{ts},"audioInputLevel":{ain},"audioOutputLevel":{aout},'
        '"bytesReceived":{br},"bytesSent":{bs},"packetsReceived":{pr},"packetsSent":50,'
        '"packetsLost":{pl},"packetsLostFraction":{plf},"jitter":{jit},"rtt":{rtt},'
        '"mos":{mos},"codecName":"opus","totals":{{"bytesReceived":{tbr},"bytesSent":{tbs},'
        '"packetsLost":{tpl},"packetsLostFraction":{tplf},"packetsReceived":{tpr},'
        '"packetsSent":{tps}}}}}}}\n'
    )
    with path.open("w") as fh:
        call = -1
        for i in range(n):
            second = i % 300
            if second == 0:
                call += 1
                sid = f"CA{rng.getrandbits(128):032x}"
                ident = f"agent{call % 500}"
                t_br = t_pr = t_pl = 0
                base_rtt = rng.uniform(20, 180)
            lost = 0 if rng.random() < 0.9 else rng.randint(1, 5)
            received = 50 - lost
            t_pr += received
            t_pl += lost
            br = received * 160
            t_br += br
            fh.write(
                template.format(
                    sid=sid,
                    ident=ident,
                    ts=start_ms + call * 400_000 + second * 1000,
                    ain=rng.randint(0, 32767),
                    aout=rng.randint(0, 32767),
                    br=br,
                    bs=8000,
                    pr=received,
                    pl=lost,
                    plf=round(lost * 2.0, 2),
                    jit=round(rng.gammavariate(2.0, 3.0), 3),
                    rtt=round(base_rtt + rng.uniform(-5, 5), 1) if second else "null",
                    mos=round(rng.uniform(3.6, 4.4), 2) if second else "null",
                    tbr=t_br,
                    tbs=8000 * (second + 1),
                    tpl=t_pl,
                    tplf=round(100.0 * t_pl / max(1, t_pl + t_pr), 3),
                    tpr=t_pr,
                    tps=50 * (second + 1),
                )
            )


def _measure(code: str, path: Path, db: Path) -> tuple[float, int, float]:
    """Run a child with wait4 to read its peak RSS precisely."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    out_fd = os.open(str(db) + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", textwrap.dedent(code), str(path), str(db)],
            env,
            file_actions=[(os.POSIX_SPAWN_DUP2, out_fd, 1)],
        )
    finally:
        os.close(out_fd)
    _, status, usage = os.wait4(pid, 0)
    out = Path(str(db) + ".out").read_text()
    if os.waitstatus_to_exitcode(status) != 0 or not out.strip():
        raise RuntimeError(f"benchmark child failed ({status}): {out[-2000:]}")
    elapsed, rows = out.strip().splitlines()[-1].split()
    return float(elapsed), int(rows), usage.ru_maxrss / 1024.0


def run(short: bool) -> list[Result]:
    n = 50_000 if short else 1_000_000
    with tempfile.TemporaryDirectory(prefix="vi-bench-ingest-") as tmp:
        root = Path(tmp)
        path = root / "samples.jsonl"
        t0 = time.perf_counter()
        write_envelopes(path, n)
        gen_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        # Alternate the two, three times each, and keep each one's best time: on a shared
        # machine the load changes from one run to the next.
        base_runs, ours_runs, floor_runs = [], [], []
        for _ in range(ROUNDS):
            base_runs.append(_measure(_BASELINE, path, root / "baseline.duckdb"))
            ours_runs.append(_measure(_OURS, path, root / "ours.duckdb"))
            floor_runs.append(_measure(_FLOOR, path, root / "floor.duckdb"))
        base_s = min(r[0] for r in base_runs)
        ours_s = min(r[0] for r in ours_runs)
        floor_s = min(r[0] for r in floor_runs)
        base_rows, ours_rows = base_runs[0][1], ours_runs[0][1]
        if floor_runs[0][1] != n:
            raise RuntimeError(f"the floor run stored {floor_runs[0][1]} rows, not {n}")
        base_peak = max(r[2] for r in base_runs)
        ours_peak = max(r[2] for r in ours_runs)
    if ours_rows != n or base_rows != n:
        raise RuntimeError(f"row counts differ: ours {ours_rows}, duckdb {base_rows}, n {n}")
    return [
        Result(
            name=f"ingest {n:,} SDK sample envelopes (JSON Lines)",
            value=ours_s,
            unit="s",
            baseline=base_s,
            baseline_name="duckdb read_json into a typed table",
            goal=2.0,
            notes={
                "input_MB": round(size_mb, 1),
                "rows_per_s": round(n / ours_s),
                "peak_rss_MiB": round(ours_peak, 1),
                "baseline_peak_rss_MiB": round(base_peak, 1),
                "generate_s": round(gen_s, 2),
            },
        ),
        Result(
            name="ingest floor: the same without the per-line cleanliness tests",
            value=floor_s,
            unit="s",
            baseline=base_s,
            baseline_name="duckdb read_json into a typed table",
            notes={"share_of_ours": round(floor_s / ours_s, 2)},
        ),
        Result(
            name="ingest peak memory",
            value=ours_peak,
            unit="MiB",
            notes={"goal": "< 1024 MiB for a 2 GB input", "input_MB": round(size_mb, 1)},
        ),
    ]
