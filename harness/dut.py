"""The device under test as every caller sees it: a flashed board or twin behind the serial protocol.

One class, :class:`Dut`, serves ``bench``, ``profile``, ``variants`` and the pytest plugin's ``dut`` fixture.
It is made by :func:`harness.orchestrate.connect`, which is the only code that flashes and opens the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import TinyhilError


@dataclass(frozen=True)
class Counts:
    """Timer counts of one inference: ``value`` in ``unit`` ("instructions" on twins, "cycles" on hardware)."""

    value: int
    unit: str


class Dut:
    """A flashed, connected DUT running ``firmware`` (an :class:`harness.orchestrate.Firmware`).

    ``infer(x)`` loads the input tensor ``x`` (ndarray with the model input's shape and dtype, int8 or
    float32) in binary frames, runs ``infer 1 0`` (no warm-up: use :meth:`DeviceClient.infer` through
    ``client`` for MLPerf-style windows), and returns (output ndarray with the model output's shape and dtype,
    :class:`Counts`).  ``check(x)`` also compares every output byte with the host reference that ``bench``
    uses (TFLM; TFLM segments + the XNOR reference for binary models).  ``run_dir`` holds ``serial.log``.
    """

    def __init__(self, client, firmware, run_dir: Path, device_info: dict[str, Any] | None = None) -> None:
        self.client = client
        self.firmware = firmware
        self.run_dir = Path(run_dir)
        self.timer_unit = "unknown"
        if device_info is not None:  # already asked by connect()
            self.__dict__["device_info"] = device_info

    @property
    def target(self):
        """The :class:`harness.target.Target` the firmware runs on."""
        return self.firmware.target

    @property
    def board(self):
        """The catalog entry (:class:`harness.boards.Board`)."""
        return self.firmware.target.board

    @property
    def compiled(self):
        """The compiled model (:class:`harness.codegen.compiler.CompiledModel`)."""
        return self.firmware.compiled

    @property
    def input_tensor(self):
        return self.firmware.compiled.input_tensor

    @property
    def output_tensor(self):
        return self.firmware.compiled.output_tensor

    @cached_property
    def device_info(self) -> dict[str, Any]:
        """The firmware's description of itself (``profile%`` reply: board, kind, timer unit, arena, ...)."""
        return self.client.device_info()

    def infer(self, x: np.ndarray) -> tuple[np.ndarray, Counts]:
        """Run one inference on the device; raises TransportError/ProtocolError, or TinyhilError when the
        output size is not the model's (firmware of another model)."""
        data = np.ascontiguousarray(x, dtype=self.input_tensor.dtype).tobytes()
        raw, laps = self.client.run_inference(data)
        self.timer_unit = laps.unit
        if len(raw) != self.output_tensor.nbytes:
            raise TinyhilError(f"DUT returned {len(raw)} output bytes, model has {self.output_tensor.nbytes}; "
                               "the firmware was built for another model: rebuild")
        out = np.frombuffer(raw, dtype=self.output_tensor.dtype).reshape(self.output_tensor.shape)
        return out, Counts(int(laps.counts[0]), laps.unit)

    @cached_property
    def _reference(self):
        from harness.reference.segmented import reference_for  # noqa: PLC0415

        return reference_for(self.compiled.path, self.compiled)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The host reference's output for ``x`` (the bit-exactness reference).  Raises TinyhilError when the
        model has no host reference here (binary operators without tensorflow)."""
        if self._reference is None:
            raise TinyhilError(f"{self.compiled.path.name}: no host reference for its binary operators here; "
                               "install tensorflow (pip install 'tinyhil[models]')")
        return np.asarray(self._reference.run(x)).reshape(self.output_tensor.shape)

    def check(self, x: np.ndarray) -> tuple[np.ndarray, Counts]:
        """``infer(x)``, asserting that every output byte equals the reference's (AssertionError naming the
        first differing index and the serial log)."""
        out, counts = self.infer(x)
        ref = self.reference(x)
        if out.shape != ref.shape or not np.array_equal(out, ref):
            diff = np.flatnonzero(out.reshape(-1) != ref.reshape(-1))
            raise AssertionError(f"{self.board.name}: {diff.size} of {ref.size} outputs differ from the reference, "
                                 f"first at index {diff[0]}: device {out.reshape(-1)[diff[0]]}, reference "
                                 f"{ref.reshape(-1)[diff[0]]} (serial log: {self.run_dir / 'serial.log'})")
        return out, counts
