"""Operator lowerings: one module per operator family, each exposing ``lower(op, graph) -> KernelCall``.

The table below is the compiler's operator resolver (as TFLM's MicroMutableOpResolver): an operator not
listed is refused at compile time with its name and position.  A module raises
UnsupportedOperatorError itself for dtypes or options it does not implement.
"""

from __future__ import annotations

import importlib

from harness.codegen.graph import Graph, Operator
from harness.codegen.kernel import KernelCall
from harness.errors import UnsupportedOperatorError

#: TFLite builtin operator -> module under harness.codegen.ops that lowers it.
OPERATOR_MODULES: dict[str, str] = {
    "CONV_2D": "conv",
    "DEPTHWISE_CONV_2D": "conv",
    "FULLY_CONNECTED": "fully_connected",
    "MAX_POOL_2D": "pool",
    "AVERAGE_POOL_2D": "pool",
    "MEAN": "reduce",
    "PAD": "shape",
    "CONCATENATION": "shape",
    "RESHAPE": "shape",
    "TRANSPOSE": "shape",
    "SOFTMAX": "softmax",
    "ADD": "elementwise",
    "MUL": "elementwise",
    "QUANTIZE": "quantize",
    "DEQUANTIZE": "quantize",
    "CUSTOM:TH_XNOR_CONV_2D": "xnor",  # tinyhil's binary convolution (harness/reference/xnor.py)
}


def supported_operators() -> list[str]:
    """Names of the TFLite builtin operators the compiler accepts (int8 and float32 variants)."""
    return sorted(OPERATOR_MODULES)


def lower(op: Operator, graph: Graph) -> KernelCall:
    """Lower one operator to a kernel call. Raises UnsupportedOperatorError naming the operator and position."""
    module_name = OPERATOR_MODULES.get(op.opcode)
    if module_name is None:
        raise UnsupportedOperatorError(op.opcode, op.index)
    module = importlib.import_module(f"{__name__}.{module_name}")
    return module.lower(op, graph)
