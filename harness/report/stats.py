"""Statistics of accuracy figures: Wilson score interval of a proportion, confusion matrix and per-class
accuracy of one run.

Wilson interval: E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
JASA 22 (1927) 209–212; the form used is the one in Brown, Cai & DasGupta, "Interval estimation for a binomial
proportion", Statistical Science 16 (2001) 101–133, eq. (4). z = 1.959964 for 95 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from harness.rundir import Summary

Z95 = 1.959963984540054


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (lower, upper), fractions in [0, 1], of ``correct`` successes in ``n`` trials.
    Raises ValueError for n < 1 or correct outside 0..n."""
    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"Wilson interval needs 0 <= correct <= n and n >= 1 (got {correct}/{n})")
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (0.0 if correct == 0 else max(0.0, centre - half)), (1.0 if correct == n else min(1.0, centre + half))


def correct_and_n(s: Summary) -> tuple[int, int] | None:
    """(correct, n) of a summary's top-1 accuracy: ``correct``/``samples`` when recorded, else counted from
    predictions/labels, else rounded from accuracy × samples. None when accuracy was not measured."""
    if s.accuracy is None:
        return None
    if s.predictions and s.labels:
        pairs = [(p, s.labels.get(k)) for k, p in s.predictions.items() if s.labels.get(k) is not None]
        if pairs:
            return sum(p == l for p, l in pairs), len(pairs)
    if s.samples:
        return (s.correct if s.correct is not None else round(s.accuracy * s.samples)), s.samples
    return None


@dataclass(frozen=True)
class Confusion:
    """Confusion matrix of one run over the classes that occur (as label or prediction): ``classes`` (class
    ids, sorted), ``matrix[i, j]`` = clips of true class ``classes[i]`` predicted as ``classes[j]`` (int64),
    ``per_class`` accuracy per true class (NaN for a class only predicted, never a label)."""

    classes: tuple[int, ...]
    matrix: np.ndarray

    @property
    def per_class(self) -> np.ndarray:
        rows = self.matrix.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(rows > 0, np.diag(self.matrix) / np.maximum(rows, 1), np.nan)

    @property
    def n(self) -> int:
        return int(self.matrix.sum())


def confusion(s: Summary) -> Confusion | None:
    """The per-clip confusion matrix from ``summary.predictions`` and ``summary.labels`` (None without them)."""
    if not s.predictions or not s.labels:
        return None
    pairs = [(s.labels[k], p) for k, p in s.predictions.items() if s.labels.get(k) is not None]
    if not pairs:
        return None
    classes = tuple(sorted({c for pair in pairs for c in pair}))
    index = {c: i for i, c in enumerate(classes)}
    m = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for label, pred in pairs:
        m[index[label], index[pred]] += 1
    return Confusion(classes, m)
