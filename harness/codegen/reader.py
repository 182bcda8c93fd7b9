"""Read a .tflite flatbuffer (package ``tflite``, the generated schema classes) into the graph IR.

The model verifier (:mod:`harness.codegen.verify`) runs here, before anything else sees the model: the raw
flatbuffer is bounds-checked first, the indices the reader follows (opcode, buffer) while parsing, and the
parsed graph last.  Errors: :class:`harness.errors.ModelError` for a missing, corrupt or multi-subgraph file,
its subclass :class:`~harness.errors.ModelInvalidError` for a broken verifier rule.  Unknown operators are
read (by name) and refused later by the compiler, which knows which operators it supports.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tflite
from tflite.ActivationFunctionType import ActivationFunctionType
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.Padding import Padding
from tflite.TensorType import TensorType

from harness.codegen import verify
from harness.codegen.graph import Graph, Operator, QuantParams, Tensor
from harness.errors import ModelError, ModelInvalidError

_OPNAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
_OPTION_CLASSES = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
_PADDING = {v: k for k, v in vars(Padding).items() if not k.startswith("_")}
_ACTIVATION = {v: k for k, v in vars(ActivationFunctionType).items() if not k.startswith("_")}
_DTYPES = {
    TensorType.FLOAT32: "float32", TensorType.INT8: "int8", TensorType.UINT8: "uint8",
    TensorType.INT16: "int16", TensorType.INT32: "int32", TensorType.INT64: "int64",
    TensorType.BOOL: "bool", TensorType.FLOAT16: "float16",
}


def _elements(shape: tuple[int, ...]) -> int:
    """Element count of ``shape`` in Python ints (no int64 overflow on a corrupt shape)."""
    n = 1
    for d in shape:
        n *= d
    return n


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _options(op: "tflite.Operator") -> dict:
    """Builtin options of one operator as {snake_case_name: value}; enums become their names."""
    kind = op.BuiltinOptionsType()
    cls_name = _OPTION_CLASSES.get(kind)
    table = op.BuiltinOptions()
    if not cls_name or cls_name == "NONE" or table is None:
        return {}
    cls = getattr(tflite, cls_name, None)
    if cls is None:
        return {}
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    out: dict = {}
    for attr in dir(obj):
        if attr.startswith("_") or attr in ("Init",) or attr.startswith("GetRootAs") or attr.endswith(
            ("BufferHasIdentifier", "IsNone", "Length", "AsNumpy")
        ):
            continue
        fn = getattr(obj, attr)
        if not callable(fn):
            continue
        try:
            value = fn()
        except TypeError:  # vector accessors take an index: read them AsNumpy instead
            as_np = getattr(obj, attr + "AsNumpy", None)
            value = as_np().tolist() if as_np and not isinstance(as_np(), int) else []
        key = _snake(attr)
        if key == "padding":
            value = _PADDING.get(value, value)
        elif key == "fused_activation_function":
            value = _ACTIVATION.get(value, value)
        out[key] = value
    return out


def _buffer_data(model: "tflite.Model", raw: bytes, index: int, where: str) -> bytes | None:
    if index != 0 and not 0 < index < model.BuffersLength():
        raise ModelInvalidError(f"{where}: buffer index {index} is out of range (the model has "
                                f"{model.BuffersLength()} buffers) [S2]; {verify.RE_EXPORT}")
    if index == 0 or model.BuffersLength() == 0:
        return None
    buf = model.Buffers(index)
    if buf.Offset() > 1:  # large models keep data after the flatbuffer
        if buf.Offset() + buf.Size() > len(raw):
            raise ModelInvalidError(f"{where}: buffer {index} lies at bytes {buf.Offset()}+{buf.Size()}, past "
                                    f"the file end ({len(raw)} B) [S1]; the file is truncated: copy it again")
        return raw[buf.Offset(): buf.Offset() + buf.Size()]
    if buf.DataLength() == 0:
        return None
    return buf.DataAsNumpy().tobytes()


def read_tflite(path: str | Path) -> Graph:
    """Parse ``path`` into a :class:`Graph` (subgraph 0).

    Raises ModelError when the file is missing, not a TFLite flatbuffer, or has more than one subgraph, and
    ModelInvalidError (one line: where, what, rule id, fix) when it breaks a rule of the model verifier.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read model {path}: {exc.strerror}; check the path") from None
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise ModelError(f"{path} is not a TFLite flatbuffer (no TFL3 identifier); export the model to .tflite")
    verify.check_structure(raw, path.name)
    try:
        graph = _parse(raw, path)
    except ModelError:
        raise
    except Exception as exc:  # the generated reader raises anything on a truncated buffer
        raise ModelError(f"{path} is corrupt ({type(exc).__name__}: {verify.one_line(exc, 120)}); "
                         "re-export the model") from None
    return verify.verify_graph(graph, path.name)


def _parse(raw: bytes, path: Path) -> Graph:
    model = tflite.Model.GetRootAsModel(raw, 0)
    if model.SubgraphsLength() != 1:
        raise ModelError(
            f"{path} has {model.SubgraphsLength()} subgraphs; tinyhil compiles single-subgraph models only"
        )
    sg = model.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        if t.Type() not in _DTYPES:
            raise ModelInvalidError(f"{path.name}: tensor {i}: unsupported element type {t.Type()} [S3]; "
                                    "export int8 or float32 tensors")
        dtype = _DTYPES[t.Type()]
        shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        quant = None
        q = t.Quantization()
        if q is not None and q.ScaleLength() > 0:
            zps = q.ZeroPointAsNumpy() if q.ZeroPointLength() else np.zeros(q.ScaleLength(), np.int64)
            quant = QuantParams(
                scale=tuple(float(s) for s in q.ScaleAsNumpy()),
                zero_point=tuple(int(z) for z in zps),
                axis=int(q.QuantizedDimension()),
            )
        data = _buffer_data(model, raw, t.Buffer(), f"{path.name}: tensor {i}")
        array = None
        if data is not None:
            if len(data) != _elements(shape) * np.dtype(dtype).itemsize:
                raise ModelInvalidError(f"{path.name}: constant tensor {i}: {len(data)} data bytes for a {dtype} "
                                        f"tensor of shape {list(shape)} [S3]; {verify.RE_EXPORT}")
            array = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
            array = array.reshape(shape)
            array.setflags(write=False)
        name = t.Name().decode("utf-8", "replace") if t.Name() else f"t{i}"
        tensors.append(Tensor(i, name, shape, dtype, quant, array))
    operators = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if op.OpcodeIndex() >= model.OperatorCodesLength():
            raise ModelInvalidError(f"{path.name}: operator {i}: opcode index {op.OpcodeIndex()} is out of range "
                                    f"(the model has {model.OperatorCodesLength()} operator codes) [S2]; "
                                    f"{verify.RE_EXPORT}")
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        opcode = _OPNAMES.get(builtin, f"BUILTIN_{builtin}")
        verify.check_options_type(path.name, i, opcode, _OPTION_CLASSES.get(op.BuiltinOptionsType(),
                                                                             f"type {op.BuiltinOptionsType()}"))
        options = _options(op)
        if builtin == BuiltinOperator.CUSTOM:
            opcode = "CUSTOM:" + (code.CustomCode() or b"?").decode()
            options = {"custom_options": op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else b""}
        operators.append(
            Operator(
                index=i,
                opcode=opcode,
                inputs=tuple(int(x) for x in op.InputsAsNumpy()) if op.InputsLength() else (),
                outputs=tuple(int(x) for x in op.OutputsAsNumpy()) if op.OutputsLength() else (),
                options=options,
            )
        )
    description = model.Description().decode("utf-8", "replace") if model.Description() else ""
    return Graph(
        tensors=tuple(tensors),
        operators=tuple(operators),
        inputs=tuple(int(x) for x in sg.InputsAsNumpy()),
        outputs=tuple(int(x) for x in sg.OutputsAsNumpy()),
        description=description,
    )
