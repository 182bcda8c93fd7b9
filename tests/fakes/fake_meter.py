"""The simplest :class:`harness.metrics.energy.base.EnergyMeter`: no instrument and no wire protocol, the test feeds the
DUT's current and timestamp line (:meth:`FakeMeter.feed`) while it records.  A fixed supply voltage; the
timestamp line is sampled with every current sample (``Capture.trigger``).  ``feed(..., overflow=True)``
marks the capture as overflowed: :meth:`FakeMeter.stop` then raises EnergyError, as a monitor whose buffer
filled does.
"""

from __future__ import annotations

import numpy as np

from harness.metrics.energy.base import Capture, EnergyError


class FakeMeter:
    """An EnergyMeter recording what :meth:`feed` gives it between :meth:`start` and :meth:`stop`."""

    def __init__(self, sample_rate_hz: float = 100_000.0, voltage_v: float = 3.3, name: str = "fake meter") -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.voltage_v = voltage_v
        self.name = name
        self.recording = False
        self.closed = False
        self._current: list[np.ndarray] = []
        self._level: list[np.ndarray] = []
        self._overflow = False

    def start(self) -> None:
        if self.closed:
            raise EnergyError(f"{self.name}: start() after close(); open a new meter")
        self._current, self._level, self._overflow = [], [], False
        self.recording = True

    def feed(self, current_a, level, overflow: bool = False) -> None:
        """The DUT's side: per-sample current (A) and timestamp level (True = high); ignored unless recording."""
        if not self.recording:
            return
        self._current.append(np.asarray(current_a, dtype=np.float64).copy())
        self._level.append(np.asarray(level, dtype=bool).copy())
        self._overflow |= overflow

    def stop(self) -> Capture:
        if not self.recording:
            raise EnergyError(f"{self.name}: stop() without start(); no capture was recorded")
        self.recording = False
        if self._overflow:
            raise EnergyError(f"{self.name}: the capture overflowed (samples lost); no energy was recorded")
        current = np.concatenate(self._current) if self._current else np.zeros(0)
        level = np.concatenate(self._level) if self._level else np.zeros(0, dtype=bool)
        return Capture(self.sample_rate_hz, self.name, current_a=current, voltage_v=self.voltage_v, trigger=level)

    def close(self) -> None:
        self.recording = False
        self.closed = True
