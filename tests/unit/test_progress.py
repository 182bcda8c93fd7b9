"""Progress on a terminal and in logs (harness/progress.py), with an injected clock (no wall-clock dependence)."""

from __future__ import annotations

import io

from harness.progress import RunProgress, progress_line


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_gives_rate_and_eta():
    assert progress_line("rp2040 inferences", 120, 420, 37.5) == \
        "rp2040 inferences: 120/420 (28.6%), 3.2/s, elapsed 0:00:37, ETA 0:01:33"
    assert progress_line("x", 0, 10, 0.0) == "x: 0/10 (0.0%), 0.0/s, elapsed 0:00:00, ETA ?"


def test_without_a_terminal_a_plain_line_every_interval_and_at_the_end():
    clock, out = FakeClock(), io.StringIO()
    with RunProgress("stm32f746 inferences", 10, stream=out, terminal=False, every_s=30, clock=clock) as p:
        for _ in range(10):
            clock.now += 10  # one inference per 10 s: a line after the 3rd, 6th and 9th, and one at the end
            p.advance()
    lines = out.getvalue().splitlines()
    assert lines == ["stm32f746 inferences: 3/10 (30.0%), 0.1/s, elapsed 0:00:30, ETA 0:01:10",
                     "stm32f746 inferences: 6/10 (60.0%), 0.1/s, elapsed 0:01:00, ETA 0:00:40",
                     "stm32f746 inferences: 9/10 (90.0%), 0.1/s, elapsed 0:01:30, ETA 0:00:10",
                     "stm32f746 inferences: 10/10 (100.0%), 0.1/s, elapsed 0:01:40, ETA 0:00:00"]


def test_quiet_prints_nothing_and_a_terminal_gets_a_bar_with_eta():
    clock, out = FakeClock(), io.StringIO()
    with RunProgress("x", 5, stream=out, terminal=False, quiet=True, every_s=0, clock=clock) as p:
        p.advance(5)
    assert out.getvalue() == ""
    with RunProgress("bar", 4, stream=out, terminal=True, clock=clock) as p:
        assert p._bar is not None
        columns = [type(c).__name__ for c in p._bar.columns]
        assert "TimeRemainingColumn" in columns and "MofNCompleteColumn" in columns
        clock.now += 2
        p.advance(2)
        assert p._bar.tasks[0].completed == 2 and p._bar.tasks[0].fields["rate"] == "1.0/s"


def test_a_resumed_run_counts_its_rate_from_this_session():
    clock, out = FakeClock(), io.StringIO()
    with RunProgress("x", 10, start=6, stream=out, terminal=False, every_s=1000, clock=clock) as p:
        clock.now += 8
        p.advance(4)
    assert out.getvalue().splitlines() == ["x: 10/10 (100.0%), 0.5/s, elapsed 0:00:08, ETA 0:00:00"]
