"""Human units for every display format (console, Markdown, LaTeX, HTML, plot labels).

Time in ms (µs below 1 ms), energy in mJ (µJ below 1 mJ), counts with k/M/G (instructions, cycles, MACs),
bytes in KiB/MiB (1 KiB = 1024 B). CSV files keep the raw numbers (bytes, µs, µJ, counts) at full precision.
A value that was not measured (None or NaN) is "—", never 0.
"""

from __future__ import annotations

import math

DASH = "—"


def missing(v) -> bool:
    """True for None and NaN (a value that was not measured)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def time_us(us: float | None, digits: int = 5) -> str:
    """µs -> "426.81 ms" (ms from 1 ms up, "812.4 µs" below); ``digits`` significant-ish decimals for ms."""
    if missing(us):
        return DASH
    if abs(us) >= 1000:
        ms = us / 1000
        return f"{ms:,.{_decimals(ms, digits)}f} ms"
    return f"{us:,.1f} µs"


def energy_uj(uj: float | None, digits: int = 5) -> str:
    """µJ -> "143.665 mJ" (mJ from 1 mJ up, "812.4 µJ" below)."""
    if missing(uj):
        return DASH
    if abs(uj) >= 1000:
        mj = uj / 1000
        return f"{mj:,.{_decimals(mj, digits)}f} mJ"
    return f"{uj:,.1f} µJ"


def count(n: float | None, unit: str = "") -> str:
    """103,589,590 -> "103.59 M", 17,470 -> "17.47 k", 812 -> "812"; ``unit`` appended ("instr.")."""
    if missing(n):
        return DASH
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            text = f"{n / scale:,.2f} {suffix}"
            break
    else:
        text = f"{n:,.0f}"
    return f"{text} {unit}".rstrip() if unit else text


def kib(b: float | None) -> str:
    """Bytes -> "412.3 KiB" (MiB from 1 MiB up)."""
    if missing(b):
        return DASH
    if abs(b) >= 1024 ** 2:
        return f"{b / 1024 ** 2:,.2f} MiB"
    return f"{b / 1024:,.1f} KiB"


def _decimals(v: float, digits: int) -> int:
    """Decimals giving about ``digits`` significant figures, at most 3, at least 0."""
    if v == 0:
        return 2
    return max(0, min(3, digits - 1 - int(math.floor(math.log10(abs(v))))))
