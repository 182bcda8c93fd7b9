"""Progress of a long run (inferences of a benchmark, cells of a study), on a terminal and in CI logs.

On a terminal: a rich progress bar with done/total, inferences per second, elapsed time and ETA.  Without one
(CI, nightly logs, ``| tee``): one plain line every ``every_s`` seconds, and one at the end, e.g.

    stm32f746 inferences: 120/420 (28.6%), 3.2/s, elapsed 0:00:37, ETA 0:01:34

so a 20-minute run leaves a trail of progress in its log.  The rate is the mean over the run so far (done /
elapsed), the ETA (total - done) / rate.  ``quiet`` silences both (default: :data:`QUIET`, which the CLI's
``-q`` sets).  The clock is injectable for tests.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Callable, TextIO

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)


QUIET = False  # the CLI's global -q


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def progress_line(label: str, done: int, total: int, elapsed_s: float, start: int = 0) -> str:
    """The plain progress line for ``done`` of ``total`` after ``elapsed_s`` seconds (rate in items/s over the
    ``done - start`` items of this session, ETA)."""
    pct = f" ({100 * done / total:.1f}%)" if total else ""
    rate = (done - start) / elapsed_s if elapsed_s > 0 else 0.0
    eta = _clock((total - done) / rate) if rate > 0 and total else "?"
    return f"{label}: {done}/{total}{pct}, {rate:.1f}/s, elapsed {_clock(elapsed_s)}, ETA {eta}"


class RunProgress:
    """``with RunProgress(label, total) as p: ... p.advance()`` — a bar on a terminal, plain lines otherwise.

    ``start``: items already done (a resumed run; the rate counts only this session's); ``stream``: where plain
    lines go (default stderr); ``terminal``: force/deny the bar (default: whether ``stream`` is a terminal);
    ``every_s``: seconds between plain lines; ``clock``: seconds, monotonic."""

    def __init__(self, label: str, total: int, *, start: int = 0, stream: TextIO | None = None,
                 terminal: bool | None = None, quiet: bool | None = None, every_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total, self.every_s, self.clock = label, total, every_s, clock
        self.quiet = QUIET if quiet is None else quiet
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.done = self.start = start
        self._bar: Progress | None = None
        self._start = self._last = 0.0

    def __enter__(self) -> "RunProgress":
        self._start = self._last = self.clock()
        if self.terminal and not self.quiet:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=self.stream), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.start, rate="")
        return self

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more finished items; prints a plain line when ``every_s`` has passed since the last."""
        self.done += n
        now = self.clock()
        if self._bar is not None:
            elapsed = now - self._start
            rate = f"{(self.done - self.start) / elapsed:.1f}/s" if elapsed > 0 else ""
            self._bar.update(self._task, advance=n, rate=rate)
        elif not self.quiet and now - self._last >= self.every_s:
            self._last = now
            print(progress_line(self.label, self.done, self.total, now - self._start, self.start), file=self.stream,
                  flush=True)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif not self.quiet and self.done > self.start and exc[0] is None:
            print(progress_line(self.label, self.done, self.total, self.clock() - self._start, self.start),
                  file=self.stream, flush=True)
