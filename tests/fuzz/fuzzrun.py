"""The model fuzz loop shared by tests/fuzz/test_fuzz_models.py and benchmarks/fuzz_models.py: compile seeded
random mutants (:mod:`mutate`), classify each outcome, stop hangs with SIGALRM, and check accepted mutants with
the independent oracle."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from mutate import field_sites, oracle_violations, random_mutant


def compile_outcome(path, compile_fn: Callable) -> tuple[str, str]:
    """Run ``compile_fn(path)``; returns ("accepted", "") / ("refused", one-line message) /
    ("traceback", "ExcType: message") — a refusal is a TinyhilError, anything else is a traceback."""
    from harness.errors import TinyhilError

    try:
        compile_fn(path)
    except TinyhilError as exc:
        return "refused", str(exc)
    except RecursionError as exc:
        return "traceback", f"RecursionError: {exc}"
    except Exception as exc:  # noqa: BLE001 - the fuzz counts these
        return "traceback", f"{type(exc).__name__}: {exc}"
    return "accepted", ""


@dataclass
class FuzzTally:
    """Counts of one fuzz run: mutants tried, refused (one-line TinyhilError), accepted valid, accepted
    invalid (the oracle found a violation), tracebacks, multi-line messages and hangs, with examples."""

    tried: int = 0
    refused: int = 0
    accepted: int = 0
    accepted_invalid: int = 0
    tracebacks: int = 0
    multiline: int = 0
    hangs: int = 0
    examples: dict = None

    def note(self, what: str, text: str) -> None:
        if self.examples is None:
            self.examples = {}
        self.examples.setdefault(what, []).append(text)


class _Hang(Exception):
    pass


def fuzz_models(models: dict[str, bytes], count: int, seed: int, workdir, compile_fn: Callable,
                hang_s: float = 20.0, deadline_s: float | None = None) -> FuzzTally:
    """Compile ``count`` seeded random mutants of ``models`` ({name: bytes}) with ``compile_fn(path)``.

    A mutant taking longer than ``hang_s`` seconds is stopped (SIGALRM) and counted a hang; ``deadline_s``
    (monotonic seconds from now) ends the run early.  Returns the tally.
    """
    import signal
    import time
    from pathlib import Path

    rng = random.Random(seed)
    names = sorted(models)
    sites = {n: field_sites(models[n]) for n in names}
    tally = FuzzTally()
    path = Path(workdir) / "mutant.tflite"
    end = None if deadline_s is None else time.monotonic() + deadline_s

    def alarm(signum, frame):
        raise _Hang()

    old = signal.signal(signal.SIGALRM, alarm)
    try:
        for k in range(count):
            if end is not None and time.monotonic() > end:
                break
            name = names[k % len(names)]
            m = random_mutant(models[name], rng, sites[name])
            path.write_bytes(m.data)
            signal.setitimer(signal.ITIMER_REAL, hang_s)
            try:
                outcome, msg = compile_outcome(path, compile_fn)
            except _Hang:
                outcome, msg = "hang", ""
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            tally.tried += 1
            label = f"{name} #{k} {m.kind} ({m.detail})"
            if outcome == "hang":
                tally.hangs += 1
                tally.note("hang", label)
            elif outcome == "traceback":
                tally.tracebacks += 1
                tally.note("traceback", f"{label}: {msg[:200]}")
            elif outcome == "refused":
                tally.refused += 1
                if "\n" in msg or not msg.strip():
                    tally.multiline += 1
                    tally.note("multiline", f"{label}: {msg[:200]!r}")
            else:
                tally.accepted += 1
                bad = oracle_violations(m.data)
                if bad:
                    tally.accepted_invalid += 1
                    tally.note("accepted_invalid", f"{label}: {bad[0]}")
    finally:
        signal.signal(signal.SIGALRM, old)
    return tally
