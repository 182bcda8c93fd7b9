"""How the command line talks: exit statuses, console width, tables that fit, short run ids, JSON.

**Exit statuses** (documented in README.md, the same for every command)::

    0  ok
    1  a check failed: a regression (`compare`), outputs not bit-exact, an accuracy below a threshold
    2  usage or input error: bad option, model, data, catalog, run reference (the message names the fix)
    3  a model does not fit a board (the others still ran)
    4  the DUT, probe or link failed: flashing, serial transport, protocol, a DUT that stopped answering
    5  nothing to compare: no earlier run matches the baseline selection
    70 unexpected internal error (a bug: the traceback is saved, its path printed; sysexits EX_SOFTWARE)
    130  interrupted (Ctrl-C, SIGTERM, SIGHUP): emulators and ports closed, nothing recorded as valid

**Width**: ``$COLUMNS`` when set, else the terminal's width, else (output piped to a file or another program)
120 columns, looked up at every print (:class:`LiveConsole`).  **Tables** (:func:`fit_table`, in
``harness/report/fit.py``) never cut an identifier (run id, model, board): identifier columns do not wrap or
truncate; when the table is wider than the console, columns equal on every row go first (named in a footnote),
then the caller's optional columns are abbreviated or dropped in its documented order (least important first)
and a footnote names them; ``--wide`` keeps every column.  **Run ids** are shown as the shortest unique prefix
of at least 8 characters (``short_ids``) when the full ids do not fit, and every command accepts such a prefix.
**JSON**: ``--json`` prints one document with :func:`print_json` (keys: ``harness/cli/records.py``).
"""

from __future__ import annotations

import json
import os
import sys
from enum import IntEnum
from typing import Any, Iterable

from rich.console import Console, ConsoleDimensions

from harness.report.fit import fit_table, visible_columns  # noqa: F401 (re-exported)


class ExitStatus(IntEnum):
    """The fixed exit statuses of every tinyhil command (see the module docstring)."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    DOES_NOT_FIT = 3
    DUT = 4
    NO_BASELINE = 5
    INTERNAL = 70  # sysexits.h EX_SOFTWARE
    INTERRUPTED = 130


def status_for(exc: BaseException) -> ExitStatus:
    """The exit status for a tinyhil error: DOES_NOT_FIT for MemoryOverflowError, DUT for flash, transport and
    protocol errors, NO_BASELINE for NoBaselineError, USAGE for the other TinyhilErrors, INTERNAL otherwise."""
    from harness import errors  # noqa: PLC0415

    if isinstance(exc, errors.MemoryOverflowError):
        return ExitStatus.DOES_NOT_FIT
    if isinstance(exc, (errors.FlashError, errors.TransportError)):
        return ExitStatus.DUT
    if isinstance(exc, errors.NoBaselineError):
        return ExitStatus.NO_BASELINE
    if isinstance(exc, errors.TinyhilError):
        return ExitStatus.USAGE
    return ExitStatus.INTERNAL


def console_width(stream=None, default: int = 120) -> int:
    """Columns for tables: ``$COLUMNS`` if set (a positive integer), else the terminal's width, else ``default``."""
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        pass
    return default


class LiveConsole(Console):
    """A rich Console whose width is looked up at every print (:func:`console_width` of its stream), so
    ``COLUMNS=80 tinyhil runs`` and a test's changed ``$COLUMNS`` apply to a console made at import time."""

    @property
    def size(self) -> ConsoleDimensions:
        if self._width is not None:  # an explicit width wins
            return super().size
        return ConsoleDimensions(console_width(self.file), self._height or 25)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Console.print; a table from :func:`harness.report.fit.fit_table` that needs more columns than the
        console has (``--wide``, or identifiers wider than the console) is printed that wide, uncropped."""
        needed = max((getattr(o, "needed_width", 0) for o in objects), default=0)
        if needed <= self.width:
            super().print(*objects, **kwargs)
            return
        saved = self._width
        self._width = needed
        try:
            super().print(*objects, **{**kwargs, "crop": False})
        finally:
            self._width = saved


def make_console(stream=None, *, stderr: bool = False) -> Console:
    """A rich Console of :func:`console_width` columns, read at each print (colour only on a terminal).  Without
    ``stream`` it writes to whatever sys.stdout / sys.stderr is at print time (so captured output, e.g. typer's
    CliRunner, works)."""
    return LiveConsole(file=stream, stderr=stderr)


def short_ids(run_ids: Iterable[str], minimum: int = 8) -> dict[str, str]:
    """Each run id -> its shortest prefix of at least ``minimum`` characters that no other id shares (the whole
    id when it is shorter or two ids differ only at the end)."""
    ids = sorted(set(run_ids))
    out = {}
    for i, rid in enumerate(ids):
        n = minimum
        for other in (ids[i - 1] if i else "", ids[i + 1] if i + 1 < len(ids) else ""):
            common = len(os.path.commonprefix([rid, other])) if other else 0
            n = max(n, common + 1)
        out[rid] = rid[:n]
    return out


def print_json(data: Any, stream=None) -> None:
    """Print ``data`` as indented JSON (pydantic models through ``model_dump(mode="json")``)."""
    def default(obj):
        if hasattr(obj, "model_dump"):
            return obj.model_dump(mode="json")
        if hasattr(obj, "__fspath__"):
            return os.fspath(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    print(json.dumps(data, indent=2, default=default), file=stream or sys.stdout)
