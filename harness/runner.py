"""Stream samples through a DUT and collect one record per inference.

The runner sees the DUT only through :class:`Inferrer` (``infer(x) -> (output, counts)``), so a
twin, a real board and the host build of the model are interchangeable here.  Every on-device output is
compared with the host reference (TFLM) on the same input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

import numpy as np

from harness.codegen.graph import Tensor
from harness.data.layouts import Sample
from harness.dut import Counts
from harness.data.preprocess import aggregate


class Inferrer(Protocol):
    """Anything that runs one inference (a :class:`harness.dut.Dut`, or a fake): ``infer(x)`` takes the input
    tensor (numpy, model input dtype and shape) and returns (output tensor, counts) where ``counts.value`` is
    in ``counts.unit`` (instructions or cycles)."""

    def infer(self, x: np.ndarray) -> tuple[np.ndarray, "Counts"]: ...


class Reference(Protocol):
    def run(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class InferenceRecord:
    """One inference: sample id, crop index, label, per-crop arg-max, the clip's prediction (mean of its
    crops' dequantized outputs), the count, the raw output tensor, and whether it equals the reference."""

    sample_id: str
    crop: int
    label: int | None
    prediction: int
    clip_prediction: int
    count: int
    output: np.ndarray
    matches_reference: bool | None


def run_samples(dut: Inferrer, samples: Iterable[Sample], output_tensor: Tensor,
                reference: Reference | None = None,
                on_inference: Callable[[InferenceRecord], None] | None = None) -> list[InferenceRecord]:
    """Run every crop of every sample on ``dut``; returns the records in order.

    Errors from the DUT (TransportError, ProtocolError) propagate: a partial run is never returned.
    """
    records: list[InferenceRecord] = []
    for sample in samples:
        outputs, counts, matches = [], [], []
        for x in sample.inputs:
            out, count = dut.infer(x)
            outputs.append(out)
            counts.append(count.value)
            matches.append(None if reference is None else bool(np.array_equal(
                np.asarray(reference.run(x)).reshape(-1), out.reshape(-1))))
        clip_pred = int(np.argmax(aggregate(np.stack(outputs), output_tensor)))
        for crop, (out, count, match) in enumerate(zip(outputs, counts, matches)):
            rec = InferenceRecord(sample.id, crop, sample.label, int(np.argmax(out.reshape(-1))), clip_pred,
                                  count, out, match)
            records.append(rec)
            if on_inference:
                on_inference(rec)
    return records
