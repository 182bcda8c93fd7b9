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


_TFLM_CHECK = """
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1], arena_size=64 << 20)
d = it.get_input_details(0)
it.set_input(np.zeros(tuple(int(s) for s in d["shape"]), d["dtype"]), 0)
it.invoke()
np.array(it.get_output(0))
"""


def tflm_refuses(path) -> str:
    """Why TFLM's host interpreter (tflite-micro, in a subprocess: it may crash on a bad model) cannot load and
    run the model at ``path`` once on zeros; "" when it can."""
    import subprocess
    import sys

    try:
        proc = subprocess.run([sys.executable, "-c", _TFLM_CHECK, str(path)], capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        return "TFLM did not finish in 120 s"
    if proc.returncode == 0:
        return ""
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return f"TFLM exit {proc.returncode}: {lines[-1][:150] if lines else ''}"


def fuzz_models(models: dict[str, bytes], count: int, seed: int, workdir, compile_fn: Callable,
                hang_s: float = 20.0, deadline_s: float | None = None, tflm_oracle: bool = False) -> FuzzTally:
    """Compile ``count`` seeded random mutants of ``models`` ({name: bytes}) with ``compile_fn(path)``.

    A mutant taking longer than ``hang_s`` seconds is stopped (SIGALRM) and counted a hang; ``deadline_s``
    (monotonic seconds from now) ends the run early.  An accepted mutant is checked by
    :func:`mutate.oracle_violations` and, with ``tflm_oracle``, also by TFLM (:func:`tflm_refuses`): a
    mutant TFLM cannot run counts as accepted-invalid.  Returns the tally.
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
                if not bad and tflm_oracle and m.data != models[name]:
                    why = tflm_refuses(path)
                    bad = [why] if why else []
                if bad:
                    tally.accepted_invalid += 1
                    tally.note("accepted_invalid", f"{label}: {bad[0]}")
    finally:
        signal.signal(signal.SIGALRM, old)
    return tally
