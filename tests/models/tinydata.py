"""A tiny ESC-50-layout dataset made by the tests: 3 classes (low tone, high tone, noise bursts), 2 folds.

Deterministic (seeded); 16 kHz mono 16-bit WAV, 1.5 s per clip.  Small enough that a recipe's `ci` preset
trains in seconds, distinct enough that a network can learn it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16000
CLASSES = ("tone_low", "tone_high", "noise")


def make_tiny_esc50(root: Path, per_class_per_fold: int = 4, folds: int = 2, seconds: float = 1.5) -> Path:
    """Write ``root/audio/*.wav`` and ``root/meta/esc50.csv``; returns root."""
    rng = np.random.default_rng(1234)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    t = np.arange(int(RATE * seconds)) / RATE
    rows = []
    for fold in range(1, folds + 1):
        for target, name in enumerate(CLASSES):
            for k in range(per_class_per_fold):
                if name == "tone_low":
                    x = 0.5 * np.sin(2 * np.pi * rng.uniform(300, 500) * t)
                elif name == "tone_high":
                    x = 0.5 * np.sin(2 * np.pi * rng.uniform(2000, 3000) * t)
                else:
                    x = 0.5 * rng.standard_normal(len(t)) * (np.sin(2 * np.pi * 4 * t) > 0)
                x = x + 0.02 * rng.standard_normal(len(t))
                fname = f"{fold}-{name}{k}-A-{target}.wav"
                sf.write(root / "audio" / fname, (np.clip(x, -1, 1) * 32000).astype(np.int16), RATE)
                rows.append({"filename": fname, "fold": fold, "target": target, "category": name,
                             "esc10": "True" if target < 2 else "False", "src_file": fname, "take": "A"})
    with open(root / "meta" / "esc50.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root
