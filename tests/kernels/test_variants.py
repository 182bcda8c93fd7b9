"""Optimized kernel variants vs their portable C references, on awkward shapes (host).

Every optimized variant the lowerings select (th_conv2d_im2col_pair_s8, th_depthwise_conv2d_ch4_s8,
th_fully_connected_x4_s8, th_max_pool2d_ch4_s8) must equal, byte for byte, the portable reference kernel it
replaces (th_conv2d_s8, th_depthwise_conv2d_s8, th_fully_connected_s8, th_max_pool2d_s8), which
tests/kernels/test_conv.py, test_pool.py, test_mlperf_tiny.py and test_acdnet.py check against the TFLM host
interpreter (those fixtures now run through the variants too).  Single-operator graphs are built here with
seeded random weights and quantization: odd channel counts (1, 3, 5, 7, 23), channels not a multiple of the
2- or 4-wide blocks, SAME/VALID with partial windows, strides 1-3, dilation, per-tensor and per-channel
scales, bias-less, RELU/RELU6 clamps, extreme requantization (left shifts, shifts near -31), depth multiplier
> 1, odd pixel counts.  The host build runs the DSP code paths through th_simd.h's exact C emulation of
SXTB16/SMLAD/SSUB8/SEL; test_plain_path_matches_reference rebuilds a covering subset with TH_FORCE_NO_DSP to
check the plain paths (ARMv6-M) as well.  The same variants run on the M7, M4 and M0+ twins in tests/emulator/test_kernel_variants.py.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from harness.codegen import ops, quant
from harness.codegen.compiler import CompiledModel
from harness.codegen.emitter import emit_model
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.codegen.host import HostModel
from harness.codegen.planner import plan_arena

#: optimized variant -> (portable reference, its scratch bytes given the call's params)
REFERENCES = {
    "th_conv2d_im2col_s8": ("th_conv2d_s8", lambda p: 0),
    "th_conv2d_im2col_pair_s8": ("th_conv2d_s8", lambda p: 0),
    "th_depthwise_conv2d_ch4_s8": ("th_depthwise_conv2d_s8", lambda p: 4 * int(p["out_c"])),
    "th_fully_connected_x4_s8": ("th_fully_connected_s8", lambda p: 0),
    "th_max_pool2d_ch4_s8": ("th_max_pool2d_s8", lambda p: 0),
    "th_add_flat_s8": ("th_add_s8", lambda p: 0),
}


def _q(scale, zp: int = 0) -> QuantParams:
    scales = tuple(float(s) for s in np.atleast_1d(scale))
    return QuantParams(scales, tuple([zp] * len(scales)), axis=0)


def conv_graph(rng, kind: str, in_hwc, out_c: int, filt=(3, 3), stride=(1, 1), padding="SAME", dilation=(1, 1),
               per_channel=True, bias=True, act="NONE", ratio=0.002, batches=1) -> Graph:
    """One CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (``kind``) operator with seeded random int8 tensors.
    ``ratio`` sets input_scale * weight_scale / output_scale (the requantization multiplier)."""
    h, w, c = in_hwc
    in_scale, in_zp = 0.05, int(rng.integers(-128, 128))
    if kind == "FULLY_CONNECTED":
        in_shape, w_shape, out_shape, channel_axis = (batches, c), (out_c, c), (batches, out_c), 0
        options = {"fused_activation_function": act}
    else:
        fh, fw = filt
        oh = quant.output_size(padding, h, fh, stride[0], dilation[0])
        ow = quant.output_size(padding, w, fw, stride[1], dilation[1])
        in_shape, out_shape = (batches, h, w, c), (batches, oh, ow, out_c)
        if kind == "CONV_2D":
            w_shape, channel_axis = (out_c, fh, fw, c), 0
        else:
            w_shape, channel_axis = (1, fh, fw, out_c), 3
        options = {"stride_h": stride[0], "stride_w": stride[1], "dilation_h_factor": dilation[0],
                   "dilation_w_factor": dilation[1], "padding": padding, "fused_activation_function": act}
        if kind == "DEPTHWISE_CONV_2D":
            options["depth_multiplier"] = out_c // c
    w_scale = rng.uniform(0.5, 2.0, out_c if per_channel else 1) * 0.01
    out_scale = in_scale * float(np.max(w_scale)) / ratio
    weights = rng.integers(-127, 128, w_shape).astype(np.int8)
    tensors = [
        Tensor(0, "x", in_shape, "int8", _q(in_scale, in_zp)),
        Tensor(1, "w", w_shape, "int8", QuantParams(tuple(map(float, w_scale)), (0,) * len(w_scale),
                                                    channel_axis), weights),
        Tensor(2, "b", (out_c,), "int32", None, rng.integers(-20000, 20000, out_c).astype(np.int32)),
        Tensor(3, "y", out_shape, "int8", _q(out_scale, int(rng.integers(-20, 20)))),
    ]
    op = Operator(0, kind, (0, 1, 2 if bias else -1), (3,), options)
    return Graph(tuple(tensors), (op,), (0,), (3,))


def pool_graph(rng, in_hwc, filt, stride, padding="VALID", act="NONE") -> Graph:
    h, w, c = in_hwc
    oh, ow = quant.output_size(padding, h, filt[0], stride[0]), quant.output_size(padding, w, filt[1], stride[1])
    q = _q(0.1, int(rng.integers(-10, 10)))
    tensors = (Tensor(0, "x", (1, h, w, c), "int8", q), Tensor(1, "y", (1, oh, ow, c), "int8", q))
    options = {"filter_height": filt[0], "filter_width": filt[1], "stride_h": stride[0], "stride_w": stride[1],
               "padding": padding, "fused_activation_function": act}
    return Graph(tensors, (Operator(0, "MAX_POOL_2D", (0,), (1,), options),), (0,), (1,))


def add_graph(rng, shape, scales, act="NONE") -> Graph:
    """One same-shape int8 ADD of the input and a random constant, with input/output ``scales`` (their ratios set
    the rescaling shifts)."""
    s1, s2, so = scales
    tensors = (Tensor(0, "a", shape, "int8", _q(s1, int(rng.integers(-128, 128)))),
               Tensor(1, "b", shape, "int8", _q(s2, int(rng.integers(-128, 128))),
                      rng.integers(-128, 128, shape).astype(np.int8)),
               Tensor(2, "y", shape, "int8", _q(so, int(rng.integers(-30, 30)))))
    op = Operator(0, "ADD", (0, 1), (2,), {"fused_activation_function": act})
    return Graph(tensors, (op,), (0,), (2,))


def build(graph: Graph, reference: bool, name: str) -> HostModel:
    """Host library of ``graph`` with the selected variant, or with the portable reference kernel."""
    calls = [ops.lower(op, graph) for op in graph.operators]
    if reference:
        ref, scratch = REFERENCES[calls[0].function]
        calls = [dataclasses.replace(calls[0], function=ref, scratch_bytes=scratch(calls[0].params))]
    plan = plan_arena(graph, {i: c.scratch_bytes for i, c in enumerate(calls) if c.scratch_bytes})
    sources = emit_model(graph, plan, calls, name)
    return HostModel(CompiledModel(Path(name), "0" * 64, graph, tuple(calls), plan, sources))


CONV_CASES = {  # name: (kind, in_hwc, out_c, keyword arguments of conv_graph)
    "conv_c1_1x9_s2_acdnet_op0": ("CONV_2D", (1, 61, 1), 4, dict(filt=(1, 9), stride=(1, 2), padding="VALID")),
    "conv_c4_1x5_s2_acdnet_op1": ("CONV_2D", (1, 40, 4), 32, dict(filt=(1, 5), stride=(1, 2), padding="VALID")),
    "conv_c1_3x3_same_oc12": ("CONV_2D", (7, 9, 1), 12, {}),
    "conv_c3_3x3_s2_same_partial": ("CONV_2D", (8, 10, 3), 5, dict(stride=(2, 2))),
    "conv_c5_5x5_s3_same": ("CONV_2D", (11, 10, 5), 7, dict(filt=(5, 5), stride=(3, 3))),
    "conv_c7_3x3_valid_odd_pixels": ("CONV_2D", (5, 7, 7), 3, dict(padding="VALID")),
    "conv_c23_3x3_same_oc23": ("CONV_2D", (4, 5, 23), 23, {}),
    "conv_c6_3x3_dilation2": ("CONV_2D", (9, 9, 6), 9, dict(dilation=(2, 2))),
    "conv_c5_2x3_rect_s1x2_dil_w2": ("CONV_2D", (6, 11, 5), 4, dict(filt=(2, 3), stride=(1, 2), dilation=(1, 2))),
    "conv_1x1_c64_oc63": ("CONV_2D", (3, 5, 64), 63, dict(filt=(1, 1), padding="VALID")),
    "conv_1x1_c3_k_below_4_odd_pixels": ("CONV_2D", (3, 5, 3), 5, dict(filt=(1, 1), padding="VALID")),
    "conv_1x1_s2_c16_oc1": ("CONV_2D", (6, 6, 16), 1, dict(filt=(1, 1), stride=(2, 2), padding="VALID")),
    "conv_pertensor_nobias_relu": ("CONV_2D", (5, 6, 3), 6, dict(per_channel=False, bias=False, act="RELU")),
    "conv_relu6_left_shift": ("CONV_2D", (5, 5, 2), 3, dict(act="RELU6", ratio=3.7)),
    "conv_tiny_multiplier": ("CONV_2D", (4, 4, 8), 4, dict(ratio=2.0 ** -28)),
    "conv_batches2": ("CONV_2D", (3, 4, 3), 5, dict(batches=2)),
    "dw_c1_3x3": ("DEPTHWISE_CONV_2D", (6, 7, 1), 1, {}),
    "dw_c5_3x3_same_partial_s2": ("DEPTHWISE_CONV_2D", (8, 9, 5), 5, dict(stride=(2, 2))),
    "dw_c7_3x3_valid": ("DEPTHWISE_CONV_2D", (6, 6, 7), 7, dict(padding="VALID")),
    "dw_c23_3x3_same_relu": ("DEPTHWISE_CONV_2D", (5, 5, 23), 23, dict(act="RELU")),
    "dw_c8_5x5_s3": ("DEPTHWISE_CONV_2D", (10, 11, 8), 8, dict(filt=(5, 5), stride=(3, 3))),
    "dw_c12_3x3_dilation2": ("DEPTHWISE_CONV_2D", (9, 9, 12), 12, dict(dilation=(2, 2))),
    "dw_c4_3x3_s2_valid_even": ("DEPTHWISE_CONV_2D", (9, 8, 4), 4, dict(stride=(2, 2), padding="VALID")),
    "dw_c9_1x1_relu6": ("DEPTHWISE_CONV_2D", (3, 4, 9), 9, dict(filt=(1, 1), padding="VALID", act="RELU6")),
    "dw_c64_3x3_pertensor_left_shift": ("DEPTHWISE_CONV_2D", (4, 5, 64), 64, dict(per_channel=False, ratio=2.5)),
    "dw_dm2_c3_falls_back": ("DEPTHWISE_CONV_2D", (5, 5, 3), 6, {}),
    "fc_640x7": ("FULLY_CONNECTED", (1, 1, 640), 7, {}),
    "fc_37x50_relu": ("FULLY_CONNECTED", (1, 1, 37), 50, dict(act="RELU")),
    "fc_3x1_nobias_pertensor": ("FULLY_CONNECTED", (1, 1, 3), 1, dict(bias=False, per_channel=False)),
    "fc_batches3_tiny_multiplier": ("FULLY_CONNECTED", (1, 1, 13), 9, dict(batches=3, ratio=2.0 ** -30)),
}

POOL_CASES = {
    "pool_1x50_c32_acdnet": ((1, 151, 32), (1, 50), (1, 50), "VALID", "NONE"),
    "pool_2x2_c23": ((5, 7, 23), (2, 2), (2, 2), "VALID", "NONE"),
    "pool_3x3_s2_same_c5_relu": ((7, 8, 5), (3, 3), (2, 2), "SAME", "RELU"),
    "pool_3x2_s3_same_c1_relu6": ((8, 7, 1), (3, 2), (3, 1), "SAME", "RELU6"),
}


#: cases also built with TH_FORCE_NO_DSP (the ARMv6-M paths; every variant and block remainder is covered)
NO_DSP_CASES = ("conv_c4_1x5_s2_acdnet_op1", "conv_1x1_c64_oc63", "conv_c23_3x3_same_oc23", "conv_c7_3x3_valid_odd_pixels",
                "dw_c23_3x3_same_relu", "dw_c5_3x3_same_partial_s2", "fc_37x50_relu", "pool_2x2_c23",
                # ARMv6-M variants (th_*_m0_s8): pixel groups of 1-3, dilation, batches, left shifts, row remainders
                "conv_c1_1x9_s2_acdnet_op0", "conv_c5_2x3_rect_s1x2_dil_w2", "conv_batches2", "conv_relu6_left_shift",
                "conv_1x1_s2_c16_oc1", "conv_tiny_multiplier", "fc_640x7", "fc_batches3_tiny_multiplier",
                "fc_3x1_nobias_pertensor", "dw_c8_5x5_s3", "dw_c1_3x3")


def _use_no_dsp_compiler(tmp_path: Path, monkeypatch) -> None:
    """Make HostModel build with TH_FORCE_NO_DSP and TH_REQUANT_SPLIT16 (the ARMv6-M requantization, th_requant.h)
    through a compiler wrapper into its own cache directory."""
    cc = tmp_path / "cc_no_dsp"
    cc.write_text('#!/bin/sh\nexec "${REAL_CC:-cc}" -DTH_FORCE_NO_DSP -DTH_REQUANT_SPLIT16 "$@"\n')
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("REAL_CC", os.environ.get("CC", "cc"))
    monkeypatch.setenv("CC", str(cc))
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))


def _check(graph: Graph, name: str, expected_function: str | None = None, trials: int = 3) -> None:
    variant, reference = build(graph, False, name), build(graph, True, name + "_ref")
    if expected_function:
        assert variant.compiled.calls[0].function == expected_function
    rng = np.random.default_rng(7)
    shape = graph.tensors[graph.inputs[0]].shape
    for trial in range(trials):
        x = rng.integers(-128, 128, shape, dtype=np.int8)
        ours, ref = variant.run(x), reference.run(x)
        diff = np.flatnonzero(ours.reshape(-1) != ref.reshape(-1))
        assert diff.size == 0, (f"{name} trial {trial}: {diff.size} of {ours.size} values differ, first at "
                                f"{diff[0]}: variant {ours.reshape(-1)[diff[0]]} reference {ref.reshape(-1)[diff[0]]}")


def _graph(case: str) -> Graph:
    if case in POOL_CASES:
        in_hwc, filt, stride, padding, act = POOL_CASES[case]
        return pool_graph(np.random.default_rng(1), in_hwc, filt, stride, padding, act)
    kind, in_hwc, out_c, kwargs = CONV_CASES[case]
    return conv_graph(np.random.default_rng(sorted(CONV_CASES).index(case)), kind, in_hwc, out_c, **kwargs)


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_family_variant_matches_reference(case):
    graph = _graph(case)
    if case.startswith("dw_dm2"):
        assert ops.lower(graph.operators[0], graph).function == "th_depthwise_conv2d_s8"
        return
    _check(graph, case)


@pytest.mark.parametrize("case", sorted(POOL_CASES))
def test_max_pool_variant_matches_reference(case):
    _check(_graph(case), case, "th_max_pool2d_ch4_s8")


ADD_CASES = {  # name: (shape, (input 1, input 2, output scale), activation)
    "add_equal_scales_shift0": ((1, 4, 5, 7), (0.05, 0.05, 0.1), "NONE"),
    "add_input2_shift_minus1_relu": ((1, 3, 3, 23), (0.08, 0.05, 0.05), "RELU"),
    "add_input2_shift_minus2": ((1, 1, 9, 8), (0.08, 0.03, 0.05), "NONE"),
    "add_input2_tiny_big_output_relu6": ((1, 2, 5, 3), (0.2, 0.0004, 0.01), "RELU6"),
    "add_output_scale_small_saturates": ((2, 33), (0.1, 0.07, 0.002), "NONE"),
}


@pytest.mark.parametrize("case", sorted(ADD_CASES))
def test_add_variant_matches_reference(case):
    """th_add_flat_s8 (SMLAL rescaling) equals th_add_s8 for input/output scale ratios that give rescaling
    shifts of 0, -1 and <= -2 and saturating outputs."""
    shape, scales, act = ADD_CASES[case]
    graph = add_graph(np.random.default_rng(sorted(ADD_CASES).index(case)), shape, scales, act)
    variant, reference = build(graph, False, case), build(graph, True, case + "_ref")
    assert variant.compiled.calls[0].function == "th_add_flat_s8"
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.integers(-128, 128, shape, dtype=np.int8)
        assert variant.run(x).tobytes() == reference.run(x).tobytes()


@pytest.mark.parametrize("case", NO_DSP_CASES)
def test_plain_path_matches_reference(case, tmp_path, monkeypatch):
    """The variants built without the DSP extension (TH_FORCE_NO_DSP: what Cortex-M0+ runs) equal the reference."""
    _use_no_dsp_compiler(tmp_path, monkeypatch)
    _check(_graph(case), case)


def test_im2col_scratch_matches_get_buffer_size():
    """The lowering's scratch request is the larger _get_buffer_size of the two core paths: two int16 columns
    (K rounded to 4) on DSP cores, four int32 columns on ARMv6-M (th_conv2d_im2col_m0_s8)."""
    graph = conv_graph(np.random.default_rng(0), "CONV_2D", (5, 5, 7), 3, filt=(3, 3))
    call = ops.lower(graph.operators[0], graph)
    assert call.function == "th_conv2d_im2col_pair_s8"
    assert call.scratch_bytes == max(2 * 2 * 64, 4 * 4 * 63)  # K = 63: 64 int16 per column / 4 x 63 int32


def test_mixed_variant_model_matches_tflm():
    """kernels_mixed_int8.tflite (every variant, awkward shapes; the twins run it too) equals TFLM on the host."""
    path = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "kernels_mixed_int8.tflite"
    from tests.kernels.conftest import assert_matches_reference

    assert_matches_reference(path, trials=6)
