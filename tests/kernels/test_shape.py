"""RESHAPE, TRANSPOSE, PAD and CONCATENATION kernels (int8 bit-exact, float32 within tolerance) vs TFLM.

Fixtures: tests/fixtures/models/shape_*.tflite (generator: tests/fixtures/generators/shape.py).
"""

from __future__ import annotations

import pytest

from harness.codegen.compiler import compile_model
from harness.errors import ModelError, UnsupportedOperatorError
from harness.reference.tflm import ReferenceInterpreter
from tests.kernels.conftest import FIXTURES, assert_matches_reference, fixture_models

#: Fixtures TFLM itself refuses to prepare; the compiler must refuse them as well.
REFUSED = {"shape_concat_mixedscale_int8"}


@pytest.mark.parametrize("path", [p for p in fixture_models("shape_") if p.stem not in REFUSED],
                         ids=lambda p: p.stem)
def test_shape_matches_tflm(path):
    assert_matches_reference(path, trials=4)


@pytest.mark.parametrize("stem", sorted(REFUSED))
def test_refused_like_tflm(stem):
    path = FIXTURES / f"{stem}.tflite"
    with pytest.raises(ModelError):
        ReferenceInterpreter(path)
    with pytest.raises(UnsupportedOperatorError, match="CONCATENATION at position 0"):
        compile_model(path)
