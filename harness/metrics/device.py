"""The measurements ``tinyhil bench`` adds to a run, on the DUT it already has open: latency windows under
the MLPerf Tiny run rules, energy (a power monitor, else the power-model estimate, else none), peak stack, and
memory by component.  Fills summary.json's ``latency``, ``energy``, ``memory.components`` and
``memory.peak_stack_bytes`` (field names: README's run-directory contract)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.metrics.energy.source import EnergySource
from harness.metrics.latency import measure_latency
from harness.metrics.memory import memory_components
from harness.target import Target


def device_measurements(client, target: Target, x: np.ndarray, dtype, energy: EnergySource | None = None,
                        reload=None) -> dict:
    """Latency (``target.rules``), energy and peak stack on a connected DUT for input ``x``; returns summary
    fields.  ``energy``: from :func:`harness.metrics.energy.source.meter_for` (None: energy not measured).
    ``reload()``: puts ``x`` into the input tensor before each window (default: upload it with ``bload``;
    bench passes a ``clip crop`` of the clip the DUT holds, issue 12 item 8).
    Raises MeasurementError, EnergyError, ProtocolError, TransportError."""
    data = np.ascontiguousarray(x, dtype=dtype).tobytes()

    def upload() -> None:
        client.load_input(data)

    reload = reload or upload

    latency = measure_latency(client, target, reload)
    result = None if energy is None else energy.measure(client, latency, reload)
    reload()
    stack = client.stack()
    return {"latency": latency.as_dict(), "energy": None if result is None else result.as_dict(),
            "stack": {"size_bytes": stack.size, "base_bytes": stack.base, "peak_bytes": stack.peak}}


def add_measurements(summary: dict, measured: dict, elf: str | Path) -> dict:
    """Merge :func:`device_measurements` and the ELF's memory components into ``summary`` (in place)."""
    components = memory_components(elf)
    summary["latency"] = measured["latency"]
    summary["energy"] = measured["energy"]
    summary.setdefault("memory", {})["components"] = None if components is None else components.as_dict()
    summary["memory"]["peak_stack_bytes"] = measured["stack"]["peak_bytes"]
    summary["memory"]["stack_bytes"] = measured["stack"]["size_bytes"]
    summary["memory"]["peak_ram_bytes"] = peak_ram_bytes(summary["memory"].get("ram_bytes"), measured["stack"])
    return summary


def peak_ram_bytes(ram_bytes: int | None, stack: dict) -> int | None:
    """RAM in use at the peak (bytes): the linked RAM (``.data``, ``.bss`` with the tensor arena, heap and stack
    reservations) less the part of the stack reservation the painted-stack scan found untouched
    (``size_bytes - peak_bytes``).  None when either is unknown."""
    if ram_bytes is None or stack.get("peak_bytes") is None or stack.get("size_bytes") is None:
        return None
    return ram_bytes - (stack["size_bytes"] - stack["peak_bytes"])
