"""Shared plot geometry. The report's figures live in :mod:`harness.report.tradeoff` (accuracy against latency,
energy, RAM, flash and counts), :mod:`harness.report.bars` (per-board grouped bars) and
:mod:`harness.report.detail` (confusion matrices, per-operator profile); their print style (sizes, fonts,
palette, markers, PDF + 300-dpi PNG) is :mod:`harness.report.style`.
"""

from __future__ import annotations

import math

import numpy as np


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (lower or equal x and higher or equal y, one strictly),
    sorted by x. ``x``, ``y``: 1-D float arrays of equal length (NaN-free)."""
    order = np.lexsort((-y, x))
    front, best = [], -math.inf
    for i in order:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return np.array(front, dtype=int)
