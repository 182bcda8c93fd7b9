"""The real model: ACDNet-20 (ESC-50, fold 4, int8) compiled to C, run on the host, compared byte for byte
with the TFLM host interpreter.  Needs CONV_2D, MAX_POOL_2D, TRANSPOSE, AVERAGE_POOL_2D, RESHAPE,
FULLY_CONNECTED and SOFTMAX kernels; the model lives in ../shared/models relative to the repository root."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from tests.kernels.conftest import assert_matches_reference

ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")


@pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")
def test_acdnet20_matches_tflm():
    assert_matches_reference(ACDNET, trials=3)
