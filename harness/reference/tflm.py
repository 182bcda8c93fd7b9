"""The host reference: TensorFlow Lite Micro's interpreter compiled for the host (PyPI ``tflite-micro``).

Every on-device output is compared against this interpreter on the same input tensor; TFLM (not LiteRT)
is the reference because TFLM and LiteRT differ by 1 LSB on some per-channel FULLY_CONNECTED outputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import ModelError

DEFAULT_ARENA_BYTES = 16 * 1024 * 1024


class ReferenceInterpreter:
    """TFLM host interpreter for one model. ``run(x)`` -> output tensor (numpy, output dtype and shape)."""

    def __init__(self, model_path: str | Path, arena_bytes: int = DEFAULT_ARENA_BYTES) -> None:
        from tflite_micro.python.tflite_micro import runtime

        try:
            self._interp = runtime.Interpreter.from_file(str(model_path), arena_size=arena_bytes)
        except Exception as exc:  # TFLM raises RuntimeError with its own log text
            raise ModelError(f"TFLM cannot load {Path(model_path).name}: {str(exc).splitlines()[0] if str(exc) else exc}; "
                             "check the model file") from None
        self.input_details = self._interp.get_input_details(0)
        self.output_details = self._interp.get_output_details(0)

    def run(self, x: np.ndarray) -> np.ndarray:
        shape = tuple(int(s) for s in self.input_details["shape"])
        self._interp.set_input(np.asarray(x, dtype=self.input_details["dtype"]).reshape(shape), 0)
        self._interp.invoke()
        return np.array(self._interp.get_output(0))
