"""Benchmarks, run on demand (``python -m bench``) and in CI in a short form (``--short``).

Each benchmark module exposes ``run(short: bool) -> list[Result]`` and measures itself
against a baseline in the same run, because this machine is noisy: figures are ratios.
"""
