"""Keras model -> ``.tflite`` (float32, or full-int8 with int8 input and output) through the TF converter.

Full-int8 follows the TFLite post-training integer quantization scheme: per-channel symmetric int8
weights, per-tensor asymmetric int8 activations calibrated on a representative dataset, int32 biases
(https://ai.google.dev/edge/litert/models/post_training_integer_quant).  The models use only operators that
tinyhil's compiler accepts (`tinyhil ops`); :func:`check_compiles` proves it for each file written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinyhil_models.errors import ModelsError, require


def to_tflite(model, path: str | Path, calibration: np.ndarray | None = None, allow_float_ops: bool = False
              ) -> Path:
    """Convert a Keras model (batch size 1) to ``path``.

    ``calibration``: float32 array [n, *input shape without batch] -> full-int8 (int8 input/output);
    None -> float32.  ``allow_float_ops`` lets operators without an int8 kernel stay float (used by
    :mod:`tinyhil_models.xnor`, which replaces those operators afterwards).  Returns the path.  Raises ModelsError when the converter fails.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf = require("tensorflow")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:
        calib = np.asarray(calibration, dtype=np.float32)
        if calib.ndim != len(model.inputs[0].shape):
            calib = calib.reshape((-1, *model.inputs[0].shape[1:]))

        def representative():
            for x in calib:
                yield [x[None, ...]]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] + (
            [tf.lite.OpsSet.TFLITE_BUILTINS] if allow_float_ops else [])
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the Keras export prints its endpoints
            blob = conv.convert()
    except Exception as exc:  # the converter raises ConverterError / ValueError with long logs
        raise ModelsError(f"TF converter failed for {path.name}: {str(exc).splitlines()[0][:200]}") from None
    path.write_bytes(blob)
    return path


def check_compiles(path: str | Path):
    """Compile ``path`` with tinyhil's compiler; returns the CompiledModel (raises UnsupportedOperatorError)."""
    from harness.codegen.compiler import compile_model

    return compile_model(path)
