"""Wire-model benchmarks: ``parse_record`` on SDK sample envelopes and status callbacks,
against ``json.loads`` of the same records (the least any parser of these lines does), and
the fixtures generator's throughput.

``python -m bench --only models`` (20 000 records) or ``--short`` (4 000).
"""

from __future__ import annotations

import json
import tempfile
from itertools import islice
from pathlib import Path

from bench._result import Result
from bench._timing import best as _best
from voiceinsights.fixtures import generate
from voiceinsights.models import parse_record


def _lines(path: Path, kind: str, n: int) -> list[str]:
    out: list[str] = []
    with path.open() as fh:
        for line in fh:
            if kind == "sample" and '"type":"sample"' not in line:
                continue
            out.append(line)
    # Repeat to the asked size (the records' content does not change the cost).
    return list(islice((out[i % len(out)] for i in range(n)), n))


def run(short: bool) -> list[Result]:
    n = 4_000 if short else 20_000
    calls = 20 if short else 60
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t_gen = _best(lambda: generate(calls, 7, out), 1 if short else 2)
        samples = json.loads((out / "ground_truth.json").read_text())["counts"]["samples"]
        results.append(
            Result(
                "fixtures generate",
                samples / t_gen,
                "samples/s",
                higher_is_better=True,
                notes={"calls": calls, "seconds": round(t_gen, 3)},
            )
        )
        for name, path, kind in (
            ("parse_record sdk-sample", out / "sdk_events.jsonl", "sample"),
            ("parse_record callbacks", out / "callbacks.jsonl", "callback"),
        ):
            lines = _lines(path, kind, n)

            def baseline(lines: list[str] = lines) -> None:
                for line in lines:
                    json.loads(line)

            def ours(lines: list[str] = lines) -> None:
                for line in lines:
                    parse_record(json.loads(line), source="bench")

            t_base = _best(baseline, 3)
            t_ours = _best(ours, 3)
            results.append(
                Result(
                    name,
                    n / t_ours,
                    "records/s",
                    baseline=n / t_base,
                    baseline_name="json.loads only",
                    higher_is_better=True,
                    notes={"records": n},
                )
            )
    return results
