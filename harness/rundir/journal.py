"""The inference journal of a run in progress: one CSV row per finished inference, appended and fsync'd as it
completes, so an interrupted run (Ctrl-C, SIGTERM, a killed emulator, a power cut) loses nothing it finished
and ``tinyhil bench --resume RUN_DIR`` continues after the last recorded inference.

File ``inferences.partial.csv`` in the run's work folder (the final ``inferences.csv`` is written when the run
completes, with the per-clip predictions that need all crops)::

    input_id,crop,count,count_unit,matches_reference,output
    1-100038-A-14.wav,0,21093734,instructions,true,-128 -128 5 ...

A last row cut short by a crash (no line end, or too few fields) is ignored and re-run.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import ResultsError

JOURNAL_NAME = "inferences.partial.csv"
COLUMNS = ["input_id", "crop", "count", "count_unit", "matches_reference", "output"]


@dataclass(frozen=True)
class JournalEntry:
    """One finished inference: the raw output values (flattened), the count in ``unit``, whether the output
    equals the reference (None: not checked)."""

    output: tuple[int | float, ...]
    count: int
    unit: str
    matches_reference: bool | None


class Journal:
    """Append-only journal at ``folder / JOURNAL_NAME``; :meth:`load` reads what an earlier attempt recorded."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / JOURNAL_NAME

    def load(self) -> dict[tuple[str, int], JournalEntry]:
        """{(input id, crop): entry} of every complete row (a torn last row is cut off the file).  Raises
        ResultsError on a malformed complete row."""
        if not self.path.exists():
            return {}
        text = self.path.read_text(encoding="utf-8")
        complete = text[:text.rfind("\n") + 1]  # a row without its line end was cut by a crash
        if complete != text:  # drop it from the file too, so the next append starts a fresh row
            with open(self.path, "r+", encoding="utf-8") as f:
                f.truncate(len(complete.encode("utf-8")))
        done: dict[tuple[str, int], JournalEntry] = {}
        for number, row in enumerate(csv.reader(io.StringIO(complete)), 1):
            if number == 1 or not row:
                continue
            try:
                input_id, crop, count, unit, match, output = row
                done[(input_id, int(crop))] = JournalEntry(
                    tuple(_number(v) for v in output.split()), int(count), unit,
                    {"true": True, "false": False}.get(match))
            except ValueError:
                raise ResultsError(f"{self.path} row {number} is malformed; delete the row to re-run it") from None
        return done

    def append(self, input_id: str, crop: int, output: np.ndarray, count: int, unit: str,
               matches_reference: bool | None) -> None:
        """Append one finished inference and fsync it (it survives a crash once this returns)."""
        new = not self.path.exists()
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if new:
            writer.writerow(COLUMNS)
        match = "" if matches_reference is None else str(bool(matches_reference)).lower()
        writer.writerow([input_id, crop, count, unit, match, " ".join(str(v) for v in output.reshape(-1).tolist())])
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)
