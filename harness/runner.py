"""Stream samples through a DUT and collect one record per inference.

The runner sees the DUT only through :class:`Inferrer` (``infer(x) -> (output, counts)``), so a
twin, a real board and the host build of the model are interchangeable here.  Every on-device output is
compared with the host reference (TFLM) on the same input.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Protocol

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


#: Called after each finished crop: (sample id, crop index, output, Counts, matches_reference).
CropHook = Callable[[str, int, np.ndarray, Counts, "bool | None"], None]


def run_samples(dut: Inferrer, samples: Iterable[Sample], output_tensor: Tensor,
                reference: Reference | None = None,
                on_inference: Callable[[InferenceRecord], None] | None = None,
                done: Mapping[tuple[str, int], Any] | None = None,
                on_crop: CropHook | None = None,
                infer: Callable[[Sample, int, np.ndarray], tuple[np.ndarray, Counts]] | None = None,
                ) -> list[InferenceRecord]:
    """Run every crop of every sample on ``dut``; returns the records in order.

    ``done``: inferences finished by an earlier, interrupted attempt ({(sample id, crop): entry with
    ``output`` (flat values), ``count``, ``matches_reference``}, see :mod:`harness.rundir.journal`); they are
    taken as recorded, not re-run, so a resumed run equals an uninterrupted one.  ``on_crop`` is called after
    each crop that ran (to journal it).  ``infer(sample, crop index, x)``: how one crop runs (default
    ``dut.infer(x)``; bench passes :meth:`harness.crops.CropDelivery.bind` to cut crops on the DUT).  Errors
    from the DUT (TransportError, ProtocolError) propagate: a partial run is never returned.

    The reference runs each crop in one worker thread while the DUT infers the same crop (the TFLM host
    interpreter releases the GIL in ``invoke``), so checking every output costs no serial-link time.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinyhil-reference") as pool:
        return _run(dut, samples, output_tensor, reference, on_inference, done or {}, on_crop, infer, pool)


def _run(dut, samples, output_tensor, reference, on_inference, done, on_crop, infer, pool) -> list[InferenceRecord]:
    records: list[InferenceRecord] = []
    for sample in samples:
        outputs, counts, matches = [], [], []
        for crop, x in enumerate(sample.inputs):
            if (sample.id, crop) in done:
                entry = done[(sample.id, crop)]
                outputs.append(np.asarray(entry.output, dtype=output_tensor.dtype).reshape(output_tensor.shape))
                counts.append(int(entry.count))
                matches.append(entry.matches_reference)
                continue
            expected = None if reference is None else pool.submit(reference.run, x)
            out, count = infer(sample, crop, x) if infer else dut.infer(x)
            outputs.append(out)
            counts.append(count.value)
            matches.append(None if expected is None else bool(np.array_equal(
                np.asarray(expected.result()).reshape(-1), out.reshape(-1))))
            if on_crop:
                on_crop(sample.id, crop, out, count, matches[-1])
        clip_pred = int(np.argmax(aggregate(np.stack(outputs), output_tensor)))
        for crop, (out, count, match) in enumerate(zip(outputs, counts, matches)):
            rec = InferenceRecord(sample.id, crop, sample.label, int(np.argmax(out.reshape(-1))), clip_pred,
                                  count, out, match)
            records.append(rec)
            if on_inference:
                on_inference(rec)
    return records
