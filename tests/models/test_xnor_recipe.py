"""XNOR recipe end to end (ci preset on the generated tiny dataset): export with tinyhil's binary operator,
compile, and every binary operator of the exported model run by the C kernel byte for byte against the
Python reference; the exported network agrees with the float PyTorch XNOR network up to quantization error."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch", reason="the models extra (pip install -e '.[models]') is not installed")
pytest.importorskip("tensorflow", reason="the models extra (pip install -e '.[models]') is not installed")

from harness.codegen import ops  # noqa: E402
from harness.reference import xnor as ref  # noqa: E402
from harness.codegen.compiler import CompiledModel, compile_model  # noqa: E402
from harness.codegen.emitter import emit_model  # noqa: E402
from harness.codegen.graph import Graph  # noqa: E402
from harness.codegen.host import HostModel  # noqa: E402
from harness.codegen.planner import plan_arena  # noqa: E402


def _single_op(graph: Graph, op, tmp_path) -> HostModel:
    sub = Graph(graph.tensors, (op.__class__(0, op.opcode, op.inputs, op.outputs, op.options),),
                (op.inputs[0],), (op.outputs[0],))
    calls = (ops.lower(sub.operators[0], sub),)
    plan = plan_arena(sub, {0: calls[0].scratch_bytes})
    return HostModel(CompiledModel(tmp_path / f"op{op.index}.tflite", "0" * 64, sub, calls, plan,
                                   emit_model(sub, plan, list(calls), f"op{op.index}")))


@pytest.fixture(scope="module")
def xnor_run(tiny, tmp_path_factory):
    from tinyhil_models.recipes import environment_threads, run_recipe

    environment_threads()
    out = tmp_path_factory.mktemp("xnor")
    return out, run_recipe("xnor-acdnet-esc50", tiny, out, preset="ci", log=lambda *_: None)


def test_xnor_variant_compiles_with_binary_operators_and_is_smaller(xnor_run, capsys):
    folder, cards = xnor_run
    by = {c["name"]: c for c in cards}
    assert set(by) == {"acdnet-int8", "acdnet-xnor-xnor-int8", "acdnet-filter50-int8"}
    x = by["acdnet-xnor-xnor-int8"]
    compiled = compile_model(folder / x["file"])
    assert sum(op.opcode == ref.OPCODE for op in compiled.graph.operators) == 8
    assert x["val_reference"] == "harness.codegen.host.HostModel" and 0.0 <= x["val_accuracy_tflite"] <= 1.0
    assert x["weight_bytes"] < by["acdnet-int8"]["weight_bytes"]
    with capsys.disabled():
        print("\nweight bytes: " + ", ".join(f"{k} {v['weight_bytes']}" for k, v in by.items()))


def test_every_binary_operator_matches_the_python_reference(xnor_run, tmp_path):
    folder, cards = xnor_run
    compiled = compile_model(folder / "acdnet-xnor-xnor-int8.tflite")
    rng = np.random.default_rng(0)
    for op in compiled.graph.operators:
        if op.opcode != ref.OPCODE:
            continue
        host = _single_op(compiled.graph, op, tmp_path)
        p = ops.xnor.params_of(op, compiled.graph)
        for _ in range(3):
            xq = rng.integers(-128, 128, compiled.graph.tensors[op.inputs[0]].shape).astype(np.int8)
            np.testing.assert_array_equal(host.run(xq), ref.xnor_conv2d_s8(xq, p))


def test_exported_network_agrees_with_the_float_pytorch_network(tmp_path):
    import torch

    from tinyhil_models import arch, xnor

    torch.manual_seed(0)
    net = arch.xnor_acdnet(3, arch.MICRO_ACDNET_WIDTHS, input_length=4000, sample_rate=8000)
    for m in net:  # non-trivial BatchNorms (negative scales exercise the sign folding)
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(-1.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)
    net.eval()
    x = np.random.default_rng(0).normal(0, 0.3, (16, 1, 4000, 1)).astype(np.float32)
    compiled = compile_model(xnor.export(net, (1, 1, 4000, 1), tmp_path / "x.tflite", x))
    host, inp, out = HostModel(compiled), compiled.input_tensor, compiled.output_tensor
    errs = []
    for xi in x:
        xq = np.clip(np.rint(xi / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
        got = (host.run(xq).astype(np.float64) - out.zero_point) * out.scale
        with torch.no_grad():
            want = torch.softmax(net(torch.from_numpy(xi[None].transpose(0, 3, 1, 2))), 1).numpy()
        errs.append(np.abs(got.reshape(-1) - want.reshape(-1)).max())
    # sign flips at quantization boundaries propagate; most clips agree closely
    assert np.median(errs) < 0.05 and max(errs) < 0.3, errs


def test_whole_model_runs_bit_exactly_vs_tflm_plus_the_binary_reference(xnor_run):
    from harness.reference.segmented import SegmentedReference

    folder, _ = xnor_run
    compiled = compile_model(folder / "acdnet-xnor-xnor-int8.tflite")
    host, reference = HostModel(compiled), SegmentedReference(compiled)
    assert [k for k, _ in reference.steps].count("xnor") == 8
    rng = np.random.default_rng(1)
    for _ in range(4):
        xq = rng.integers(-128, 128, compiled.input_tensor.shape).astype(np.int8)
        np.testing.assert_array_equal(host.run(xq), reference.run(xq))


@pytest.mark.emulator
def test_xnor_variant_runs_bit_exactly_on_the_m7_twin(xnor_run, tiny, tmp_path):
    from rich.console import Console

    from harness.boards import get_board
    from harness.bench import BenchConfig, run_bench
    from test_variants_twin import _npy_inputs
    from tinyhil_models import datasets

    folder, cards = xnor_run
    card = next(c for c in cards if c["dtype"] == "xnor-int8")
    tflite = folder / card["file"]
    data = _npy_inputs(card, tflite, datasets.esc50(tiny, folds=[2])[::5][:2], tmp_path / "inputs")
    s = run_bench(BenchConfig(model=tflite, data=data, target=get_board("stm32f746").target(True), out=tmp_path / "results"),
                  Console(quiet=True)).summary
    assert s.bit_exact is True and s.mismatches == 0
    assert s.counts.unit == "instructions" and s.counts.median > 0
    print(f"\nXNOR variant on the stm32f746 twin: {s.counts.median:,} instructions/inference, "
          f"flash {s.memory.flash_bytes:,} B, RAM {s.memory.ram_bytes:,} B, weights {s.weight_bytes:,} B")
