"""Host reference for models with tinyhil's binary convolution (CUSTOM ``TH_XNOR_CONV_2D``), which TFLM
cannot load: the model is cut at its binary operators; each run of standard operators is written as its own
.tflite and run by the TFLM host interpreter (:class:`harness.reference.tflm.ReferenceInterpreter`), each binary
operator by the numpy reference :func:`harness.reference.xnor.xnor_conv2d_s8`.  Independent of the C
kernels, so on-device outputs checked against it are checked against TFLM + the reference arithmetic.

Needs TensorFlow (``tensorflow.lite.tools.flatbuffer_utils``, the models extra) to write the segments; only
chains (each operator consumes the previous one's output) are supported.  :func:`reference_for` picks the
reference for any model and returns None when none is available (then ``bit_exact`` is reported null).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import numpy as np

from harness.reference import xnor as xref
from harness.errors import ModelError


class SegmentedReference:
    """``run(x)`` -> output tensor (numpy, output dtype and shape) of a model with binary operators.

    Raises ModelError when the model is not a chain of operators or TensorFlow is missing."""

    def __init__(self, compiled) -> None:
        try:
            from tensorflow.lite.tools import flatbuffer_utils as fbu
        except ImportError:
            raise ModelError("checking a model with TH_XNOR_CONV_2D needs tensorflow; "
                             "pip install -e '.[models]'") from None
        from harness.codegen.ops.xnor import params_of
        from harness.reference.tflm import ReferenceInterpreter

        graph = compiled.graph
        self._dir = tempfile.TemporaryDirectory(prefix="tinyhil-xnor-ref-")
        model = fbu.read_model(str(compiled.path))
        self.steps: list = []  # ("tflm", interpreter) | ("xnor", params)
        start = 0
        ops = list(graph.operators)
        for i, op in enumerate(ops + [None]):
            if op is not None and i > 0 and op.inputs[0] != ops[i - 1].outputs[0]:
                raise ModelError(f"{compiled.path.name}: operator {i} does not consume operator {i - 1}'s output; "
                                 "the binary-operator reference handles chains only")
            if op is None or op.opcode == xref.OPCODE:
                if i > start:
                    seg = self._segment(fbu, model, start, i, ops)
                    self.steps.append(("tflm", ReferenceInterpreter(seg)))
                if op is not None:
                    self.steps.append(("xnor", params_of(op, graph)))
                start = i + 1
        self.output_shape = compiled.output_tensor.shape

    def _segment(self, fbu, model, first: int, stop: int, ops) -> Path:
        """Operators [first, stop) as a .tflite of their own (input: first's input, output: last's output)."""
        seg = copy.deepcopy(model)
        sg = seg.subgraphs[0]
        sg.operators = sg.operators[first:stop]
        sg.inputs = [ops[first].inputs[0]]
        sg.outputs = [ops[stop - 1].outputs[0]]
        drop_unused_tensors(seg)
        path = Path(self._dir.name) / f"ops{first}-{stop - 1}.tflite"
        fbu.write_model(seg, str(path))
        return path

    def run(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(x)
        for kind, step in self.steps:
            y = step.run(y) if kind == "tflm" else xref.xnor_conv2d_s8(y, step)
        return np.asarray(y).reshape(self.output_shape)


def reference_for(model_path: Path, compiled):
    """The host reference of a model: TFLM for standard models, :class:`SegmentedReference` for models with
    binary operators, None when those cannot be checked here (TensorFlow missing)."""
    from harness.reference.tflm import ReferenceInterpreter

    if not any(op.opcode == xref.OPCODE for op in compiled.graph.operators):
        return ReferenceInterpreter(model_path)
    try:
        return SegmentedReference(compiled)
    except ModelError:
        return None


def drop_unused_tensors(model) -> None:
    """In a flatbuffer_utils ModelT: remove tensors that no operator or graph input/output of subgraph 0
    references (their buffers' data cleared), renumbering the rest."""
    sg = model.subgraphs[0]
    used = sorted({int(t) for op in sg.operators for t in list(op.inputs) + list(op.outputs) if t >= 0}
                  | {int(t) for t in sg.inputs} | {int(t) for t in sg.outputs})
    remap = {old: new for new, old in enumerate(used)}
    for t in range(len(sg.tensors)):
        if t not in remap and sg.tensors[t].buffer > 0:
            model.buffers[sg.tensors[t].buffer].data = None
    sg.tensors = [sg.tensors[t] for t in used]
    for op in sg.operators:
        op.inputs = [remap[int(t)] if t >= 0 else int(t) for t in op.inputs]
        op.outputs = [remap[int(t)] for t in op.outputs]
    sg.inputs = [remap[int(t)] for t in sg.inputs]
    sg.outputs = [remap[int(t)] for t in sg.outputs]
