"""Mutated .tflite models for the verifier tests and the fuzz benchmark (benchmarks/fuzz_models.py).

Two kinds of mutant, both made from the bytes of a valid model:

* **targeted** (:func:`targeted_mutants`): one named invalid edit each, patched in place at the field the
  TFLite schema puts it (scale 0/inf/NaN/negative, zero point 2^62, tensor index -1 or out of range, graph
  output rewired to the input, scalar output, huge or negative shape, corrupt vtable/offset, opcode or buffer
  index out of range, options of the wrong kind, stride 0, truncation).  Every one must be refused.
* **random** (:func:`random_mutant`): seeded byte flips, random bytes, zeroed regions, truncation, corrupted
  uoffsets, and the targeted patches with random values.  These may stay valid; :func:`oracle_violations`
  re-checks an accepted one with rules written independently of ``harness/codegen/verify.py``;
  :mod:`fuzzrun` runs the loop.

Positions are found with the generated ``tflite`` classes (``_tab.Pos``, ``_tab.Offset``, ``_tab.Vector``).
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass

import tflite


@dataclass(frozen=True)
class Mutant:
    """One mutated model: ``kind`` (class name), ``detail`` (what was changed where) and its bytes."""

    kind: str
    detail: str
    data: bytes


def _model(raw: bytes) -> "tflite.Model":
    return tflite.Model.GetRootAsModel(raw, 0)


def _field(obj, slot: int) -> int:
    """Absolute position of field ``slot`` of a table object (0 when absent)."""
    off = obj._tab.Offset(4 + 2 * slot)
    return obj._tab.Pos + off if off else 0


def _vector(obj, slot: int) -> tuple[int, int]:
    """(position of element 0, length) of vector field ``slot`` ((0, 0) when absent)."""
    off = obj._tab.Offset(4 + 2 * slot)
    if not off:
        return 0, 0
    return obj._tab.Vector(off), obj._tab.VectorLen(off)


def _vector_int(raw: bytes, obj, slot: int, k: int = 0) -> int:
    """Element ``k`` of int32 vector field ``slot``."""
    return struct.unpack_from("<i", raw, _vector(obj, slot)[0] + 4 * k)[0]


def _patch(raw: bytes, pos: int, fmt: str, value) -> bytes:
    out = bytearray(raw)
    struct.pack_into(fmt, out, pos, value)
    return bytes(out)


class _Sites:
    """Where the patchable fields of a model lie (all positions absolute)."""

    def __init__(self, raw: bytes) -> None:
        m = _model(raw)
        sg = m.Subgraphs(0)
        self.sg = sg
        self.inputs = _vector(sg, 1)
        self.outputs = _vector(sg, 2)
        self.tensors = [sg.Tensors(i) for i in range(sg.TensorsLength())]
        self.ops = [sg.Operators(i) for i in range(sg.OperatorsLength())]
        self.n_tensors = len(self.tensors)
        self.n_buffers = m.BuffersLength()
        self.n_codes = m.OperatorCodesLength()
        self.out_index = struct.unpack_from("<i", raw, self.outputs[0])[0]
        self.in_index = struct.unpack_from("<i", raw, self.inputs[0])[0]
        self.quantized = [t for t in self.tensors if t.Quantization() is not None
                          and t.Quantization().ScaleLength() > 0]
        self.activations = [t for t in self.quantized if t.Buffer() == 0 or m.Buffers(t.Buffer()).DataLength() == 0]

    def scale_pos(self, t) -> int:
        return _vector(t.Quantization(), 2)[0]

    def zp_pos(self, t) -> int:
        return _vector(t.Quantization(), 3)[0]


def _with_options(raw: bytes, sites: _Sites, key: str) -> list[tuple[int, int]]:
    """(position, size) of scalar option fields named ``key`` (e.g. stride_w: Conv2DOptions slot 1)."""
    slots = {"stride": {"Conv2DOptions": (1, 2), "DepthwiseConv2DOptions": (1, 2), "Pool2DOptions": (1, 2)}}
    from harness.codegen.reader import _OPTION_CLASSES

    out = []
    for op in sites.ops:
        cls = _OPTION_CLASSES.get(op.BuiltinOptionsType())
        table = op.BuiltinOptions()
        if table is None or cls not in slots.get(key, {}):
            continue
        for slot in slots[key][cls]:
            off = flatbuffers_offset(raw, table.Pos, slot)
            if off:
                out.append((table.Pos + off, 4))
    return out


def flatbuffers_offset(raw: bytes, table_pos: int, slot: int) -> int:
    """Field offset (from the table start) of vtable ``slot`` of the table at ``table_pos``; 0 when absent."""
    vt = table_pos - struct.unpack_from("<i", raw, table_pos)[0]
    vt_size = struct.unpack_from("<H", raw, vt)[0]
    if 4 + 2 * slot >= vt_size:
        return 0
    return struct.unpack_from("<H", raw, vt + 4 + 2 * slot)[0]


def targeted_mutants(raw: bytes) -> list[Mutant]:
    """The invalid-model classes of issue 13, rebuilt on ``raw`` (a valid int8 model with >= 1 operator).

    Every mutant returned is invalid; a class whose field the model lacks is skipped.
    """
    s = _Sites(raw)
    out: list[Mutant] = []

    def add(kind: str, detail: str, data: bytes) -> None:
        out.append(Mutant(kind, detail, data))

    act = s.activations[0] if s.activations else (s.quantized[0] if s.quantized else None)
    if act is not None:
        for label, value in (("0", 0.0), ("inf", math.inf), ("nan", math.nan), ("negative", -0.5)):
            add(f"scale_{label}", f"tensor {act.Name().decode()!r} scale = {value}",
                _patch(raw, s.scale_pos(act), "<f", value))
        if s.zp_pos(act):
            add("zero_point_2^62", "zero point = 2**62", _patch(raw, s.zp_pos(act), "<q", 1 << 62))
            add("zero_point_300", "int8 zero point = 300", _patch(raw, s.zp_pos(act), "<q", 300))
    per_channel = [t for t in s.quantized if t.Quantization().ScaleLength() > 1]
    if per_channel:
        q = per_channel[0].Quantization()
        pos = _field(q, 6)
        if pos:
            add("per_channel_axis", "quantized_dimension = 7", _patch(raw, pos, "<i", 7))
        start, n = _vector(q, 2)
        add("per_channel_length", "scale vector one shorter", _patch(raw, start - 4, "<I", n - 1))
    add("output_is_input", "graph output rewired to the graph input",
        _patch(raw, s.outputs[0], "<i", s.in_index))
    add("output_index_-1", "graph output index -1", _patch(raw, s.outputs[0], "<i", -1))
    add("output_index_oob", "graph output index = tensor count", _patch(raw, s.outputs[0], "<i", s.n_tensors))
    add("input_index_-1", "graph input index -1", _patch(raw, s.inputs[0], "<i", -1))
    op0_inputs = _vector(s.ops[0], 1)
    add("op_input_-1", "operator 0 input 0 = -1", _patch(raw, op0_inputs[0], "<i", -1))
    add("op_input_oob", "operator 0 input 0 = 10**6", _patch(raw, op0_inputs[0], "<i", 10 ** 6))
    add("op_input_negative", "operator 0 input 0 = -7", _patch(raw, op0_inputs[0], "<i", -7))
    last_out = _vector(s.ops[-1], 2)
    add("op_output_oob", "last operator output = tensor count", _patch(raw, last_out[0], "<i", s.n_tensors))
    add("op_output_to_input", "last operator writes the graph input", _patch(raw, last_out[0], "<i", s.in_index))
    out_t = s.tensors[s.out_index]
    shape_pos, rank = _vector(out_t, 0)
    add("scalar_output", "graph output shape []", _patch(raw, shape_pos - 4, "<I", 0))
    add("huge_shape", "graph output dim 0 = 2**30", _patch(raw, shape_pos, "<i", 1 << 30))
    add("negative_shape", "graph output dim 0 = -3", _patch(raw, shape_pos, "<i", -3))
    in_shape, _ = _vector(s.tensors[s.in_index], 0)
    add("huge_input_shape", "graph input dims = 2**20", _patch(_patch(raw, in_shape, "<i", 1 << 20),
                                                              in_shape + 4, "<i", 1 << 20))
    with_code = [(k, _field(op, 0)) for k, op in enumerate(s.ops) if _field(op, 0)]
    if with_code:  # an opcode index 0 is the schema default and not stored
        k, pos = with_code[0]
        add("opcode_index_oob", f"operator {k} opcode index = 99", _patch(raw, pos, "<I", 99))
    buf = _field(out_t, 2)
    if buf:
        add("buffer_index_oob", "graph output buffer index = 10**6", _patch(raw, buf, "<I", 10 ** 6))
    opt_type = _field(s.ops[0], 3)
    if opt_type:
        add("options_wrong_kind", "operator 0 options type = 200", _patch(raw, opt_type, "<B", 200))
    for pos, _size in _with_options(raw, s, "stride")[:1]:
        add("stride_0", "first stride option = 0", _patch(raw, pos, "<i", 0))
    # corrupt vtable offsets and uoffsets
    t_pos = out_t._tab.Pos
    add("vtable_soffset", "graph output tensor's vtable soffset = -2**30",
        _patch(raw, t_pos, "<i", -(1 << 30)))
    add("vtable_field_offset", "graph output tensor's shape field offset = 0xfff0",
        _patch(raw, t_pos - struct.unpack_from("<i", raw, t_pos)[0] + 4, "<H", 0xFFF0))
    add("subgraphs_offset", "Model.subgraphs uoffset = 2**31", _patch(raw, _field(_model(raw), 2), "<I", 1 << 31))
    add("tensors_vector_length", "SubGraph.tensors length = 2**28",
        _patch(raw, _vector(s.sg, 0)[0] - 4, "<I", 1 << 28))
    add("root_offset", "root table offset past the end", _patch(raw, 0, "<I", len(raw) + 16))
    m = _model(raw)
    if m.SignatureDefsLength() and _field(m.SignatureDefs(0), 0):
        add("signature_def_offset", "SignatureDef 0 inputs uoffset = 2**30",
            _patch(raw, _field(m.SignatureDefs(0), 0), "<I", 1 << 30))
    pools = [op for op in s.ops if m.OperatorCodes(op.OpcodeIndex()).BuiltinCode() in (1, 17)]  # AVG/MAX_POOL
    if pools:
        out_t = s.tensors[_vector_int(raw, pools[0], 2)]
        if out_t.Quantization() is not None and out_t.Quantization().ScaleLength():
            pos = s.scale_pos(out_t)
            add("pool_requant", "pooling output scale doubled",
                _patch(raw, pos, "<f", 2 * struct.unpack_from("<f", raw, pos)[0]))
    for frac in (0.5, 0.9, 0.999):
        add(f"truncated_{frac}", f"first {frac:.1%} of the bytes", raw[: int(len(raw) * frac)])
    add("empty", "0 bytes", b"")
    return out


_RANDOM_KINDS = ("flip", "bytes", "zero", "truncate", "uoffset", "field")


def random_mutant(raw: bytes, rng: random.Random, field_sites: list[tuple[int, str]] | None = None) -> Mutant:
    """One seeded random mutation of ``raw``; ``field_sites`` (from :func:`field_sites`) enables the
    structure-aware kind that writes a random value into a known field."""
    kind = rng.choice(_RANDOM_KINDS if field_sites else _RANDOM_KINDS[:-1])
    data = bytearray(raw)
    n = len(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
        detail = "bit flips"
    elif kind == "bytes":
        pos = rng.randrange(n)
        for i in range(pos, min(n, pos + rng.randint(1, 16))):
            data[i] = rng.randrange(256)
        detail = f"random bytes at {pos}"
    elif kind == "zero":
        pos = rng.randrange(n)
        length = rng.choice((4, 16, 64, 256))
        data[pos:pos + length] = bytes(min(length, n - pos))
        detail = f"zeroed {length} B at {pos}"
    elif kind == "truncate":
        cut = rng.randrange(n)
        data = data[:cut]
        detail = f"truncated to {cut} B"
    elif kind == "uoffset":
        pos = rng.randrange(0, n - 4) & ~3
        value = struct.unpack_from("<I", data, pos)[0]
        new = rng.choice((value + rng.randint(-64, 64), rng.randrange(1 << 32), 0, n, (1 << 32) - 1))
        struct.pack_into("<I", data, pos, new % (1 << 32))
        detail = f"uint32 at {pos}: {value} -> {new % (1 << 32)}"
    else:
        pos, fmt = rng.choice(field_sites)
        value = rng.choice(_VALUES[fmt])
        struct.pack_into(fmt, data, pos, value)
        detail = f"field {fmt} at {pos} = {value}"
    return Mutant(kind, detail, bytes(data))


_VALUES: dict[str, tuple] = {
    "<i": (-1, -2, 0, 1, 2, 3, 7, 127, 1 << 16, 1 << 30, -(1 << 31), (1 << 31) - 1),
    "<I": (0, 1, 2, 5, 99, 1 << 20, (1 << 32) - 1),
    "<f": (0.0, -0.0, -1.0, math.inf, -math.inf, math.nan, 1e-45, 1e38, 0.5, 1e-30),
    "<q": (0, 1, -1, 127, 128, -129, 255, 1 << 62, -(1 << 62)),
    "<B": (0, 1, 2, 3, 17, 200, 255),
}


def field_sites(raw: bytes) -> list[tuple[int, str]]:
    """Positions and struct formats of the fields a structure-aware mutation may overwrite: tensor indices of
    the graph and operators, shape dims, buffer and opcode indices, scales, zero points, axes, options types."""
    s = _Sites(raw)
    sites: list[tuple[int, str]] = []
    for pos, n in (s.inputs, s.outputs):
        sites += [(pos + 4 * i, "<i") for i in range(n)]
    for op in s.ops:
        for slot in (1, 2):
            pos, n = _vector(op, slot)
            sites += [(pos + 4 * i, "<i") for i in range(n)]
        if _field(op, 0):
            sites.append((_field(op, 0), "<I"))
        if _field(op, 3):
            sites.append((_field(op, 3), "<B"))
    for t in s.tensors:
        pos, n = _vector(t, 0)
        sites += [(pos + 4 * i, "<i") for i in range(n)]
        if _field(t, 2):
            sites.append((_field(t, 2), "<I"))
        if _field(t, 1):
            sites.append((_field(t, 1), "<B"))
        q = t.Quantization()
        if q is not None:
            pos, n = _vector(q, 2)
            sites += [(pos + 4 * i, "<f") for i in range(n)]
            pos, n = _vector(q, 3)
            sites += [(pos + 8 * i, "<q") for i in range(n)]
            if _field(q, 6):
                sites.append((_field(q, 6), "<i"))
    for pos, _size in _with_options(raw, s, "stride"):
        sites.append((pos, "<i"))
    return sites


# ---- an independent oracle: rules re-stated on the raw file, not via harness/codegen/verify.py -------------
_ZP = {9: (-128, 127), 3: (0, 255), 7: (-32768, 32767)}  # TensorType INT8, UINT8, INT16


def oracle_violations(raw: bytes) -> list[str]:
    """Rule violations of an ACCEPTED model, found from the raw file with the ``tflite`` classes alone: tensor
    indices in range, graph inputs and outputs distinct and of rank >= 1, positive dimensions, finite positive
    scales, zero points within int8/uint8/int16.  An empty list: nothing invalid found."""
    m = _model(raw)
    sg = m.Subgraphs(0)
    n = sg.TensorsLength()
    found: list[str] = []
    ins = [int(x) for x in sg.InputsAsNumpy()]
    outs = [int(x) for x in sg.OutputsAsNumpy()]
    for i in ins + outs:
        if not 0 <= i < n:
            return [f"graph tensor index {i} out of range"]
        if sg.Tensors(i).ShapeLength() == 0:
            found.append(f"graph tensor {i} is a scalar")
    if set(ins) & set(outs) or len(set(ins)) != len(ins) or len(set(outs)) != len(outs):
        found.append("graph inputs/outputs not distinct")
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        for i in list(op.InputsAsNumpy() if op.InputsLength() else []) + list(
                op.OutputsAsNumpy() if op.OutputsLength() else []):
            if not -1 <= int(i) < n:
                found.append(f"operator {k} tensor index {int(i)} out of range")
        for i in (op.OutputsAsNumpy() if op.OutputsLength() else []):
            if int(i) in ins:
                found.append(f"operator {k} writes a graph input")
    for i in range(n):
        t = sg.Tensors(i)
        if t.ShapeLength() and any(int(d) < 1 for d in t.ShapeAsNumpy()):
            found.append(f"tensor {i} has a dimension < 1")
        q = t.Quantization()
        if q is None or q.ScaleLength() == 0:
            continue
        if any(not (math.isfinite(float(x)) and x > 0) for x in q.ScaleAsNumpy()):
            found.append(f"tensor {i} has a scale that is not finite and positive")
        lo, hi = _ZP.get(t.Type(), (-(1 << 31), (1 << 31) - 1))
        if q.ZeroPointLength() and any(not lo <= int(z) <= hi for z in q.ZeroPointAsNumpy()):
            found.append(f"tensor {i} has a zero point outside its dtype")
    return found
