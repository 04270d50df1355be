"""Run the benchmarks: ``python -m bench [--short] [--only NAME ...] [--json FILE]``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import asdict

# Benchmark modules in bench/, in the order they run.
BENCHMARKS = ["ingest", "analysis", "collector", "pull", "probe", "models", "show"]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--short", action="store_true", help="small sizes, for CI")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark names to run")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    results = []
    for name in args.only or BENCHMARKS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"[{name}] not present, skipped")
                continue
            raise
        print(f"[{name}]", flush=True)
        for result in module.run(short=args.short):
            print("  " + result.line(), flush=True)
            results.append(asdict(result) | {"ratio": result.ratio})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
