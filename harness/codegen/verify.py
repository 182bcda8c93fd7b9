"""The model verifier: every rule a .tflite model must satisfy before tinyhil lowers it to C.

Two passes, both run by :func:`harness.codegen.reader.read_tflite` before anything else sees the model:

1. :func:`check_structure` walks the raw flatbuffer (``flatbuffers`` wire format: a uoffset to the root table,
   tables with a soffset to their vtable, vtables of uint16 field offsets, vectors prefixed by a uint32
   length; see flatbuffers' ``internals.md``) along the fields of the TFLite schema (``schema.fbs``) that
   tinyhil reads, and bounds-checks every vtable, field, offset, vector and string against the file, naming
   the first bad one; then it unpacks the whole file with the schema's generated object API (``ModelT`` of
   the tflite-micro package, as TFLM's Python interpreter does), which reaches every other table (builtin
   options' vectors, signature defs, sparsity, metadata).
2. :func:`verify_graph` checks the parsed :class:`~harness.codegen.graph.Graph` against :data:`RULES`:
   tensor indices, dataflow, shapes, quantization, operator arity and options.

A violation raises :class:`~harness.errors.ModelInvalidError` whose message is one line: where (tensor or
operator index and name), what is wrong, and the fix.  :data:`RULES` is the rule list (id -> text).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from harness.codegen.graph import Graph, Operator, Tensor
from harness.errors import ModelInvalidError

#: Largest tensor tinyhil accepts (bytes): the largest RAM/flash the board catalog allows (64 MB).
MAX_TENSOR_BYTES = 64 << 20
MAX_RANK = 8
ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                    "int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 31), (1 << 31) - 1)}
QUANTIZED_ACTIVATIONS = ("int8", "uint8", "int16")
RE_EXPORT = "re-export the model (tf.lite.TFLiteConverter)"

RULES: dict[str, str] = {
    "S1": "flatbuffer: every table's vtable, every field, offset, vector and string lies inside the file",
    "S2": "exactly one subgraph; every operator's opcode index and every tensor's buffer index in range",
    "S3": "a tensor's element type is one tinyhil knows; a constant's data size matches its shape",
    "T1": "operator and graph tensor indices are in range and non-negative (-1 only for an optional input)",
    "T2": "graph inputs and outputs are distinct, non-constant, never written by an operator (inputs), "
          "written by exactly one operator (outputs), and of rank >= 1",
    "T3": "every tensor is written by at most one operator, never a constant; every non-constant operator "
          "input is a graph input or written by an earlier operator",
    "T4": f"every dimension >= 1, rank <= {MAX_RANK}, at most {MAX_TENSOR_BYTES >> 20} MB per tensor",
    "Q1": "quantization scales are finite and > 0; as many zero points as scales",
    "Q2": "zero points lie in the range of the tensor's dtype",
    "Q3": "per-channel quantization: axis within the rank and one scale per slice along it",
    "Q4": "int8/uint8/int16 activations (non-constant tensors) carry quantization parameters",
    "Q5": "MAX_POOL_2D and AVERAGE_POOL_2D keep their input's quantization: output scale within 1e-6 and the same "
          "zero point (TFLM's pooling_common.cc refuses others; the kernels do not requantize)",
    "O1": "an operator has the number of inputs and outputs its kind takes",
    "O2": "an operator's builtin options are of its kind (e.g. Conv2DOptions for CONV_2D) and present when "
          "required; strides, dilations and pool sizes >= 1, padding SAME/VALID, a known fused activation, "
          "softmax beta finite and > 0, concatenation axis within the rank",
    "O3": "an operator's tensors have the ranks its kind needs (4-D NHWC for convolutions and pools, 4-D "
          "filters, 2-D fully-connected weights, rank >= 1 for the data input and output of the others)",
}

# ---- pass 1: flatbuffer structure ------------------------------------------------------------------------
# Per table: vtable slot -> kind. ("s", n): inline scalar of n bytes; ("vec", n): vector of n-byte scalars;
# ("str",); ("tabs", T): vector of tables T; ("tab", T): one table T (T None: any table, fields unchecked).
_SCHEMA: dict[str, dict[int, tuple]] = {
    "Model": {0: ("s", 4), 1: ("tabs", "OperatorCode"), 2: ("tabs", "SubGraph"), 3: ("str",),
              4: ("tabs", "Buffer"), 5: ("vec", 4), 6: ("tabs", "Metadata"), 7: ("tabs", None)},
    "OperatorCode": {0: ("s", 1), 1: ("str",), 2: ("s", 4), 3: ("s", 4)},
    "SubGraph": {0: ("tabs", "Tensor"), 1: ("vec", 4), 2: ("vec", 4), 3: ("tabs", "Operator"), 4: ("str",)},
    "Tensor": {0: ("vec", 4), 1: ("s", 1), 2: ("s", 4), 3: ("str",), 4: ("tab", "QuantizationParameters"),
               5: ("s", 1), 6: ("tab", None), 7: ("vec", 4), 8: ("s", 1)},
    "QuantizationParameters": {0: ("vec", 4), 1: ("vec", 4), 2: ("vec", 4), 3: ("vec", 8), 4: ("s", 1),
                               5: ("tab", None), 6: ("s", 4)},
    "Operator": {0: ("s", 4), 1: ("vec", 4), 2: ("vec", 4), 3: ("s", 1), 4: ("tab", None), 5: ("vec", 1),
                 6: ("s", 1), 7: ("vec", 1), 8: ("vec", 4), 9: ("s", 8), 10: ("s", 8)},
    "Buffer": {0: ("vec", 1), 1: ("s", 8), 2: ("s", 8)},
    "Metadata": {0: ("str",), 1: ("s", 4)},
}


class _Bad(Exception):
    pass


class _Walker:
    def __init__(self, raw: bytes) -> None:
        self.raw, self.n = raw, len(raw)

    def _read(self, fmt: str, pos: int, where: str) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > self.n:
            raise _Bad(f"{where}: offset {pos} points outside the file ({self.n} bytes)")
        return struct.unpack_from(fmt, self.raw, pos)[0]

    def _ref(self, pos: int, where: str) -> int:
        return pos + self._read("<I", pos, where)

    def table(self, pos: int, kind: str | None, where: str) -> None:
        vt = pos - self._read("<i", pos, where + " (table)")
        vt_size = self._read("<H", vt, where + " (vtable)")
        tbl_size = self._read("<H", vt + 2, where + " (vtable)")
        if vt_size < 4 or vt_size % 2 or vt + vt_size > self.n:
            raise _Bad(f"{where}: vtable of {vt_size} bytes at {vt} is malformed")
        if tbl_size < 4 or pos + tbl_size > self.n:
            raise _Bad(f"{where}: table of {tbl_size} bytes at {pos} runs past the file end")
        fields = _SCHEMA.get(kind, {}) if kind else {}
        for slot in range((vt_size - 4) // 2):
            off = self._read("<H", vt + 4 + 2 * slot, where)
            if not off:
                continue
            spec = fields.get(slot, ("s", 1))
            size = spec[1] if spec[0] == "s" else 4
            if off + size > tbl_size:
                raise _Bad(f"{where}: field {slot} at offset {off} lies outside its {tbl_size}-byte table")
            if kind and slot in fields:
                names = _SLOT_NAMES.get(kind, ())
                self.field(pos + off, spec, f"{where}.{names[slot] if slot < len(names) else slot}")

    def field(self, pos: int, spec: tuple, where: str) -> None:
        if spec[0] == "s":
            return
        if spec[0] == "tab":
            self.table(self._ref(pos, where), spec[1], where)
            return
        start = self._ref(pos, where)
        length = self._read("<I", start, where + " (vector length)")
        elem = {"vec": spec[1] if spec[0] == "vec" else 1, "str": 1, "tabs": 4}[spec[0]]
        if start + 4 + length * elem + (spec[0] == "str") > self.n:
            raise _Bad(f"{where}: vector of {length} elements runs past the file end")
        if spec[0] == "tabs":
            for i in range(length):
                self.table(self._ref(start + 4 + 4 * i, f"{where}[{i}]"), spec[1], f"{where}[{i}]")


_SLOT_NAMES = {  # schema.fbs field names, in vtable slot order
    "Model": ("version", "operator_codes", "subgraphs", "description", "buffers", "metadata_buffer",
              "metadata", "signature_defs"),
    "OperatorCode": ("deprecated_builtin_code", "custom_code", "version", "builtin_code"),
    "SubGraph": ("tensors", "inputs", "outputs", "operators", "name"),
    "Tensor": ("shape", "type", "buffer", "name", "quantization", "is_variable", "sparsity", "shape_signature"),
    "QuantizationParameters": ("min", "max", "scale", "zero_point", "details_type", "details",
                               "quantized_dimension"),
    "Operator": ("opcode_index", "inputs", "outputs", "builtin_options_type", "builtin_options",
                 "custom_options", "custom_options_format", "mutating_variable_inputs", "intermediates"),
    "Buffer": ("data", "offset", "size"),
    "Metadata": ("name", "buffer"),
}


def check_structure(raw: bytes, name: str) -> None:
    """Bounds-check the flatbuffer ``raw`` (a .tflite file's bytes) along the TFLite schema.

    Raises ModelInvalidError (rule S1) naming the first out-of-range table, field, offset or vector.
    """
    try:
        _Walker(raw).table(struct.unpack_from("<I", raw, 0)[0] if len(raw) >= 4 else len(raw), "Model", "Model")
    except (_Bad, struct.error) as exc:
        raise ModelInvalidError(f"{name}: corrupt flatbuffer: {one_line(exc)} [S1]; the file is truncated or "
                                f"damaged: copy it again or {RE_EXPORT}") from None
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: PLC0415

    try:
        fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(raw, 0))
    except Exception as exc:  # noqa: BLE001 - the generated reader raises struct.error, ValueError, ...
        raise ModelInvalidError(f"{name}: corrupt flatbuffer: a table outside the graph (operator options, "
                                f"signature, metadata) does not unpack ({one_line(exc, 100)}) [S1]; copy the file "
                                f"again or {RE_EXPORT}") from None


# ---- pass 2: the graph ---------------------------------------------------------------------------------------
#: opcode -> (min inputs, max inputs or None, optional input positions, options classes allowed, required)
_ARITY: dict[str, tuple[int, int | None, tuple[int, ...]]] = {
    "CONV_2D": (2, 3, (2,)), "DEPTHWISE_CONV_2D": (2, 3, (2,)), "FULLY_CONNECTED": (2, 3, (2,)),
    "MAX_POOL_2D": (1, 1, ()), "AVERAGE_POOL_2D": (1, 1, ()), "MEAN": (2, 2, ()), "PAD": (2, 2, ()),
    "CONCATENATION": (1, None, ()), "RESHAPE": (1, 2, ()), "TRANSPOSE": (2, 2, ()), "SOFTMAX": (1, 1, ()),
    "ADD": (2, 2, ()), "MUL": (2, 2, ()), "QUANTIZE": (1, 1, ()), "DEQUANTIZE": (1, 1, ()),
    "CUSTOM:TH_XNOR_CONV_2D": (5, 5, ()),
}
#: opcode -> (the builtin options class it takes, whether the converter always writes it)
OPTIONS_CLASS: dict[str, tuple[str, bool]] = {
    "CONV_2D": ("Conv2DOptions", True), "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", True),
    "FULLY_CONNECTED": ("FullyConnectedOptions", False), "MAX_POOL_2D": ("Pool2DOptions", True),
    "AVERAGE_POOL_2D": ("Pool2DOptions", True), "MEAN": ("ReducerOptions", False), "PAD": ("PadOptions", False),
    "CONCATENATION": ("ConcatenationOptions", True), "RESHAPE": ("ReshapeOptions", False),
    "TRANSPOSE": ("TransposeOptions", False), "SOFTMAX": ("SoftmaxOptions", True), "ADD": ("AddOptions", False),
    "MUL": ("MulOptions", False), "QUANTIZE": ("QuantizeOptions", False),
    "DEQUANTIZE": ("DequantizeOptions", False),
}
#: opcode -> {input/output position: required rank (None: any rank >= 1)}; "o0" is output 0.
_RANKS: dict[str, dict[object, int | None]] = {
    "CONV_2D": {0: 4, 1: 4, "o0": 4}, "DEPTHWISE_CONV_2D": {0: 4, 1: 4, "o0": 4},
    "FULLY_CONNECTED": {0: None, 1: 2, "o0": None}, "MAX_POOL_2D": {0: 4, "o0": 4},
    "AVERAGE_POOL_2D": {0: 4, "o0": 4}, "SOFTMAX": {0: None, "o0": None}, "PAD": {0: None, "o0": None},
    "TRANSPOSE": {0: None, "o0": None}, "CONCATENATION": {0: None, "o0": None}, "MEAN": {0: None},
    "CUSTOM:TH_XNOR_CONV_2D": {0: 4, "o0": 4},
}
_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line: control characters and newlines become spaces, long text is cut with '…'."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def tensor_where(t: Tensor) -> str:
    """``tensor 12 'conv2d/Relu'`` (name sanitized and shortened)."""
    return f"tensor {t.index} {one_line(t.name, 60)!r}"


def op_where(op: Operator) -> str:
    """``operator 3 (CONV_2D)``."""
    return f"operator {op.index} ({one_line(op.opcode, 40)})"


def check_options_type(name: str, op_index: int, opcode: str, options_class: str) -> None:
    """Rule O2, the part only the raw file shows: the type of operator ``op_index``'s options union
    (``options_class``, a BuiltinOptions name or "type N" when unknown) in the file ``name``.
    Raises ModelInvalidError."""
    expected = OPTIONS_CLASS.get(opcode)
    if expected is None:
        return
    cls, required = expected
    if options_class == cls or (options_class == "NONE" and not required):
        return
    got = "no builtin options" if options_class in ("NONE", None) else f"options {one_line(options_class, 40)}"
    raise ModelInvalidError(f"{name}: operator {op_index} ({opcode}): has {got} where {cls} is expected [O2]; "
                            f"{RE_EXPORT}")


class _Checker:
    def __init__(self, graph: Graph, name: str) -> None:
        self.g, self.name = graph, name

    def fail(self, where: str, rule: str, what: str, fix: str = RE_EXPORT) -> None:
        raise ModelInvalidError(f"{self.name}: {where}: {what} [{rule}]; {fix}")

    def index(self, i: int, where: str, optional: bool = False) -> None:
        n = len(self.g.tensors)
        if optional and i == -1:
            return
        if not 0 <= i < n:
            self.fail(where, "T1", f"tensor index {i} is out of range (the model has {n} tensors"
                      + (", -1 marks an absent optional input" if optional else "") + ")")

    def tensors(self) -> None:
        for t in self.g.tensors:
            w = tensor_where(t)
            if len(t.shape) > MAX_RANK:
                self.fail(w, "T4", f"rank {len(t.shape)} exceeds {MAX_RANK}")
            if any(d < 1 for d in t.shape):
                self.fail(w, "T4", f"shape {list(t.shape)} has a dimension < 1",
                          "export with a fixed batch size of 1 (no dynamic or empty dimensions)")
            nbytes = math.prod(t.shape) * np.dtype(t.dtype).itemsize
            if nbytes > MAX_TENSOR_BYTES:
                self.fail(w, "T4", f"shape {list(t.shape)} needs {nbytes:,} B, over the "
                          f"{MAX_TENSOR_BYTES >> 20} MB limit", "use a smaller input shape or model")
            self.quant(t, w)

    def quant(self, t: Tensor, w: str) -> None:
        q = t.quant
        if q is None:
            if t.dtype in QUANTIZED_ACTIVATIONS and not t.is_constant:
                self.fail(w, "Q4", f"{t.dtype} tensor has no quantization parameters",
                          "quantize the whole model (converter.optimizations + representative_dataset)")
            return
        for s in q.scale:
            if not (math.isfinite(s) and s > 0):
                self.fail(w, "Q1", f"quantization scale {s!r} is not finite and positive",
                          f"{RE_EXPORT} and a representative dataset")
        if len(q.zero_point) != len(q.scale):
            self.fail(w, "Q1", f"{len(q.scale)} scales but {len(q.zero_point)} zero points")
        lo, hi = ZERO_POINT_RANGE.get(t.dtype, (-(1 << 31), (1 << 31) - 1))
        for z in q.zero_point:
            if not lo <= z <= hi:
                self.fail(w, "Q2", f"zero point {z} is outside {t.dtype}'s range [{lo}, {hi}]")
        if len(q.scale) > 1:
            if not 0 <= q.axis < len(t.shape):
                self.fail(w, "Q3", f"per-channel quantization axis {q.axis} is outside rank {len(t.shape)}")
            if t.shape[q.axis] != len(q.scale):
                self.fail(w, "Q3", f"{len(q.scale)} per-channel scales for {t.shape[q.axis]} slices along axis "
                          f"{q.axis} of shape {list(t.shape)}")

    def graph_io(self) -> None:
        g = self.g
        for kind, ids in (("input", g.inputs), ("output", g.outputs)):
            for k, i in enumerate(ids):
                self.index(i, f"graph {kind} {k}")
                t = g.tensors[i]
                if ids.count(i) > 1:
                    self.fail(tensor_where(t), "T2", f"is listed twice as a graph {kind}")
                if t.is_constant:
                    self.fail(tensor_where(t), "T2", f"graph {kind} is a constant tensor")
                if not t.shape:
                    self.fail(tensor_where(t), "T2", f"graph {kind} is a scalar (rank 0)",
                              f"give the model's {kind} a shape (e.g. [1, N]) and re-export it")
        both = set(g.inputs) & set(g.outputs)
        if both:
            t = g.tensors[min(both)]
            self.fail(tensor_where(t), "T2", "is both a graph input and a graph output (output wired to the input)")

    def dataflow(self) -> None:
        g = self.g
        written: dict[int, int] = {}
        for op in g.operators:
            w = op_where(op)
            lo, hi, optional = _ARITY.get(op.opcode, (0, None, None))
            if len(op.inputs) < lo or (hi is not None and len(op.inputs) > hi):
                self.fail(w, "O1", f"has {len(op.inputs)} inputs; {op.opcode} takes "
                          + (f"{lo}" if lo == hi else f"{lo} to {hi if hi is not None else 'any number'}"))
            if op.opcode in _ARITY and len(op.outputs) != 1:
                self.fail(w, "O1", f"has {len(op.outputs)} outputs; {op.opcode} has 1")
            for k, i in enumerate(op.inputs):
                self.index(i, f"{w} input {k}", optional=optional is None or k in optional)
                if i < 0 or g.tensors[i].is_constant:
                    continue
                if i not in g.inputs and written.get(i, op.index) >= op.index:
                    self.fail(w, "T3", f"reads {tensor_where(g.tensors[i])}, which no earlier operator "
                              "writes and which is not a graph input")
            for k, i in enumerate(op.outputs):
                self.index(i, f"{w} output {k}")
                t = g.tensors[i]
                if t.is_constant:
                    self.fail(w, "T3", f"writes the constant {tensor_where(t)}")
                if i in g.inputs:
                    self.fail(w, "T2", f"writes the graph input {tensor_where(t)}")
                if i in written:
                    self.fail(w, "T3", f"writes {tensor_where(t)}, already written by operator {written[i]}")
                written[i] = op.index
            self.options(op, w)
            self.ranks(op, w)
            self.same_quant(op, w)
        for i in g.outputs:
            if i not in written:
                self.fail(tensor_where(g.tensors[i]), "T2", "graph output is written by no operator")

    def ranks(self, op: Operator, w: str) -> None:
        for pos, rank in _RANKS.get(op.opcode, {}).items():
            ids = op.outputs if pos == "o0" else op.inputs
            k = 0 if pos == "o0" else pos
            if k >= len(ids) or ids[k] < 0:
                continue
            t = self.g.tensors[ids[k]]
            if (rank is None and not t.shape) or (rank is not None and len(t.shape) != rank):
                what = "output" if pos == "o0" else f"input {k}"
                need = "rank >= 1" if rank is None else f"rank {rank}"
                self.fail(w, "O3", f"{what} {tensor_where(t)} has shape {list(t.shape)}; {op.opcode} needs {need}")

    def same_quant(self, op: Operator, w: str) -> None:
        if op.opcode not in ("MAX_POOL_2D", "AVERAGE_POOL_2D") or not op.inputs or not op.outputs:
            return
        inp, out = self.g.tensors[op.inputs[0]], self.g.tensors[op.outputs[0]]
        if inp.quant is None or out.quant is None or inp.dtype not in QUANTIZED_ACTIVATIONS:
            return
        if abs(inp.quant.scale[0] - out.quant.scale[0]) > 1e-6 or inp.quant.zero_point[0] != out.quant.zero_point[0]:
            self.fail(w, "Q5", f"output {tensor_where(out)} has scale {out.quant.scale[0]:g} / zero point "
                      f"{out.quant.zero_point[0]} but input {tensor_where(inp)} has {inp.quant.scale[0]:g} / "
                      f"{inp.quant.zero_point[0]}; pooling does not requantize")

    def options(self, op: Operator, w: str) -> None:
        o = op.options
        for key in ("stride_w", "stride_h", "dilation_w_factor", "dilation_h_factor", "filter_width",
                    "filter_height"):
            if key in o and not (isinstance(o[key], int) and o[key] >= 1):
                self.fail(w, "O2", f"option {key} = {o[key]!r}; it must be >= 1")
        if "padding" in o and o["padding"] not in ("SAME", "VALID"):
            self.fail(w, "O2", f"unknown padding {o['padding']!r}; SAME or VALID expected")
        act = o.get("fused_activation_function", "NONE")
        if act not in _ACTIVATIONS:
            self.fail(w, "O2", f"unknown fused activation {act!r}")
        if "depth_multiplier" in o and not (isinstance(o["depth_multiplier"], int) and o["depth_multiplier"] >= 0):
            self.fail(w, "O2", f"depth_multiplier {o['depth_multiplier']!r} is negative")
        if op.opcode == "SOFTMAX":
            beta = o.get("beta", 1.0)
            if not (math.isfinite(beta) and beta > 0):
                self.fail(w, "O2", f"softmax beta {beta!r} is not finite and positive")
        if op.opcode == "CONCATENATION" and op.inputs and 0 <= op.inputs[0] < len(self.g.tensors):
            rank = len(self.g.tensors[op.inputs[0]].shape)
            axis = o.get("axis", 0)
            if not -rank <= axis < max(rank, 1):
                self.fail(w, "O2", f"concatenation axis {axis} is outside rank {rank}")


def verify_graph(graph: Graph, name: str) -> Graph:
    """Check ``graph`` (parsed from the file ``name``) against :data:`RULES` T1-T4, Q1-Q4, O1-O2.

    Returns the graph unchanged.  Raises ModelInvalidError with a one-line message for the first violation:
    ``<file>: <tensor/operator index and name>: <what> [<rule id>]; <fix>``.
    """
    c = _Checker(graph, name)
    c.graph_io()
    c.tensors()
    c.dataflow()
    return graph
