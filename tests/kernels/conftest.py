"""Bit-exactness checks of the kernels: compiled model on the host vs the TFLM host interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.codegen.compiler import compile_model
from harness.codegen.host import HostModel
from harness.reference.tflm import ReferenceInterpreter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def fixture_models(prefix: str) -> list[Path]:
    """The committed fixture models whose file name starts with ``prefix``."""
    return sorted(FIXTURES.glob(f"{prefix}*.tflite"))


def random_input(tensor, rng: np.random.Generator) -> np.ndarray:
    """A random input of the tensor's dtype/shape (int8: full range; float32: N(0, 1))."""
    if tensor.dtype == "int8":
        return rng.integers(-128, 128, tensor.shape, dtype=np.int8)
    return rng.normal(0.0, 1.0, tensor.shape).astype(np.float32)


def assert_matches_reference(path: Path, trials: int = 4, seed: int = 0, float_rtol: float = 1e-5) -> None:
    """Run ``path`` on ``trials`` random inputs through our C kernels and TFLM.  The outputs must have the same
    shape and dtype; int8 outputs must be identical byte for byte, float32 outputs within ``float_rtol``
    (relative to the output's max)."""
    compiled = compile_model(path)
    host = HostModel(compiled)
    ref = ReferenceInterpreter(path)
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        x = random_input(compiled.input_tensor, rng)
        ours, theirs = host.run(x), ref.run(x)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == theirs.dtype, (
            f"{path.name} trial {trial}: output {ours.dtype}{list(ours.shape)}, tflm {theirs.dtype}{list(theirs.shape)}"
        )
        if ours.dtype == np.float32:
            scale = max(1e-6, float(np.max(np.abs(theirs))))
            np.testing.assert_allclose(ours.reshape(-1), theirs.reshape(-1), rtol=0, atol=float_rtol * scale,
                                       err_msg=f"{path.name} trial {trial}")
        elif ours.tobytes() != theirs.tobytes():
            mismatch = np.flatnonzero(ours.reshape(-1) != theirs.reshape(-1))
            first = int(mismatch[0]) if mismatch.size else 0
            raise AssertionError(
                f"{path.name} trial {trial}: {mismatch.size} of {ours.size} values differ, first at {first}: "
                f"ours {ours.reshape(-1)[first]} tflm {theirs.reshape(-1)[first]}"
            )


@pytest.fixture
def check_model():
    return assert_matches_reference
