"""MAX_POOL_2D, AVERAGE_POOL_2D and MEAN kernels (int8 bit-exact, float32 within tolerance) vs TFLM."""

from __future__ import annotations

import pytest

from tests.kernels.conftest import assert_matches_reference, fixture_models


@pytest.mark.parametrize("path", fixture_models("pool_"), ids=lambda p: p.stem)
def test_pool_matches_tflm(path):
    assert_matches_reference(path, trials=6)
