"""The model verifier (harness/codegen/verify.py): the issue-13 mutant classes are refused with one line naming
where, what and the fix; every valid fixture model passes unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import require_shared
from harness.codegen import quant
from harness.codegen.compiler import compile_model
from harness.codegen.reader import read_tflite
from harness.codegen.verify import RULES, check_structure
from harness.errors import ModelError, ModelInvalidError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from mutate import oracle_violations, targeted_mutants  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
# classes of the 47 tracebacks and 23 accepted-invalid models, rebuilt on each model
TRACEBACK_CLASSES = {"vtable_soffset", "vtable_field_offset", "subgraphs_offset", "tensors_vector_length",
                     "root_offset", "op_input_oob", "output_index_oob", "op_output_oob", "scale_inf", "scale_nan",
                     "scale_0", "huge_shape", "huge_input_shape", "truncated_0.5", "truncated_0.9",
                     "truncated_0.999", "opcode_index_oob", "buffer_index_oob", "stride_0", "empty"}
ACCEPTED_INVALID_CLASSES = {"output_is_input", "op_input_-1", "output_index_-1", "input_index_-1", "scale_negative",
                            "zero_point_2^62", "zero_point_300", "scalar_output", "negative_shape",
                            "op_output_to_input", "op_input_negative", "options_wrong_kind", "per_channel_length",
                            "pool_requant", "signature_def_offset"}


def _models() -> list[Path]:
    return [FIXTURES / "kws_dscnn_int8.tflite", FIXTURES / "conv_f32_fc_relu.tflite",
            FIXTURES / "pool_max_same_3x3_s2_int8.tflite", FIXTURES / "conv_fc_relu6_perchannel.tflite"]


@pytest.fixture(params=["acdnet20", "kws_dscnn_int8", "conv_f32_fc_relu", "conv_fc_relu6_perchannel"])
def model_bytes(request) -> bytes:
    if request.param == "acdnet20":
        return require_shared("models/acdnet20_esc50_fold4_int8.tflite").read_bytes()
    return (FIXTURES / f"{request.param}.tflite").read_bytes()


def test_every_targeted_mutant_is_refused_with_one_line(model_bytes, tmp_path):
    mutants = targeted_mutants(model_bytes)
    kinds = {m.kind for m in mutants}
    assert len(mutants) >= 20 and {"output_is_input", "scalar_output", "vtable_soffset", "op_input_-1"} <= kinds
    assert kinds <= TRACEBACK_CLASSES | ACCEPTED_INVALID_CLASSES | {"per_channel_axis"}
    for m in mutants:
        path = tmp_path / f"{m.kind}.tflite"
        path.write_bytes(m.data)
        with pytest.raises(ModelError) as info:  # a ModelError, never IndexError/KeyError/ZeroDivisionError
            compile_model(path)
        msg = str(info.value)
        assert "\n" not in msg and len(msg) < 400, (m.kind, msg)
        assert "; " in msg and any(w in msg for w in ("export", "copy it again", "smaller")), (m.kind, msg)


@pytest.mark.parametrize("kind, where, rule", [
    ("output_is_input", "tensor 0", "[T2]"), ("scale_nan", "tensor 0", "[Q1]"), ("scale_0", "tensor 0", "[Q1]"),
    ("scale_negative", "tensor 0", "[Q1]"), ("zero_point_2^62", "tensor 0", "[Q2]"),
    ("op_input_-1", "operator 0 (CONV_2D) input 0", "[T1]"), ("scalar_output", "tensor 31", "[T2]"),
    ("huge_shape", "tensor 31", "[T4]"), ("vtable_soffset", "Model.subgraphs[0].tensors[31]", "[S1]"),
    ("stride_0", "operator 0 (CONV_2D)", "[O2]"), ("opcode_index_oob", "operator 1", "[S2]"),
    ("buffer_index_oob", "tensor 31", "[S2]"), ("op_output_to_input", "operator 11 (SOFTMAX)", "[T2]"),
    ("signature_def_offset", "operator options, signature, metadata", "[S1]"),
])
def test_message_names_where_and_rule(kind, where, rule, tmp_path):
    raw = (FIXTURES / "kws_dscnn_int8.tflite").read_bytes()
    m = next(m for m in targeted_mutants(raw) if m.kind == kind)
    path = tmp_path / "m.tflite"
    path.write_bytes(m.data)
    with pytest.raises(ModelInvalidError) as info:
        read_tflite(path)
    assert where in str(info.value) and rule in str(info.value), str(info.value)
    assert str(info.value).startswith("m.tflite: ")


def test_pooling_that_requantizes_is_refused(tmp_path):
    raw = (FIXTURES / "pool_avg_same_3x3_s2_int8.tflite").read_bytes()
    m = next(m for m in targeted_mutants(raw) if m.kind == "pool_requant")
    path = tmp_path / "m.tflite"
    path.write_bytes(m.data)
    with pytest.raises(ModelInvalidError, match=r"operator 0 \(AVERAGE_POOL_2D\): output tensor .* pooling does "
                                                r"not requantize \[Q5\]"):
        read_tflite(path)


def test_the_oracle_sees_the_accepted_invalid_classes(model_bytes):
    """The fuzz benchmark's independent oracle would flag these mutants had they been accepted."""
    for m in targeted_mutants(model_bytes):
        if m.kind in {"output_is_input", "scale_nan", "scale_negative", "zero_point_2^62", "scalar_output",
                      "negative_shape", "op_input_oob"}:
            assert oracle_violations(m.data), m.kind


def test_all_fixture_models_pass_the_verifier():
    paths = sorted(FIXTURES.glob("*.tflite"))
    assert len(paths) > 50
    for p in paths:
        raw = p.read_bytes()
        check_structure(raw, p.name)
        graph = read_tflite(p)
        assert graph.operators and not oracle_violations(raw), p.name


def test_rule_list_is_complete():
    assert set(RULES) >= {"S1", "S2", "S3", "T1", "T2", "T3", "T4", "Q1", "Q2", "Q3", "Q4", "O1", "O2", "O3"}


def test_quant_refuses_non_finite_scales_instead_of_crashing():
    for bad in (float("inf"), float("nan"), -1.0):
        with pytest.raises(ModelInvalidError):
            quant.quantize_multiplier(bad)
        with pytest.raises(ModelInvalidError):
            quant.activation_range_quantized("RELU6", bad, 0)
    with pytest.raises(ModelInvalidError):
        quant.output_size("SAME", 10, 3, 0)
    # a denormal scale saturates instead of overflowing float32 -> int
    assert quant.activation_range_quantized("RELU6", 1e-45, 0) == (0, 127)
    assert quant.quantize_multiplier(0.0) == (0, 0)
