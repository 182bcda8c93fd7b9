"""The generated half of TFLM firmware: resolver registration, operators TFLM lacks, the host-sized arena."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.tflm_model import host_arena_bytes, model_operators, resolver_method, write_tflm_model
from harness.codegen.compiler import compile_model
from harness.codegen.graph import Graph, Operator
from harness.errors import ModelError
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
TREE = shared_path("third_party", "tflm", "tflm-cmsis-nn")
needs_tree = pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")


def test_resolver_methods_follow_tflm_names():
    assert [resolver_method(op) for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED",
                                           "MEAN")] == ["AddConv2D", "AddDepthwiseConv2D", "AddMaxPool2D",
                                                        "AddFullyConnected", "AddMean"]


@needs_tree
def test_custom_operator_is_refused_in_one_line_naming_the_backend_that_has_it():
    graph = Graph(tensors=(), inputs=(), outputs=(), operators=(
        Operator(0, "CONV_2D", (), ()), Operator(1, "CUSTOM:TH_XNOR_CONV_2D", (), ())))
    with pytest.raises(ModelError) as err:
        model_operators(graph, TREE, "tflm-cmsis-nn")
    message = str(err.value)
    assert "\n" not in message and "CUSTOM:TH_XNOR_CONV_2D (index 1)" in message
    assert "backend tflm-cmsis-nn" in message and "tinyhil" in message


@needs_tree
def test_generated_model_registers_exactly_the_models_operators(tmp_path):
    compiled = compile_model(FIXTURES / "kws_dscnn_int8.tflite")
    model = write_tflm_model(compiled, tmp_path / "m", TREE, "tflm", cache_dir=tmp_path)
    assert model.operators == ("AddConv2D", "AddDepthwiseConv2D", "AddAveragePool2D", "AddFullyConnected",
                               "AddSoftmax")
    ops_h = (tmp_path / "m" / "model_ops.h").read_text()
    assert "#define TH_TFLM_OP_TYPES 5" in ops_h and ops_h.count("r.Add") == 5
    header = (tmp_path / "m" / "model.h").read_text()
    assert f"#define TH_MODEL_INPUT_BYTES {compiled.input_tensor.nbytes}u" in header
    assert f"#define TH_MODEL_ARENA_BYTES {model.arena_bytes}u" in header
    data = (tmp_path / "m" / "model_data.c").read_text()
    assert data.count("0x") == model.flatbuffer_bytes == (FIXTURES / "kws_dscnn_int8.tflite").stat().st_size


def test_host_arena_is_the_smallest_that_allocates_and_is_cached(tmp_path, monkeypatch):
    from harness.backends import tflm_model

    raw = (FIXTURES / "raw_mini_int8.tflite").read_bytes()
    arena = host_arena_bytes(raw, tmp_path)
    assert arena % 16 == 0 and tflm_model._allocates(raw, arena) and not tflm_model._allocates(raw, arena - 16)
    assert arena >= compile_model(FIXTURES / "raw_mini_int8.tflite").plan.arena_bytes  # TFLM's own bookkeeping too
    monkeypatch.setattr(tflm_model, "_allocates", lambda *a: pytest.fail("the cached arena was searched again"))
    assert host_arena_bytes(raw, tmp_path) == arena  # second call: from the cache file


def test_inspect_gives_the_board_fit_per_backend():
    from harness.boards import load_catalog
    from harness.metrics.model_card import model_card

    boards = load_catalog()
    card = model_card(FIXTURES / "kws_dscnn_int8.tflite", {"stm32f746": boards["stm32f746"]}, ("tinyhil", "tflm"))
    ours, tflm = card.fits
    assert (ours.backend, tflm.backend) == ("tinyhil", "tflm")
    raw = (FIXTURES / "kws_dscnn_int8.tflite").read_bytes()
    assert tflm.ram_needed - ours.ram_needed == host_arena_bytes(raw) - card.arena_bytes  # only the arenas differ
    assert tflm.flash_needed > ours.flash_needed + len(raw) - card.weight_bytes  # whole flatbuffer + TFLM runtime
