"""The generated half of a TFLM firmware: a model directory for ``targets/tflm/th_tflm_model.cc``.

:func:`write_tflm_model` writes, for one ``.tflite`` file:

* ``model_data.c``: the flatbuffer as ``const unsigned char th_tflm_model_data[]`` (16-byte aligned, in flash);
* ``model_ops.h``: ``TH_TFLM_OP_TYPES`` and ``th_tflm_add_operators()``, a ``MicroMutableOpResolver``
  registration of exactly the model's operators, in first-use order;
* ``model.h``: the ``th_model_*`` API of targets/common with the sizes (bytes) of the input and output tensors,
  the operator count and ``TH_MODEL_ARENA_BYTES``, the tensor arena.

The arena is the smallest with which TFLM's own host interpreter (package ``tflite-micro``) allocates the model,
found by bisection and rounded up to 16 bytes.  ``arena_used_bytes()`` alone is not always enough (the planner's
temporary buffers: ENVIRONMENT.md); the host build has 64-bit pointers, so its need bounds the 32-bit target's
from above, and the firmware refuses to start (``e-tflm: AllocateTensors failed``) if it were ever short.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.errors import ModelError

ARENA_ALIGN = 16  # bytes: TFLM aligns tensors to 16
RESOLVER_HEADER = Path("tensorflow/lite/micro/micro_mutable_op_resolver.h")


@dataclass(frozen=True)
class TflmModel:
    """A generated TFLM model directory: ``arena_bytes`` (tensor arena), ``operators`` (resolver methods, e.g.
    ``AddConv2D``), ``flatbuffer_bytes`` (the .tflite size, all of it in flash)."""

    directory: Path
    arena_bytes: int
    operators: tuple[str, ...]
    flatbuffer_bytes: int


def resolver_method(opcode: str) -> str:
    """``MicroMutableOpResolver`` method for a TFLite builtin: ``CONV_2D`` -> ``AddConv2D``,
    ``DEPTHWISE_CONV_2D`` -> ``AddDepthwiseConv2D``, ``MAX_POOL_2D`` -> ``AddMaxPool2D``."""
    return "Add" + "".join(p if p[:1].isdigit() else p.capitalize() for p in opcode.split("_"))


@lru_cache(maxsize=4)
def _resolver_methods(tree: Path) -> frozenset[str]:
    text = (tree / RESOLVER_HEADER).read_text(errors="replace")
    return frozenset(re.findall(r"TfLiteStatus (Add\w+)\(", text))


def model_operators(graph, tree: Path, backend: str) -> tuple[str, ...]:
    """Resolver methods for the operators of ``graph`` (unique, first-use order).  Raises
    ModelError (one line: operator, index, the backends that have it) for an operator TFLM lacks,
    e.g. tinyhil's custom XNOR convolution."""
    known, out = _resolver_methods(Path(tree)), []
    for op in graph.operators:
        method = resolver_method(op.opcode)
        if op.opcode.startswith("CUSTOM") or method not in known:
            raise ModelError(
                f"operator {op.opcode} (index {op.index}) is not in TensorFlow Lite Micro, so backend {backend} "
                "cannot run this model; backends that have it: tinyhil (use --backend tinyhil)")
        if method not in out:
            out.append(method)
    return tuple(out)


def _allocates(raw: bytes, arena: int) -> bool:
    from tflite_micro.python.tflite_micro import runtime  # noqa: PLC0415 (heavy; host reference package)

    saved = os.dup(2)  # TFLM prints every failed allocation on stderr: silence it during the search
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            runtime.Interpreter.from_bytes(raw, arena_size=arena)
    except RuntimeError:
        return False
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return True


def host_arena_bytes(raw: bytes, cache_dir: Path | None = None) -> int:
    """Smallest tensor arena (bytes, multiple of 16) with which the host TFLM interpreter allocates the model
    ``raw`` (a .tflite flatbuffer); cached per model SHA-256 in ``cache_dir``.  Raises ModelError
    when TFLM cannot allocate it even with 64 MiB."""
    key = hashlib.sha256(raw).hexdigest()
    cache = Path(cache_dir) / "tflm-arena.json" if cache_dir else None
    known = json.loads(cache.read_text()) if cache and cache.is_file() else {}
    if key in known:
        return int(known[key])
    hi = 1 << 16
    while not _allocates(raw, hi):
        hi *= 2
        if hi > 64 << 20:
            raise ModelError("TFLM's host interpreter cannot allocate this model (64 MiB arena); "
                                           "check the model with the tflite-micro package")
    lo = 0
    while hi - lo > ARENA_ALIGN:  # invariant: lo fails (or 0), hi allocates
        mid = (lo + hi) // 2 // ARENA_ALIGN * ARENA_ALIGN
        lo, hi = (lo, mid) if mid > lo and _allocates(raw, mid) else (max(mid, lo + 1), hi)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        known[key] = hi
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True))
        tmp.replace(cache)
    return hi


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:  # keep mtimes: the firmware build is cached on them
        path.write_text(text)


def write_tflm_model(compiled, out_dir: Path, tree: Path, backend: str, cache_dir: Path | None = None) -> TflmModel:
    """Write ``model.h``, ``model_data.c`` and ``model_ops.h`` for ``compiled`` (its .tflite path, graph and
    input/output tensors) into ``out_dir``.  Raises ModelError."""
    raw = Path(compiled.path).read_bytes()
    operators = model_operators(compiled.graph, tree, backend)
    arena = host_arena_bytes(raw, cache_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = ",\n".join("    " + ", ".join(f"0x{b:02x}" for b in raw[i:i + 16]) for i in range(0, len(raw), 16))
    _write_if_changed(out / "model_data.c", (
        f"/* {compiled.path.name} ({len(raw)} bytes, SHA-256 {compiled.sha256}), generated by tinyhil. */\n"
        f"__attribute__((aligned(16))) const unsigned char th_tflm_model_data[{len(raw)}] = {{\n{rows}\n}};\n"))
    adds = "\n".join(f"    if (r.{m}() != kTfLiteOk) return kTfLiteError;" for m in operators)
    _write_if_changed(out / "model_ops.h", (
        "/* The model's operators for TFLM's MicroMutableOpResolver, generated by tinyhil. */\n"
        "#ifndef TH_TFLM_MODEL_OPS_H\n#define TH_TFLM_MODEL_OPS_H\n\n"
        f"#define TH_TFLM_OP_TYPES {len(operators)}\n\n"
        "template <typename Resolver>\nstatic TfLiteStatus th_tflm_add_operators(Resolver &r) {\n"
        f"{adds}\n    return kTfLiteOk;\n}}\n\n#endif\n"))
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(compiled.path).stem)
    _write_if_changed(out / "model.h", (
        f"/* {compiled.path.name} on TensorFlow Lite Micro ({backend}), generated by tinyhil. */\n"
        "#ifndef TH_MODEL_H\n#define TH_MODEL_H\n\n#include <stdint.h>\n\n"
        f'#define TH_MODEL_NAME "{name}"\n'
        f"#define TH_MODEL_ARENA_BYTES {arena}u\n"
        f"#define TH_MODEL_NUM_OPERATORS {len(compiled.graph.operators)}u\n"
        f"#define TH_MODEL_INPUT_BYTES {compiled.input_tensor.nbytes}u\n"
        f"#define TH_MODEL_OUTPUT_BYTES {compiled.output_tensor.nbytes}u\n\n"
        "/* input and output tensors inside the arena, set by th_model_init (targets/tflm/th_tflm_model.cc) */\n"
        "extern uint8_t *th_model_input;\nextern const uint8_t *th_model_output;\n"
        "extern const char *const th_model_name;\nvoid th_model_init(void);\nvoid th_model_invoke(void);\n\n"
        "#endif\n"))
    return TflmModel(out, arena, operators, len(raw))
