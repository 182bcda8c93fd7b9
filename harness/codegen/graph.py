"""Graph IR: the tensors and operators of one TFLite subgraph, as frozen records.

Shapes are tuples of ints in TFLite order (NHWC for 4-D activations, OHWI for CONV_2D filters, 1HWO for
DEPTHWISE_CONV_2D filters, [out, in] for FULLY_CONNECTED weights).  Dtypes are numpy names
("int8", "int16", "int32", "int64", "uint8", "float32", "bool").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization of a tensor: real = scale * (q - zero_point).

    ``scale`` and ``zero_point`` have one entry (per-tensor) or one per slice along ``axis``
    (per-channel).  Scales are float32 values as stored in the flatbuffer, widened to Python floats.
    """

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True, eq=False)
class Tensor:
    """One tensor. ``data`` is set for constants (weights, biases, shape operands), else None."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: QuantParams | None = None
    data: np.ndarray | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        """Size in bytes."""
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        """Per-tensor scale (first entry); raises ValueError when the tensor is not quantized."""
        if self.quant is None:
            raise ValueError(f"tensor {self.name} is not quantized")
        return self.quant.scale[0]

    @property
    def zero_point(self) -> int:
        """Per-tensor zero point (first entry); 0 when the tensor is not quantized."""
        return self.quant.zero_point[0] if self.quant else 0


@dataclass(frozen=True)
class Operator:
    """One operator: TFLite builtin name (e.g. "CONV_2D"), tensor indices (-1 = optional input absent),
    and its builtin options as a dict of snake_case names (e.g. {"stride_w": 2, "padding": "SAME",
    "fused_activation_function": "RELU"})."""

    index: int
    opcode: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    """A whole model: tensors indexed by position, operators in execution order, graph inputs/outputs."""

    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""

    def input(self, op: Operator, k: int) -> Tensor | None:
        """The k-th input tensor of ``op`` (None when absent or optional)."""
        if k >= len(op.inputs) or op.inputs[k] < 0:
            return None
        return self.tensors[op.inputs[k]]

    def output(self, op: Operator, k: int = 0) -> Tensor:
        """The k-th output tensor of ``op``."""
        return self.tensors[op.outputs[k]]
