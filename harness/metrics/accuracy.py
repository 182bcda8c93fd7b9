"""Run metrics: top-1 accuracy and instruction/cycle statistics per inference."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

import numpy as np


@dataclass(frozen=True)
class CountStats:
    """Median, min and max of per-inference counts in ``unit`` ("instructions" or "cycles")."""

    unit: str
    median: float
    min: int
    max: int
    n: int

    def as_dict(self) -> dict:
        return {"unit": self.unit, "median": self.median, "min": self.min, "max": self.max, "n": self.n}


def count_stats(counts: list[int], unit: str) -> CountStats:
    """Statistics of a non-empty list of per-inference counts. Raises ValueError when empty."""
    if not counts:
        raise ValueError("no inference counts")
    return CountStats(unit, float(median(counts)), int(min(counts)), int(max(counts)), len(counts))


def top1_accuracy(labels: list[int | None], predictions: list[int]) -> float | None:
    """Fraction of labelled samples whose prediction equals the label (None when nothing is labelled)."""
    pairs = [(l, p) for l, p in zip(labels, predictions) if l is not None]
    if not pairs:
        return None
    return float(np.mean([l == p for l, p in pairs]))
