"""The official MLPerf Tiny runner's view of tinyhil firmware (targets/PROTOCOL.md, "The official MLPerf Tiny
runner"): the build defines that make the firmware print the lines the runner parses, the runner's own line
forms (which tinyhil's client skips), and the host-side mirror of the firmware's ``m-results-[...]`` text.

Firmware built with :func:`mlperf_defines` (``-DTH_MLPERF_ID="kws01"`` and the ``TH_MLPERF_*`` numbers) answers
a command that arrived without a CRC suffix with the v2 lines plus ``m-name-dut-[...]``, ``m-profile-[...]``,
``m-model-[<id>]``, two ``m-lap-us-<t>`` and ``m-results-[<v>,...]`` (``targets/common/th_mlperf.c``).  Sources of
the forms: the runner's ``device_under_test.py`` (name, profile/model) and ``script.py`` (laps, results), upstream
commit 1afd2c98 (``../shared/third_party/mlperf-tiny-runner/UPSTREAM.md``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from harness.errors import ModelError

#: The runner's regular expressions for the lines it reads (device_under_test.py, script.py), one alternation.
MLPERF_LINE = re.compile(r"^(?:m-name-dut-\[[^]]+\]|m-(?:model|profile)-\[[^]]+\]|m-lap-us-[0-9]+"
                         r"|m-results-\[[^]]+\])$")
#: TH_MLPERF_OUT_DTYPE codes of targets/common/th_mlperf.c.
OUTPUT_DTYPES = {"int8": 1, "uint8": 2, "int16": 3}
#: MLPerf Tiny v1.x benchmark ids the runner's test scripts know (tests_performance.yaml, tests_accuracy.yaml).
BENCHMARK_IDS = ("ad01", "ic01", "ic02", "kws01", "vww01", "sww01")
#: Digits after the decimal point in ``m-results-[...]``.
RESULT_DECIMALS = 6
_MAX_SHIFT = 60
_MAX_32 = (1 << 32) - 1


def is_mlperf_line(raw: str) -> bool:
    """True for a line of exactly one of the runner's forms (no CRC suffix): tinyhil's client skips such lines;
    they carry nothing it uses, so a damaged one can never be taken for data."""
    return MLPERF_LINE.match(raw) is not None


def scale_fraction(scale: float) -> tuple[int, int]:
    """An output scale as ``(mult, shift)`` with ``scale == mult / 2**shift`` exactly (a float32 scale's
    mantissa and exponent, trailing zero bits removed), ``0 <= shift <= 60``.  Raises ModelError when the scale
    is not a positive finite number in that range (about 9e-13 .. 2^40)."""
    if not (math.isfinite(scale) and scale > 0):
        raise ModelError(f"output scale {scale!r} is not a positive number; the model's output quantization is broken")
    mant, exp = math.frexp(float(np.float32(scale)))  # scale = mant * 2**exp, 0.5 <= mant < 1, 24 bits
    mult, shift = int(mant * (1 << 24)), 24 - exp
    while mult % 2 == 0 and shift > 0:
        mult //= 2
        shift -= 1
    if shift < 0:
        mult, shift = mult << -shift, 0
    if shift > _MAX_SHIFT or mult >= 1 << 40:
        raise ModelError(f"output scale {scale!r} is outside what m-results-[...] can print exactly "
                         f"(2^-{_MAX_SHIFT} .. 2^40); requantize the model's output")
    return mult, shift


def timer_to_us(target) -> tuple[int, int]:
    """``(num, den)``, both below 2^32: microseconds = timer count * num / den on ``target``
    (harness.target.Target).  Board: cycles / clock MHz (measured).  Twin: instructions * CPI / clock MHz, the
    catalog's CPI (``boards.yaml`` ``cpi``), an ESTIMATE.  Raises ModelError for a twin without a CPI."""
    board = target.board
    if target.kind.value == "twin":
        if board.cpi is None:
            raise ModelError(f"{board.name} has no cpi in boards.yaml, so its twin's instruction count cannot be "
                             "turned into the runner's microseconds; add cpi: {value, source}")
        ratio = Fraction(str(board.cpi.value)) * 1_000_000 / board.clock_hz
    else:
        ratio = Fraction(1_000_000, board.clock_hz)
    ratio = ratio.limit_denominator(_MAX_32)
    if ratio.numerator > _MAX_32 or ratio.numerator == 0:
        raise ModelError(f"{board.name}: timer-to-microsecond ratio {ratio} does not fit 32 bits")
    return ratio.numerator, ratio.denominator


def mlperf_defines(benchmark_id: str, output_tensor, target) -> dict[str, str]:
    """The ``-D`` defines (name -> C text) that make firmware answer the official MLPerf Tiny runner, to merge
    into ``BuildOptions.defines``: ``TH_MLPERF_ID`` (the runner's test-script key, e.g. ``kws01``), the timer
    conversion (:func:`timer_to_us`) and the output dequantization (dtype, zero point, :func:`scale_fraction`).

    ``output_tensor``: the model's output (harness.codegen.graph.Tensor: ``dtype`` int8/uint8/int16 with a
    per-tensor ``quant``).  Raises ModelError (unknown id, float or per-channel output, scale out of range)."""
    if benchmark_id not in BENCHMARK_IDS:
        raise ModelError(f"MLPerf benchmark id {benchmark_id!r} is not one the runner knows; use one of "
                         f"{', '.join(BENCHMARK_IDS)}")
    dtype = str(output_tensor.dtype)
    quant = getattr(output_tensor, "quant", None)
    if dtype not in OUTPUT_DTYPES or quant is None or len(quant.scale) != 1:
        raise ModelError(f"the model's output is {dtype} {'per-channel ' if quant and len(quant.scale) > 1 else ''}"
                         f"{'' if quant else 'unquantized'}; m-results-[...] needs a per-tensor quantized "
                         f"{'/'.join(OUTPUT_DTYPES)} output")
    mult, shift = scale_fraction(quant.scale[0])
    num, den = timer_to_us(target)
    return {"TH_MLPERF_ID": f'"{benchmark_id}"', "TH_MLPERF_US_NUM": f"{num}u", "TH_MLPERF_US_DEN": f"{den}u",
            "TH_MLPERF_OUT_DTYPE": str(OUTPUT_DTYPES[dtype]), "TH_MLPERF_OUT_ZERO_POINT": str(int(quant.zero_point[0])),
            "TH_MLPERF_OUT_MULT": f"{mult}ll", "TH_MLPERF_OUT_SHIFT": str(shift)}


def results_text(raw: bytes, output_tensor) -> str:
    """The ``m-results-[...]`` line firmware built with :func:`mlperf_defines` prints for the output bytes
    ``raw``: each value ``scale * (q - zero_point)`` (exact in float64) as ``%.6f``."""
    q = np.frombuffer(raw, dtype=np.dtype(str(output_tensor.dtype)).newbyteorder("<")).astype(np.int64)
    scale = float(np.float32(output_tensor.quant.scale[0]))
    values = (q - int(output_tensor.quant.zero_point[0])) * scale
    return "m-results-[" + ",".join(f"{v:.{RESULT_DECIMALS}f}" for v in values) + "]"
