"""What an operator lowers to: one call of a C kernel with a constant parameter struct.

The emitter turns a :class:`KernelCall` into

    static const <params_type> op<i>_params = { .field = value, ... };   /* in flash */
    <function>(&op<i>_params, arg0, arg1, ...);                          /* in th_model_invoke() */

where each ``arg`` is a tensor: a constant tensor becomes a ``static const`` array in flash, an activation a
pointer into the tensor arena, an absent optional tensor (index -1) ``NULL``.  Array-valued parameters
(:class:`ConstArray`, e.g. per-channel multipliers) are emitted as their own ``static const`` arrays and the
struct field points at them.  With ``params_type=None`` the call has no struct argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A constant array parameter: C element type (e.g. "int32_t") and values (1-D after flattening)."""

    ctype: str
    values: np.ndarray


@dataclass(frozen=True)
class KernelCall:
    """One kernel invocation. ``macs`` counts multiply-accumulates (0 for data movement), for profiles.

    ``args`` are tensor indices into the graph, passed in order after the params pointer.
    ``params`` values: int, float (emitted as a float literal), str (emitted verbatim, e.g. an enum or
    macro), tuple/list of ints (emitted as a brace list for a fixed-size array field), or ConstArray.
    ``scratch_bytes`` asks for a scratch buffer passed as the last argument (``int8_t*``, 4-byte aligned).
    """

    function: str
    params_type: str | None
    params: dict[str, object] = field(default_factory=dict)
    args: tuple[int, ...] = ()
    macs: int = 0
    scratch_bytes: int = 0
