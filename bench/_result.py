"""What a benchmark reports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Result:
    """One measured figure beside its same-run baseline.

    ``ratio`` is ours / baseline for times (lower is better) or ours / baseline for rates
    (``higher_is_better``); ``goal`` is the ratio the issue asks for, if any.
    """

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    higher_is_better: bool = False
    goal: float | None = None
    notes: dict[str, float | str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    def meets_goal(self) -> bool | None:
        if self.goal is None or self.ratio is None:
            return None
        return self.ratio >= self.goal if self.higher_is_better else self.ratio <= self.goal

    def line(self) -> str:
        text = f"{self.name}: {self.value:,.4g} {self.unit}"
        if self.baseline is not None:
            text += f" | baseline {self.baseline_name}: {self.baseline:,.4g} {self.unit}"
            text += f" | ratio {self.ratio:.3g}"
        if self.goal is not None:
            verdict = {True: "meets", False: "MISSES", None: "n/a"}[self.meets_goal()]
            text += f" | goal {'>=' if self.higher_is_better else '<='} {self.goal} ({verdict})"
        for k, v in self.notes.items():
            text += f" | {k}={v:,.4g}" if isinstance(v, float) else f" | {k}={v}"
        return text
