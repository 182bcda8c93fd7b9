"""How a run's raw-waveform crops reach the DUT (issue 12, item 8): each clip uploaded once and cut on the DUT
(``clip load`` / ``clip crop``, targets/PROTOCOL.md "Clip crops"), or each crop cut on the host and sent whole
(``bload``), as before.  Both give the same input tensors byte for byte (:mod:`harness.data.clips`; each DUT
crop is checked by CRC); only the bytes moved differ: ACDNet-20 ~100 KB per 5 s clip instead of ~300 KB.

A clip is cut on the DUT when all hold: the delivery mode is ``auto``; the data are ESC-50-style clips (not
``.npy`` tensors); the quantization is element-wise on the clip (``--input-quantization model``, not
``peak``); the firmware has a clip buffer (``profile%`` ``clip_bytes``: the RAM left above the stack, see
targets/boards/cortex-m.ld.in) at least as long as the quantized clip; and the clip is shorter than its crops
together.  Otherwise that clip's crops are sent from the host; the manifest says which and why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from harness.codegen.graph import Tensor
from harness.data.clips import NOT_ELEMENTWISE, ClipPlan, clip_plan
from harness.data.layouts import Sample
from harness.data.preprocess import RawCrops
from harness.errors import DataError

#: ``auto``: cut on the DUT where possible (above); ``host``: always send host-cut crops (the pre-item-8 way).
MODES = ("auto", "host")


@dataclass
class CropDelivery:
    """Per sample id, the clip plan to cut on the DUT (None: host crops), decided in two steps:
    :meth:`for_run` (what the data and preprocessing allow) and :meth:`bind` (what the DUT's clip buffer holds).
    ``notes``: sample id -> why its crops come from the host."""

    mode: str
    plans: dict[str, ClipPlan | None]
    notes: dict[str, str] = field(default_factory=dict)
    capacity: int | None = None  #: the DUT's clip buffer, bytes (after bind)

    @classmethod
    def for_run(cls, mode: str, pre: RawCrops, data_dir: Path, kind: str, samples: Sequence[Sample],
                tensor: Tensor) -> CropDelivery:
        """Plans for ``samples`` (of ``data_dir``, layout ``kind``: "esc50" clips or "npy" tensors).  Raises
        DataError for an unknown ``mode`` or an unreadable clip."""
        if mode not in MODES:
            raise DataError(f"crop delivery {mode!r} is unknown; use one of {', '.join(MODES)}")
        plans: dict[str, ClipPlan | None] = {s.id: None for s in samples}
        why = None
        if mode == "host":
            why = "host crops requested"
        elif not isinstance(pre, RawCrops):
            why = "the front end is not raw-waveform crops"
        elif kind == "npy":
            why = "inputs are .npy tensors, not clips"
        elif kind != "esc50":
            why = f"clips of the {kind} layout are cut on the host"
        elif tensor.dtype == "int8" and pre.quantization in NOT_ELEMENTWISE:
            why = NOT_ELEMENTWISE[pre.quantization]
        if why is not None:
            return cls(mode, plans, dict.fromkeys(plans, why))
        for s in samples:
            plans[s.id] = clip_plan(pre, data_dir / "audio" / s.id, tensor)
        return cls(mode, plans)

    def bind(self, dut) -> Callable[[Sample, int, np.ndarray], tuple]:
        """The per-crop inference for :func:`harness.runner.run_samples` on ``dut`` (a :class:`harness.dut.Dut`):
        ``(sample, crop index, host crop) -> (output, Counts)``, cut on the DUT where its clip buffer allows."""
        info = getattr(dut, "device_info", None) if hasattr(dut, "infer_crop") else None  # fakes may have neither
        capacity = (info or {}).get("clip_bytes", 0)
        self.capacity = capacity if isinstance(capacity, int) else 0
        for sid, plan in self.plans.items():
            if plan is None:
                continue
            if len(plan.data) > self.capacity:
                self.notes[sid] = (f"clip of {len(plan.data)} B does not fit the DUT's clip buffer of {self.capacity} B"
                                   " (RAM left above the stack; 0: this firmware has none)")
            elif len(plan.data) >= plan.crops * plan.length:
                self.notes[sid] = "the clip is not shorter than its crops together"
            else:
                continue
            self.plans[sid] = None

        def infer(sample: Sample, k: int, x: np.ndarray):
            plan = self.plans.get(sample.id)
            return dut.infer(x) if plan is None else dut.infer_crop(plan, k)

        return infer

    def reloader(self, client, sample: Sample) -> Callable[[], None] | None:
        """For the measurements after the run (latency windows, stack): put crop 0 of ``sample`` into the input
        tensor by ``clip crop`` when the DUT still holds its clip (the last sample's, after the run), else None
        (upload it).  Saves uploading one input per latency window."""
        plan = self.plans.get(sample.id)
        if plan is None or getattr(client, "loaded_clip", None) is not plan:
            return None
        return lambda: client.cut_crop(plan, 0)

    def describe(self) -> dict:
        """The manifest's ``preprocessing.crop_delivery``: where crops were cut, the clip buffer, bytes uploaded
        per clip (inputs only, frames' overhead excluded) and why any clip was cut on the host."""
        device = [p for p in self.plans.values() if p is not None]
        upload = [len(p.data) for p in device]
        return {"mode": self.mode, "clips_cut_on_dut": len(device), "clips_cut_on_host": len(self.plans) - len(device),
                "clip_buffer_bytes": self.capacity,
                "mean_clip_upload_bytes": round(float(np.mean(upload)), 1) if upload else None,
                "host_crops_because": dict(Counter(self.notes.values()))}
