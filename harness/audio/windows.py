"""A sample stream -> the model's input windows, and the bounded backlog between the microphone and the DUT.

The windows are the waveform crops of :class:`harness.data.preprocess.RawCrops` taken from a stream instead of a
file: ``length`` samples (the model's input length) every ``hop`` samples, at the model's sample rate, int16 scaled
by 1/32768 exactly as ``load_waveform`` does, then quantized by the same code as ``bench``'s crops.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from harness.errors import AudioError

INT16_SCALE = 32768.0  # harness.data.preprocess: int16 samples scaled by 1/32768


@dataclass(frozen=True, eq=False)
class Window:
    """One input window: its index in the stream, first sample (at the model rate; seconds = start / rate) and
    the float32 waveform [length] in [-1, 1)."""

    index: int
    start: int
    samples: np.ndarray


class WindowCutter:
    """Cut a stream of mono blocks into windows of ``length`` samples every ``hop`` samples (1 <= hop).

    ``push(block)`` takes the next int16 (or float32 in [-1, 1)) samples and returns the windows completed by
    them. Memory is bounded: only the samples still needed by a future window are kept."""

    def __init__(self, length: int, hop: int) -> None:
        if length < 1 or hop < 1:
            raise AudioError(f"window length {length} and hop {hop} must be at least one sample; check --hop")
        self.length, self.hop = length, hop
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # stream index of _buf[0]
        self._next = 0  # index of the next window

    def push(self, block: np.ndarray) -> list[Window]:
        x = np.asarray(block).reshape(-1)
        x = x.astype(np.float32) / np.float32(INT16_SCALE) if x.dtype == np.int16 else x.astype(np.float32)
        self._buf = np.concatenate([self._buf, x])
        out = []
        while True:
            start = self._next * self.hop
            offset = start - self._buf_start
            if offset + self.length > len(self._buf):
                break
            out.append(Window(self._next, start, self._buf[offset:offset + self.length].copy()))
            self._next += 1
        keep_from = self._next * self.hop - self._buf_start  # samples before the next window are never used
        if keep_from > 0:
            drop = min(keep_from, len(self._buf))
            self._buf = self._buf[drop:]
            self._buf_start += drop
        return out


class Backlog:
    """Windows waiting for the DUT, at most ``limit`` of them: when a new window arrives and the backlog is full,
    the oldest is dropped and counted (live output stays current; memory never grows). Thread-safe."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise AudioError(f"backlog limit {limit} must be at least 1 window; check --max-backlog")
        self._items: deque[Window] = deque()
        self._limit = limit
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, window: Window) -> None:
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.popleft()
                self.dropped += 1
            self._items.append(window)

    def get(self) -> Window | None:
        """The oldest waiting window, or None."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level of float samples in [-1, 1) in dB full scale (a full-scale square wave is 0 dBFS); -120 for
    silence."""
    x = np.asarray(samples, np.float64).reshape(-1)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return round(20.0 * np.log10(rms), 2) if rms > 1e-6 else -120.0
