"""The measurements ``tinyhil bench`` adds to a run, on the DUT it already has open: latency windows under
the MLPerf Tiny run rules, energy (a monitor, else the power-model estimate, else none), peak stack, and
memory by component.  Fills summary.json's ``latency``, ``energy``, ``memory.components`` and
``memory.peak_stack_bytes`` (field names: README's run-directory contract)."""

from __future__ import annotations

from pathlib import Path
from statistics import median

import numpy as np

from harness.boards import Board
from harness.energy.base import EnergyMeter, EnergyResult, measure_energy
from harness.energy.model import estimate_energy
from harness.measure.latency import RunRules, measure_latency, rules_for
from harness.measure.memory import memory_components


def device_measurements(client, board: Board, x: np.ndarray, dtype, *, twin: bool, rules: RunRules | None = None,
                        meter: EnergyMeter | None = None) -> dict:
    """Latency, energy and peak stack on a connected DUT for input ``x``; returns summary fields.

    With ``meter``, energy is the median of ``rules.windows`` monitor windows (each ``infer N W`` between
    timestamp pulses); without, the board's power model x the median latency (an estimate), or None.
    Raises MeasurementError, EnergyError, ProtocolError, TransportError."""
    data = np.ascontiguousarray(x, dtype=dtype).tobytes()

    def reload() -> None:
        client.load_input(data)

    rules = rules or rules_for(twin)
    latency = measure_latency(client, board, rules, reload)
    if meter is not None:
        results = []
        for _ in range(rules.windows):
            reload()
            results.append(measure_energy(client, meter, latency.windows[0].inferences, rules.warmup))
        mid = sorted(results, key=lambda r: r.per_inference_uj)[len(results) // 2]
        energy: EnergyResult | None = EnergyResult(median(r.per_inference_uj for r in results), mid.avg_power_mw,
                                                   mid.window_s, False, mid.source, mid.inferences)
    else:
        energy = estimate_energy(board, latency.median, latency.source)
    reload()
    stack = client.stack()
    return {"latency": latency.as_dict(), "energy": None if energy is None else energy.as_dict(),
            "stack": {"size_bytes": stack.size, "base_bytes": stack.base, "peak_bytes": stack.peak}}


def add_measurements(summary: dict, measured: dict, elf: str | Path) -> dict:
    """Merge :func:`device_measurements` and the ELF's memory components into ``summary`` (in place)."""
    components = memory_components(elf)
    summary["latency"] = measured["latency"]
    summary["energy"] = measured["energy"]
    summary.setdefault("memory", {})["components"] = None if components is None else components.as_dict()
    summary["memory"]["peak_stack_bytes"] = measured["stack"]["peak_bytes"]
    summary["memory"]["stack_bytes"] = measured["stack"]["size_bytes"]
    return summary
