"""Emit C99 for a lowered graph: ``model.h`` (the model API the firmware uses) and ``model.c``.

Constants (weights, biases, per-channel multipliers, parameter structs) are ``static const`` so the linker
places them in flash; activations live in one statically allocated, 16-byte aligned tensor arena at the
offsets of the :class:`~harness.codegen.planner.ArenaPlan`.  ``th_model_invoke()`` is one kernel call per
step of the schedule (an operator, or a fused pair: harness/codegen/fuse.py), bracketed by the
TH_OP_BEGIN/TH_OP_END profiling hooks (empty unless TH_PROFILE_OPS); a RESHAPE that aliases its input emits no
call.  The planner keeps the input tensor alive for the whole inference, so the loaded input is never
overwritten and ``infer N W`` runs every inference on the same input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from harness.codegen.graph import Graph, Tensor
from harness.codegen.kernel import ConstArray, KernelCall
from harness.codegen.planner import ArenaPlan

CTYPES = {
    "int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "float32": "float", "bool": "uint8_t",
}
_PER_LINE = 24


@dataclass(frozen=True)
class ModelSources:
    """The emitted sources: text of model.h and model.c, and the arena size in bytes."""

    header: str
    source: str
    arena_bytes: int


def c_literal(value: object, ctype: str = "") -> str:
    """A C literal for an int, a float (hex float, exact for float32), or a string emitted verbatim."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        v = int(value)
        if v == -(1 << 31):
            return "INT32_MIN"
        return f"{v}LL" if abs(v) >= (1 << 31) else str(v)
    if isinstance(value, (float, np.floating)):
        f = float(np.float32(value))
        if np.isinf(f):
            return "INFINITY" if f > 0 else "-INFINITY"
        return f.hex() + "f"
    if isinstance(value, str):
        return value
    raise TypeError(f"no C literal for {type(value).__name__}")


def _array_body(values: np.ndarray, ctype: str) -> str:
    flat = values.reshape(-1)
    items = [c_literal(v.item() if hasattr(v, "item") else v) for v in flat]
    lines = [", ".join(items[i:i + _PER_LINE]) for i in range(0, len(items), _PER_LINE)]
    return "{\n    " + ",\n    ".join(lines) + "\n}" if items else "{0}"


def _ident(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Emitter:
    def __init__(self, graph: Graph, plan: ArenaPlan, calls: list[KernelCall], name: str) -> None:
        self.graph, self.plan, self.calls, self.name = graph, plan, calls, name
        self.decls: list[str] = []
        self.const_names: dict[int, str] = {}

    def const_tensor(self, t: Tensor) -> str:
        if t.index not in self.const_names:
            ident = f"tensor{t.index}"
            self.decls.append(
                f"/* {t.name}: {t.dtype}{list(t.shape)} */\n"
                f"static const {CTYPES[t.dtype]} {ident}[] __attribute__((aligned(4))) = "
                f"{_array_body(t.data, CTYPES[t.dtype])};"
            )
            self.const_names[t.index] = ident
        return self.const_names[t.index]

    def arg(self, index: int, mutable: bool) -> str:
        if index < 0:
            return "NULL"
        t = self.graph.tensors[index]
        if t.is_constant:
            return self.const_tensor(t)
        ctype = CTYPES[t.dtype]
        qual = "" if mutable else "const "
        return f"({qual}{ctype} *)(th_arena + {self.plan.offset_of(index)})"

    def param_value(self, op_index: int, field: str, value: object) -> str:
        if isinstance(value, dict):  # a nested struct (a fused step's conv and pool parameters)
            return self.struct_body(op_index, value, prefix=f"{field}_", indent="        ")
        if isinstance(value, ConstArray):
            ident = f"op{op_index}_{field}"
            self.decls.append(
                f"static const {value.ctype} {ident}[] = {_array_body(np.asarray(value.values), value.ctype)};"
            )
            return ident
        if isinstance(value, (tuple, list)):
            return "{" + ", ".join(c_literal(v) for v in value) + "}"
        return c_literal(value)

    def struct_body(self, op_index: int, params: dict, prefix: str = "", indent: str = "    ") -> str:
        fields = f",\n{indent}".join(
            f".{k} = {self.param_value(op_index, prefix + k, v)}" for k, v in params.items())
        return f"{{\n{indent}{fields}\n{indent[:-4]}}}"

    def call(self, op_index: int, call: KernelCall) -> str:
        op = self.graph.operators[op_index]
        if op.opcode == "RESHAPE" and self.plan.aliases(op.outputs[0]) == op.inputs[0]:
            return (f"    TH_OP_BEGIN({op_index});\n"
                    f"    /* RESHAPE: the output is the input's bytes (arena offset {self.plan.offset_of(op.inputs[0])})"
                    f" */\n    TH_OP_END({op_index});")
        args = []
        if call.params_type:
            body = self.struct_body(op_index, call.params)
            self.decls.append(f"static const {call.params_type} op{op_index}_params = {body};")
            args.append(f"&op{op_index}_params")
        outputs = set(op.outputs)
        args += [self.arg(i, mutable=i in outputs) for i in call.args]
        if call.scratch_bytes:
            args.append(f"(int8_t *)(th_arena + {self.plan.offset_of(-1 - op_index)})")
        return (
            f"    TH_OP_BEGIN({op_index});\n"
            f"    {call.function}({', '.join(args)});  /* {op.opcode} */\n"
            f"    TH_OP_END({op_index});"
        )

    def emit(self) -> ModelSources:
        body = "\n".join(self.call(i, c) for i, c in enumerate(self.calls))
        g = self.graph
        inp, out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
        op_names = ", ".join(_c_string(op.opcode) for op in g.operators)
        header = f"""/* Generated by tinyhil's model compiler from {self.name}. Do not edit. */
#ifndef TH_MODEL_H
#define TH_MODEL_H

#include <stdint.h>

#define TH_MODEL_ARENA_BYTES {self.plan.arena_bytes}
#define TH_MODEL_NUM_OPERATORS {len(g.operators)}
#define TH_MODEL_INPUT_BYTES {inp.nbytes}
#define TH_MODEL_OUTPUT_BYTES {out.nbytes}

#ifdef __cplusplus
extern "C" {{
#endif

extern uint8_t *const th_model_input;          /* {inp.dtype}{list(inp.shape)}, in the arena, never overwritten */
extern const uint8_t *const th_model_output;   /* {out.dtype}{list(out.shape)}, inside the arena */
extern const char *const th_model_name;
extern const char *const th_model_operator_names[TH_MODEL_NUM_OPERATORS];
void th_model_invoke(void);

#ifdef __cplusplus
}}
#endif

#endif /* TH_MODEL_H */
"""
        decls = "\n\n".join(self.decls)
        source = f"""/* Generated by tinyhil's model compiler from {self.name}. Do not edit. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "th_fused_conv_maxpool.h"
#include "th_kernels.h"
#include "th_profile.h"

static uint8_t th_arena[TH_MODEL_ARENA_BYTES] __attribute__((aligned(16)));

uint8_t *const th_model_input = th_arena + {self.plan.offset_of(g.inputs[0])};
const uint8_t *const th_model_output = th_arena + {self.plan.offset_of(g.outputs[0])};
const char *const th_model_name = {_c_string(self.name)};
const char *const th_model_operator_names[TH_MODEL_NUM_OPERATORS] = {{{op_names}}};

{decls}

void th_model_invoke(void) {{
{body}
}}
"""
        return ModelSources(header, source, self.plan.arena_bytes)


def emit_model(graph: Graph, plan: ArenaPlan, calls: list[KernelCall], name: str) -> ModelSources:
    """Render model.h/model.c for ``graph``; ``calls[i]`` is operator i's lowering, ``plan`` its arena."""
    return _Emitter(graph, plan, calls, name).emit()
