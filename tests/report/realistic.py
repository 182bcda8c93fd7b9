"""A realistic report selection built from synthetic-but-plausible run records (no emulator needed).

Four ACDNet-20 variants of the ``acdnet20-no-retraining`` recipe plus the zoo's int8 model and a small model
(``raw_mini_int8``) on the three twins (stm32f746, nrf52840, rp2040), written with the pipeline's own writer
(``harness.rundir.write_run``). Numbers follow the twins' models: instruction counts of the size ACDNet-20 int8
has on a Cortex-M7 twin (103,589,590), latency = instructions × CPI / clock and energy = latency × datasheet
power, exactly as ``tinyhil bench`` derives them (rp2040 has no power model: energy not measured), 7 ESC-50 CC0
clips × 10 crops, memory split into components. Two cases a report must not hide:
- ``acdnet20-float32`` on stm32f746 does not fit (RAM overflowed by 891 KiB: no accuracy, no counts);
- the magnitude-pruned variant costs exactly what the int8 model costs (dense kernels) and has the same
  accuracy: coincident points.
The ACDNet variants' model cards say they were calibrated on the evaluation clips (the recipe's note).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from harness.rundir import Inference, write_run

BOARDS = {  # name: (core, clock Hz, CPI, power mW or None, QEMU machine, count factor vs the M7 twin)
    "stm32f746": ("cortex-m7", 216_000_000, 0.89, 336.6, "mps2-an500", 1.0),
    "nrf52840": ("cortex-m4f", 64_000_000, 1.3, 9.9, "mps2-an386", 1.0046),
    "rp2040": ("cortex-m0plus", 133_000_000, 1.4, None, "mps2-an385", 2.61),
}
CLIPS = {"1-cc0dog-A-0.wav": 0, "1-cc0rooster-A-1.wav": 1, "1-cc0pig-A-2.wav": 2, "1-cc0cow-A-3.wav": 3,
         "1-cc0frog-A-4.wav": 4, "1-cc0cat-A-5.wav": 5, "1-cc0sheep-A-8.wav": 8}
RECIPE_METHOD = "post-training compression of ACDNet-20 (no retraining)"
# name: (method, base, M7 instructions, weight bytes, arena bytes, MACs, params, wrong clips -> prediction)
VARIANTS = {
    "acdnet20_esc50_fold4_int8": ("none", None, 103_589_590, 143_872, 181_248, 17_466_660, 139_410,
                                  {"1-cc0cow-A-3.wav": 2, "1-cc0frog-A-4.wav": 4 + 30, "1-cc0sheep-A-8.wav": 3}),
    "acdnet20-int8": (RECIPE_METHOD, "acdnet20_esc50_fold4_float.h5", 103_612_004, 143_872, 181_248, 17_466_660,
                      139_410, {"1-cc0cow-A-3.wav": 2, "1-cc0frog-A-4.wav": 34, "1-cc0sheep-A-8.wav": 3}),
    "acdnet20-magnitude50-int8": (RECIPE_METHOD, "acdnet20_esc50_fold4_float.h5", 103_612_004, 143_872, 181_248,
                                  17_466_660, 139_410,
                                  {"1-cc0cow-A-3.wav": 2, "1-cc0pig-A-2.wav": 3, "1-cc0sheep-A-8.wav": 3}),
    "acdnet20-filter50-int8": (RECIPE_METHOD, "acdnet20_esc50_fold4_float.h5", 54_118_306, 75_264, 121_856,
                               8_912_396, 71_332, {"1-cc0cow-A-3.wav": 2, "1-cc0frog-A-4.wav": 34,
                                                    "1-cc0sheep-A-8.wav": 3, "1-cc0cat-A-5.wav": 0,
                                                    "1-cc0pig-A-2.wav": 19}),
    "raw_mini_int8": ("none", None, 1_912_377, 11_904, 24_576, 1_290_240, 11_380,
                      {c: 41 for c in list(CLIPS)[1:]}),
}
NOT_FIT = ("acdnet20-float32", RECIPE_METHOD, 575_488, 327_680 + 912_384)  # name, method, weights, RAM bytes
RUNTIME_FLASH, RUNTIME_RAM, STACK, HEAP = 31_204, 412, 8_192, 2_048


def _memory(weights: int, arena: int, board: str) -> dict:
    runtime_flash = RUNTIME_FLASH + {"stm32f746": 0, "nrf52840": 364, "rp2040": 2_912}[board]  # startup/BSP
    flash = {"model_weights": weights, "runtime": runtime_flash - 9_000, "kernels": 9_000}
    ram = {"tensor_arena": arena, "runtime": RUNTIME_RAM, "stack": STACK, "heap": HEAP}
    return {"flash_bytes": sum(flash.values()), "ram_bytes": sum(ram.values()),
            "components": {"flash": flash, "ram": ram}, "stack_bytes": STACK, "peak_stack_bytes": 1_880}


def _manifest(name: str, board: str, date: str, model_path: Path, data: Path) -> dict:
    core, clock, _, _, machine, _ = BOARDS[board]
    return {"board": board, "core": core, "clock_hz": clock, "date": date, "target": "twin",
            "model": {"file": model_path.name, "path": str(model_path), "sha256": hashlib.sha256(name.encode()).hexdigest()},
            "twin": {"machine": machine, "cpu": core}, "timer_source": "instructions", "backend": "tinyhil",
            "data": {"kind": "esc50", "path": str(data), "samples": len(CLIPS)},
            "firmware": {"compiler": "arm-none-eabi-gcc 12.2.1", "flags": ["-O2"], "kind": "twin"}}


def write_selection(out: Path, data: Path = Path("/work/shared/audio/esc50-cc0")) -> list[Path]:
    """Write the selection's run directories (and the variants' model cards under ``out/models``) into ``out``;
    returns the run directories, 16 of them: 5 models × 3 twins + the float32 model that does not fit."""
    out.mkdir(parents=True, exist_ok=True)
    models = out / "models"
    models.mkdir(exist_ok=True)
    rng = np.random.default_rng(15)
    paths = []
    for v, (method, base, m7_count, weights, arena, macs, params, wrong) in VARIANTS.items():
        model_path = models / f"{v}.tflite"
        if method != "none":  # the recipe's model card: calibrated on the evaluation data
            (models / f"{v}.card.json").write_text(json.dumps({"name": v, "method": method, "data": str(data)}))
        for b_i, (board, (core, clock, cpi, power, _, factor)) in enumerate(BOARDS.items()):
            base_count = int(m7_count * factor)
            rows, predictions = [], {}
            for clip, label in CLIPS.items():
                pred = wrong.get(clip, label)
                predictions[clip] = pred
                for crop in range(10):
                    count = base_count + int(rng.integers(-40, 41))
                    rows.append(Inference(**{"input_id": clip, "crop": crop, "label": label, "prediction": pred,
                                 "clip_prediction": pred, "count": count, "count_unit": "instructions",
                                 "matches_reference": True}))
            counts = [r.count for r in rows]
            window_us = [c * cpi / clock * 1e6 for c in sorted(counts)[::14]]
            lat_us = float(np.median(counts)) * cpi / clock * 1e6
            correct = sum(p == CLIPS[c] for c, p in predictions.items())
            summary = {
                "model": model_path.name, "board": board, "target": "twin", "samples": len(CLIPS),
                "inferences": len(rows), "accuracy": correct / len(CLIPS), "correct": correct,
                "counts": {"unit": "instructions", "median": float(np.median(counts)), "min": min(counts),
                           "max": max(counts), "n": len(counts)},
                "memory": _memory(weights, arena, board), "arena_bytes": arena, "weight_bytes": weights,
                "macs": macs, "params": params, "bit_exact": True, "mismatches": 0,
                "latency": {"unit": "us", "median": lat_us, "min": min(window_us), "max": max(window_us),
                            "estimate": True, "source": f"ESTIMATE: instructions x CPI {cpi} / {clock / 1e6:g} MHz",
                            "count_unit": "instructions", "count_median": float(np.median(counts)),
                            "windows": len(window_us), "inferences_per_window": 1, "warmup": 1},
                "energy": None if power is None else {
                    "unit": "uJ", "per_inference": lat_us * power / 1000, "avg_power_mw": power, "estimate": True,
                    "source": f"ESTIMATE: power model {power} mW x estimated time"},
                "predictions": predictions, "labels": dict(CLIPS),
                "variant": {"name": v, "method": method, "base": base}, "tags": ["issue15"],
            }
            date = f"2026-11-2{b_i}T0{list(VARIANTS).index(v)}:00:00+00:00"
            run_id = f"2026112{b_i}T0{list(VARIANTS).index(v)}0000Z-{v}-{board}-twin"
            paths.append(write_run(out, run_id, _manifest(v, board, date, model_path, data), summary, rows))
    name, method, weights, ram = NOT_FIT
    (models / f"{name}.card.json").write_text(json.dumps({"name": name, "method": method, "data": str(data)}))
    memory = {"flash_bytes": weights + RUNTIME_FLASH, "ram_bytes": ram, "sections": None}
    summary = {"model": f"{name}.tflite", "board": "stm32f746", "target": "twin", "memory": memory,
               "weight_bytes": weights, "arena_bytes": ram - RUNTIME_RAM - STACK - HEAP, "macs": 17_466_660,
               "params": 139_410, "variant": {"name": name, "method": method, "base": "acdnet20_esc50_fold4_float.h5"},
               "tags": ["issue15", "does-not-fit"]}
    paths.append(write_run(out, f"20261120T090000Z-{name}-stm32f746-twin",
                           _manifest(name, "stm32f746", "2026-11-20T09:00:00+00:00", models / f"{name}.tflite", data),
                           summary, []))
    return paths


ACDNET_OPS = (["CONV_2D", "CONV_2D", "MAX_POOL_2D", "TRANSPOSE"] + ["CONV_2D", "CONV_2D", "MAX_POOL_2D"] * 5
              + ["CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"])  # 23 operators, as the ACDNet-20 profile has


def profile_document(run_dir: Path) -> dict:
    """A ``tinyhil profile`` result (profile.json, as ``harness.metrics.profile.Profile.save`` writes it) for the
    model and board of ``run_dir``: 23 ACDNet operators whose instructions add up to the run's median count
    (convolutions ~5-6 instructions per MAC, the rest in pooling and data movement)."""
    from harness.rundir import read_run

    run = read_run(run_dir)
    whole, macs_total = int(run.summary.counts.median), run.summary.macs
    conv = [i for i, op in enumerate(ACDNET_OPS) if op == "CONV_2D"]
    weights = np.linspace(1.6, 0.4, len(conv))
    macs = {i: int(macs_total * w / weights.sum()) for i, w in zip(conv, weights)}
    raw = np.array([macs.get(i, 0) * (5.2 + 0.1 * (i % 3)) if op == "CONV_2D" else
                    {"MAX_POOL_2D": 0.9e6, "TRANSPOSE": 2.1e6, "AVERAGE_POOL_2D": 0.2e6}.get(op, 2e3)
                    for i, op in enumerate(ACDNET_OPS)])
    counts = np.floor(raw / raw.sum() * whole).astype(int)
    counts[0] += whole - counts.sum()
    unit = run.summary.counts.unit
    ops = [{"index": i, "operator": op, "shape": "?", "macs": macs.get(i, 0), unit: int(c),
            "share_pct": round(100 * c / whole, 3), f"macs_per_{unit[:-1]}": round(macs.get(i, 0) / c, 4)}
           for i, (op, c) in enumerate(zip(ACDNET_OPS, counts))]
    return {"model": run.manifest.model.file, "board": run.board, "target": run.target, "unit": unit,
            "estimate": True, "source": "ESTIMATE: instructions x CPI / clock", "whole": whole, "timer_overhead": 7,
            "backend": run.backend, "recorded": "2026-11-23T00:00:00+00:00", "total": whole, "deviation": 0.0,
            "operators": ops}
