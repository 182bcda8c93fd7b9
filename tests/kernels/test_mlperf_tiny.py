"""The four MLPerf Tiny v1.0 reference architectures (untrained look-alikes, random weights) compiled to C,
run on the host and compared byte for byte with the TFLM host interpreter.

Fixtures: tests/fixtures/models/{kws_dscnn,ic_resnet8,vww_mobilenetv1_025,ad_autoencoder}_int8.tflite
(generator: tests/fixtures/generators/mlperf_tiny.py).  Besides bit-exactness, each model's interface, operator
mix and MAC count must look like the reference model's (MACs within a band around the published figure).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from harness.codegen.compiler import compile_model
from harness.codegen.host import HostModel
from harness.reference.tflm import ReferenceInterpreter
from tests.kernels.conftest import FIXTURES, random_input


@dataclass(frozen=True)
class Expected:
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    macs: tuple[int, int]             # plausible band (reference model's MACs inside)
    operators: dict[str, int]         # operator -> count in the graph


MODELS = {
    # 2.66 M MACs: conv 10x4 (0.32 M) + 4 x (depthwise 0.07 M + pointwise 0.51 M) + FC
    "kws_dscnn_int8": Expected((1, 49, 10, 1), (1, 12), (2_000_000, 3_500_000),
                               {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1,
                                "FULLY_CONNECTED": 1, "SOFTMAX": 1}),
    # 12.5 M MACs
    "ic_resnet8_int8": Expected((1, 32, 32, 3), (1, 10), (10_000_000, 15_000_000),
                                {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "FULLY_CONNECTED": 1,
                                 "SOFTMAX": 1}),
    # 7.5 M MACs
    "vww_mobilenetv1_025_int8": Expected((1, 96, 96, 3), (1, 2), (6_000_000, 9_000_000),
                                         {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1,
                                          "FULLY_CONNECTED": 1, "SOFTMAX": 1}),
    # 0.26 M MACs: 640x128 + 3 x 128x128 + 128x8 + 8x128 + 3 x 128x128 + 128x640
    "ad_autoencoder_int8": Expected((1, 640), (1, 640), (200_000, 350_000), {"FULLY_CONNECTED": 10}),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request):
    path = FIXTURES / f"{request.param}.tflite"
    return request.param, path, compile_model(path)


def test_interface_operators_and_macs(model):
    name, path, compiled = model
    want = MODELS[name]
    inp, out = compiled.input_tensor, compiled.output_tensor
    assert (tuple(inp.shape), inp.dtype) == (want.input_shape, "int8"), name
    assert (tuple(out.shape), out.dtype) == (want.output_shape, "int8"), name
    assert dict(Counter(op.opcode for op in compiled.graph.operators)) == want.operators, name
    low, high = want.macs
    assert low <= compiled.macs <= high, f"{name}: {compiled.macs} MACs, expected {low}..{high}"
    assert 0 < compiled.plan.arena_bytes < 256 * 1024, f"{name}: arena {compiled.plan.arena_bytes} bytes"
    assert compiled.weight_bytes < path.stat().st_size, name


def test_matches_tflm(model):
    """3 random int8 inputs: host build and TFLM give the same output bytes, and the outputs differ between
    inputs (an input-independent output would hide kernel errors behind the final pooling/softmax)."""
    name, path, compiled = model
    host, ref = HostModel(compiled), ReferenceInterpreter(path)
    rng = np.random.default_rng(7)
    outputs = []
    for trial in range(3):
        x = random_input(compiled.input_tensor, rng)
        ours, theirs = host.run(x), np.asarray(ref.run(x))
        assert ours.shape == tuple(theirs.shape) and ours.dtype == theirs.dtype, (
            f"{name} trial {trial}: output {ours.dtype}{list(ours.shape)}, tflm {theirs.dtype}{list(theirs.shape)}")
        if ours.tobytes() != theirs.tobytes():
            diff = np.flatnonzero(ours.reshape(-1) != theirs.reshape(-1))
            first = int(diff[0])
            pytest.fail(f"{name} trial {trial}: {diff.size} of {ours.size} values differ, first at {first}: "
                        f"ours {ours.reshape(-1)[first]} tflm {theirs.reshape(-1)[first]}")
        outputs.append(ours.tobytes())
    assert len(set(outputs)) > 1, f"{name}: the same output for 3 different inputs"
