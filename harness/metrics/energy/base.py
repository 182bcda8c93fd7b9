"""The energy-meter seam, the capture record and the window integration (MLPerf Tiny energy mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from harness.errors import TinyhilError


class EnergyError(TinyhilError):
    """A capture cannot give a valid energy: lost or spurious timestamp pulse, monitor overflow (dropped
    samples), monitor missing or refusing a command.  Nothing is recorded as a number."""


@dataclass(frozen=True, eq=False)
class Capture:
    """What a monitor recorded between ``start`` and ``stop``.

    ``sample_rate_hz``: samples per second.  Per sample, either ``current_a`` (A, float; NaN = missing
    sample) with ``voltage_v`` (V: an array per sample or one float for a fixed supply), or ``energy_j``
    (J integrated over each sample period, monitors in energy mode).  The timestamp line is either
    ``trigger`` (per-sample level, True = high; pulses are detected as falling edges) or ``events``
    (sample indices of falling edges reported by the monitor itself).  ``source`` names the monitor."""

    sample_rate_hz: float
    source: str
    current_a: np.ndarray | None = None
    voltage_v: np.ndarray | float | None = None
    energy_j: np.ndarray | None = None
    trigger: np.ndarray | None = None
    events: tuple[int, ...] | None = None
    dropped_samples: int = 0

    def pulses(self) -> list[int]:
        """Sample indices of the timestamp pulses (falling edges of the trigger line, or the monitor's events)."""
        if self.events is not None:
            return list(self.events)
        if self.trigger is None:
            raise EnergyError(f"{self.source}: the capture has no timestamp channel; wire the DUT's timestamp GPIO "
                              "to the monitor's logic/GPI input")
        t = np.asarray(self.trigger, dtype=bool)
        return [int(i) for i in np.flatnonzero(t[:-1] & ~t[1:]) + 1]


class EnergyMeter(Protocol):
    """A power monitor: ``start()`` begins recording (returns once it records), ``stop()`` ends it and returns
    the :class:`Capture`, ``close()`` releases the instrument.  Raise EnergyError on instrument errors."""

    def start(self) -> None: ...

    def stop(self) -> Capture: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class EnergyResult:
    """Energy per inference (µJ), average power over the window (mW), window length (s), whether it is an
    estimate, and its source.  ``as_dict`` is summary.json's ``energy`` record."""

    per_inference_uj: float
    avg_power_mw: float
    window_s: float | None
    estimate: bool
    source: str
    inferences: int | None = None

    def as_dict(self) -> dict:
        return {"unit": "uJ", "per_inference": round(self.per_inference_uj, 3),
                "avg_power_mw": round(self.avg_power_mw, 3), "estimate": self.estimate, "source": self.source,
                "window_s": None if self.window_s is None else round(self.window_s, 6),
                "inferences": self.inferences}


def window_energy(capture: Capture, inferences: int) -> EnergyResult:
    """Integrate power between the two timestamp pulses of ``capture``; divide by ``inferences``.

    Energy = sum over samples [start, end) of I*V / fs (or of the monitor's per-sample energy).  Raises
    EnergyError for a lost trigger (< 2 pulses), spurious pulses (> 2), or missing samples in the window."""
    if inferences < 1:
        raise ValueError("inferences must be >= 1")
    pulses = capture.pulses()
    if len(pulses) < 2:
        raise EnergyError(f"{capture.source}: lost trigger: {len(pulses)} timestamp pulse(s) in the capture, 2 expected "
                          "(before the first and after the last timed inference); check the timestamp wire and the "
                          "pulse width (>= 20 us); no energy was recorded")
    if len(pulses) > 2:
        raise EnergyError(f"{capture.source}: {len(pulses)} timestamp pulses in the capture, 2 expected; a noisy "
                          "timestamp line or another program toggling it: fix the wiring; no energy was recorded")
    a, b = pulses
    if b <= a:
        raise EnergyError(f"{capture.source}: timestamp pulses out of order; monitor firmware bug")
    if capture.energy_j is not None:
        e = np.asarray(capture.energy_j[a:b], dtype=np.float64)
    else:
        i = np.asarray(capture.current_a[a:b], dtype=np.float64)
        v = capture.voltage_v if np.isscalar(capture.voltage_v) else np.asarray(capture.voltage_v[a:b], np.float64)
        e = i * v / capture.sample_rate_hz
    if e.size == 0 or not np.all(np.isfinite(e)):
        missing = int(np.count_nonzero(~np.isfinite(e)))
        raise EnergyError(f"{capture.source}: {missing} sample(s) missing inside the inference window (monitor "
                          "overflow); lower the sample rate or free the USB bus; no energy was recorded")
    joules = float(e.sum())
    seconds = (b - a) / capture.sample_rate_hz
    return EnergyResult(joules / inferences * 1e6, joules / seconds * 1e3, seconds, False,
                        f"{capture.source}: integrated between GPIO timestamps", inferences)


def measure_energy(client, meter: EnergyMeter, inferences: int, warmup: int = 1) -> EnergyResult:
    """One MLPerf energy window: start the monitor, ``infer inferences warmup%`` on ``client``, stop, integrate.

    Raises EnergyError (see :func:`window_energy`), ProtocolError/TransportError from the DUT.  The monitor is
    stopped on every path."""
    meter.start()
    try:
        client.infer(inferences, warmup)
    except BaseException:
        meter.stop()
        raise
    return window_energy(meter.stop(), inferences)
