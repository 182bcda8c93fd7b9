"""Where a run's energy figure comes from: a power monitor, the board's datasheet power model, or nowhere.

:func:`meter_for` turns a target and a power-monitor spec (``--energy-meter js220|js110|ppk2|lpm01a[:PORT]``)
into an :class:`EnergySource`; ``bench`` and the pytest plugin call it and nothing else.  Two sources:

* :class:`MonitorEnergy`: MLPerf Tiny energy mode through one of the drivers (``rules.windows`` windows of
  ``infer N W`` between the DUT's GPIO timestamp pulses; the median window is reported, ``estimate: false``);
* :class:`PowerModelEstimate`: the board's datasheet active current x supply voltage x latency, labelled
  ``estimate: true`` (:func:`harness.metrics.energy.model.estimate_energy`).

With neither, energy is None ("not measured", never 0).
"""

from __future__ import annotations

from statistics import median
from typing import Callable, Protocol

from harness.metrics.energy.base import EnergyError, EnergyMeter, EnergyResult, measure_energy
from harness.metrics.energy.model import estimate_energy
from harness.target import MeterSpec, Target


class EnergySource(Protocol):
    """Gives the energy per inference of a connected DUT (µJ) once its latency is known."""

    def measure(self, client, latency, reload: Callable[[], None]) -> EnergyResult | None:
        """Energy per inference; ``latency``: the run's LatencyResult (µs, windows); ``reload`` reloads the
        input tensor.  Raises EnergyError, ProtocolError, TransportError."""

    def close(self) -> None:
        """Release the instrument; idempotent."""


class MonitorEnergy:
    """Energy measured by a power monitor ``meter`` (an :class:`EnergyMeter`): ``target.rules.windows``
    windows, each as long as a latency window, the median per-inference energy reported (µJ)."""

    def __init__(self, meter: EnergyMeter, target: Target) -> None:
        self.meter = meter
        self.rules = target.rules

    def measure(self, client, latency, reload: Callable[[], None]) -> EnergyResult:
        results = []
        for _ in range(self.rules.windows):
            reload()
            results.append(measure_energy(client, self.meter, latency.windows[0].inferences, self.rules.warmup))
        mid = sorted(results, key=lambda r: r.per_inference_uj)[len(results) // 2]
        return EnergyResult(median(r.per_inference_uj for r in results), mid.avg_power_mw, mid.window_s, False,
                            mid.source, mid.inferences)

    def close(self) -> None:
        self.meter.close()


class PowerModelEstimate:
    """The ESTIMATE from ``board.power`` (datasheet current x voltage) x the run's median latency."""

    def __init__(self, target: Target) -> None:
        self.board = target.board

    def measure(self, client, latency, reload: Callable[[], None]) -> EnergyResult | None:
        return estimate_energy(self.board, latency.median, latency.source)

    def close(self) -> None:
        pass


def open_meter(spec: MeterSpec) -> EnergyMeter:
    """Open the driver of ``spec``: Joulescope JS220/JS110 (``port`` = device path, None = the only one),
    PPK2 or LPM01A on ``port``.  Raises EnergyError (package missing, instrument not found)."""
    if spec.kind == "ppk2":
        from harness.metrics.energy.ppk2 import Ppk2Meter  # noqa: PLC0415

        return Ppk2Meter(spec.port)
    if spec.kind == "lpm01a":
        from harness.metrics.energy.lpm01a import Lpm01aMeter  # noqa: PLC0415

        return Lpm01aMeter(spec.port)
    from harness.metrics.energy.joulescope import JoulescopeMeter  # noqa: PLC0415

    return JoulescopeMeter(_joulescope_device(spec.port) if spec.port else None)


def _joulescope_device(path: str):
    try:
        import joulescope  # noqa: PLC0415
    except ImportError:
        raise EnergyError("the joulescope package is not installed; pip install 'tinyhil[energy]'") from None
    found = [d for d in joulescope.scan(config="auto") if str(getattr(d, "device_path", d)).endswith(path)]
    if len(found) != 1:
        raise EnergyError(f"Joulescope {path!r}: {len(found)} matching devices attached; pass the device path "
                          "shown by `joulescope info`")
    return found[0]


def meter_for(target: Target, spec: MeterSpec | str | None = None) -> EnergySource | None:
    """The energy source of a run on ``target``: the power monitor ``spec`` (default ``target.meter``) when
    given, else the board's labelled power-model estimate, else None.  Raises EnergyError when the monitor
    cannot be opened (never silently falls back to the estimate)."""
    spec = MeterSpec.parse(spec) if isinstance(spec, str) else (spec or target.meter)
    if spec is not None:
        return MonitorEnergy(open_meter(spec), target)
    if target.board.power is not None:
        return PowerModelEstimate(target)
    return None
