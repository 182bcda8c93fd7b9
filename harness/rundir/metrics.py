"""A run summary flattened into scalar metrics (the history database's ``metrics`` table) and its per-layer profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple


from harness.errors import ResultsError

if TYPE_CHECKING:  # pragma: no cover
    pass
from harness.rundir.records import Counts, Energy, Latency, Memory, Summary

# --- metrics and per-layer profile ------------------------------------------------------------------------------

class Metric(NamedTuple):
    """One scalar metric of a run: name, value, unit, estimate flag (None: not applicable), source."""

    name: str
    value: float
    unit: str | None
    estimate: bool | None = None
    source: str | None = None


def summary_metrics(summary: Summary) -> list[Metric]:
    """The summary's scalar metrics. Names (units): accuracy (fraction); correct, samples, inferences, mismatches,
    params (count); count_median/min/max (instructions or cycles); latency_median/min/max (the latency's unit,
    µs, with estimate flag and source); energy_per_inference (the energy's unit, µJ), avg_power (mW);
    every ``*_bytes`` field of :class:`Memory` (flash, RAM, stack, peak stack, peak RAM), arena_bytes, weight_bytes, memory.section.<name>,
    memory.component.<flash|ram>.<name> (bytes); macs (MACs); bit_exact (bool, 1/0); wall_time_s (s).
    A missing value is left out, never recorded as 0."""
    rows: list[Metric] = []

    def add(name, value, unit=None, estimate=None, source=None):
        if value is not None:
            rows.append(Metric(name, float(value), unit, estimate, source))

    s = summary
    add("accuracy", s.accuracy, "fraction")
    for key in ("correct", "samples", "inferences", "mismatches", "params"):
        add(key, getattr(s, key), "count")
    c, lat, en, mem = s.counts or Counts(), s.latency or Latency(), s.energy or Energy(), s.memory or Memory()
    for stat in ("median", "min", "max"):
        add(f"count_{stat}", getattr(c, stat), c.unit)
        add(f"latency_{stat}", getattr(lat, stat), lat.unit, lat.estimate, lat.source)
    add("energy_per_inference", en.per_inference, en.unit, en.estimate, en.source)
    add("avg_power", en.avg_power_mw, "mW", en.estimate, en.source)
    for key in (k for k in Memory.model_fields if k.endswith("_bytes")):
        add(key, getattr(mem, key), "bytes")
    for name, value in (mem.sections or {}).items():
        add(f"memory.section.{name}", value, "bytes")
    for side in ("flash", "ram"):
        for name, value in (getattr(mem.components, side) or {} if mem.components else {}).items():
            add(f"memory.component.{side}.{name}", value, "bytes")
    add("arena_bytes", s.arena_bytes, "bytes")
    add("weight_bytes", s.weight_bytes, "bytes")
    add("macs", s.macs, "MACs")
    add("bit_exact", None if s.bit_exact is None else int(s.bit_exact), "bool")
    add("wall_time_s", s.wall_time_s, "s")
    return rows


_TO_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "ns": 1e-3}
_TO_UJ = {"uJ": 1.0, "mJ": 1e3, "J": 1e6, "nJ": 1e-3}


def _scaled(value: float | None, unit: str | None, factors: dict[str, float], what: str) -> float | None:
    if value is None:
        return None
    if (key := str(unit).replace("µ", "u")) not in factors:
        raise ResultsError(f"{what} unit {unit!r} is not one of {', '.join(factors)}; fix the run summary")
    return float(value) * factors[key]


def latency_us(summary: Summary) -> float | None:
    """Median latency per inference in µs (None: not measured). Raises ResultsError for an unknown unit."""
    return _scaled(summary.latency.median, summary.latency.unit, _TO_US, "latency") if summary.latency else None


def energy_uj(summary: Summary) -> float | None:
    """Energy per inference in µJ (None: not measured). Raises ResultsError for an unknown unit."""
    return _scaled(summary.energy.per_inference, summary.energy.unit, _TO_UJ, "energy") if summary.energy else None


def layer_profile(summary: Summary, run_dir: Path | None = None) -> list[dict]:
    """The per-layer profile as [{idx, op, count, unit, macs}] in operator order ([] when the run has none), from
    ``summary.profile`` (a list of per-operator records, or a mapping with an ``operators``/``layers`` list, as
    ``tinyhil profile`` writes profile.json) or ``profile.json`` in ``run_dir``; the count from the first of
    ``instructions``, ``cycles``, ``count`` present. Raises ResultsError for a malformed profile.json."""
    prof = summary.profile
    if prof is None and run_dir is not None and (run_dir / "profile.json").is_file():
        try:
            prof = json.loads((run_dir / "profile.json").read_text())
        except json.JSONDecodeError:
            raise ResultsError(f"{run_dir}/profile.json is not valid JSON; rerun `tinyhil profile`") from None
    unit, layers = (prof.get("unit"), prof.get("operators") or prof.get("layers") or []) if isinstance(prof, dict) \
        else (None, prof or [])
    out = []
    for i, layer in enumerate(layers):
        key = next((k for k in ("instructions", "cycles", "count") if isinstance(layer, dict)
                    and layer.get(k) is not None), None)
        if key is None:
            continue
        out.append({"idx": int(layer.get("index", layer.get("idx", i))),
                    "op": str(layer.get("operator") or layer.get("op") or layer.get("type") or "?"),
                    "count": float(layer[key]), "unit": layer.get("unit") or unit or (key if key != "count" else None),
                    "macs": layer.get("macs")})
    return out

