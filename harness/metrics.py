"""Run metrics: accuracy, instruction/cycle statistics, memory use from the ELF.

Memory accounting (bytes) follows the GNU ld section flags: flash holds every allocated section that is
loaded from the image (code, read-only data, and the initial values of .data); RAM holds every allocated,
writable section (.data, .bss, heap and stack reservations).  Read with pyelftools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import numpy as np
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile


@dataclass(frozen=True)
class MemoryUse:
    """Flash and RAM use of a firmware image in bytes, with the per-section breakdown."""

    flash_bytes: int
    ram_bytes: int
    sections: dict[str, int]
    kinds: dict[str, int] = field(default_factory=dict)  # text (read-only), data, bss, heap, stack: bytes of each kind

    def as_dict(self) -> dict:
        return {"flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes, "sections": dict(self.sections)}


def memory_use(elf_path: str | Path) -> MemoryUse:
    """Flash/RAM bytes of an ELF: flash = allocated PROGBITS sections (code, rodata, .data init image);
    RAM = allocated writable sections (.data, .bss, .heap, .stack). Raises OSError if unreadable."""
    flash = ram = 0
    sections: dict[str, int] = {}
    kinds = dict.fromkeys(("text", "data", "bss", "heap", "stack"), 0)
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            flags = sec["sh_flags"]
            size = sec["sh_size"]
            if not flags & SH_FLAGS.SHF_ALLOC or size == 0:
                continue
            sections[sec.name] = size
            if sec["sh_type"] != "SHT_NOBITS":
                flash += size
            if flags & SH_FLAGS.SHF_WRITE:
                ram += size
            if sec.name in (".heap", ".stack"):
                kinds[sec.name[1:]] += size
            elif sec["sh_type"] == "SHT_NOBITS":
                kinds["bss"] += size
            else:
                kinds["data" if flags & SH_FLAGS.SHF_WRITE else "text"] += size
    return MemoryUse(flash, ram, sections, kinds)


@dataclass(frozen=True)
class CountStats:
    """Median, min and max of per-inference counts in ``unit`` ("instructions" or "cycles")."""

    unit: str
    median: float
    min: int
    max: int
    n: int

    def as_dict(self) -> dict:
        return {"unit": self.unit, "median": self.median, "min": self.min, "max": self.max, "n": self.n}


def count_stats(counts: list[int], unit: str) -> CountStats:
    """Statistics of a non-empty list of per-inference counts. Raises ValueError when empty."""
    if not counts:
        raise ValueError("no inference counts")
    return CountStats(unit, float(median(counts)), int(min(counts)), int(max(counts)), len(counts))


def top1_accuracy(labels: list[int | None], predictions: list[int]) -> float | None:
    """Fraction of labelled samples whose prediction equals the label (None when nothing is labelled)."""
    pairs = [(l, p) for l, p in zip(labels, predictions) if l is not None]
    if not pairs:
        return None
    return float(np.mean([l == p for l, p in pairs]))
