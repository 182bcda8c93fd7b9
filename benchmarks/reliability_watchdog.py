"""The watchdog scenarios of benchmarks/reliability.py (``--dead``, ``--pause S --dut twin``): a twin run through
:func:`harness.orchestrate.connect` and :class:`harness.dut.Dut` exactly as ``tinyhil bench`` runs it, frozen with
SIGSTOP.  Run them through ``python benchmarks/reliability.py``."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from reliability import TwinRig, _children, print

from harness.errors import TinyhilError


def _qemu_children() -> list[int]:
    return [p for p in _children(os.getpid()) if b"qemu" in Path(f"/proc/{p}/cmdline").read_bytes()]


def dead_dut(args, workdir: Path) -> None:
    """A twin of ``--model`` (stm32f746) through :func:`harness.orchestrate.connect`, as ``bench`` runs it: a few
    inferences teach the watchdog W, then QEMU is frozen (SIGSTOP) and so is every twin the resets restart
    (right after it booted): the DUT must be quarantined within 2 W.  Prints the measured time against 2 W."""
    import numpy as np

    from harness.errors import DutQuarantinedError
    from harness.orchestrate import connect

    rig = TwinRig(args.model, workdir)
    tensor = rig.firmware.compiled.input_tensor
    x = np.random.default_rng(args.seed).integers(-128, 128, tensor.shape).astype(tensor.dtype)
    with connect(rig.firmware, run_dir=workdir / "dead") as dut:
        for _ in range(3):
            dut.infer(x)
        watchdog = dut.watchdog_s()
        reset = dut.reset_hook

        def reset_into_a_dead_twin(deadline=None):
            for pid in _qemu_children():  # let the frozen one take its SIGTERM at once
                os.kill(pid, signal.SIGCONT)
            client = reset(deadline=deadline)
            for pid in _qemu_children():
                os.kill(pid, signal.SIGSTOP)
            return client

        dut.reset_hook = reset_into_a_dead_twin
        for pid in _qemu_children():
            os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            dut.infer(x)
            print(f"dead DUT: NOT quarantined (an inference completed on a frozen twin) in {time.monotonic() - started:.1f} s")
        except DutQuarantinedError:
            took = time.monotonic() - started
            plan = ", ".join(f"{kind} +{at - started:.1f}s (until +{until - started:.1f}s)"
                             for kind, at, until in dut.attempts)
            print(f"dead DUT ({rig.target.board.name} twin, {args.model.name}): quarantined in {took:.2f} s, "
                  f"2 x watchdog = {2 * watchdog:.2f} s (W {watchdog:.1f} s): {'within' if took <= 2 * watchdog else 'OVER'}"
                  f" the target; {dut.resets} resets; {plan}")
        finally:
            for pid in _qemu_children():
                os.kill(pid, signal.SIGCONT)


def paused_twin(args, workdir: Path) -> None:
    """A twin of ``--model`` through :func:`harness.orchestrate.connect`, as ``bench`` runs it, frozen (SIGSTOP)
    for ``--pause`` s in the middle of an inference: the run must go on (waited out within the watchdog, else
    the twin is restarted and the inference retried) with the same output and count as before the pause."""
    import numpy as np

    from harness.orchestrate import connect

    rig = TwinRig(args.model, workdir)
    tensor = rig.firmware.compiled.input_tensor
    x = np.random.default_rng(args.seed).integers(-128, 128, tensor.shape).astype(tensor.dtype)
    with connect(rig.firmware, run_dir=workdir / "paused") as dut:
        before = [dut.infer(x) for _ in range(3)][-1]
        frozen = _qemu_children()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)

        def thaw() -> None:
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:  # restarted meanwhile
                    pass

        reset = dut.reset_hook

        def reset_after_thaw(deadline=None):
            thaw()  # a hung twin's QEMU still takes SIGTERM at once; a SIGSTOPped one would cost stop()'s 2 s grace
            return reset(deadline=deadline)

        dut.reset_hook = reset_after_thaw
        timer = threading.Timer(args.pause, thaw)
        timer.start()
        started = time.monotonic()
        try:
            out, counts = dut.infer(x)
            same = np.array_equal(out, before[0]) and counts == before[1]
            print(f"twin paused {args.pause:g} s during an inference (watchdog {dut.watchdog_s():.1f} s): completed in "
                  f"{time.monotonic() - started:.1f} s, output and count {'equal to' if same else 'DIFFERENT from'} "
                  f"the unpaused run, {dut.resets} reset(s)")
        except TinyhilError as exc:
            print(f"twin paused {args.pause:g} s: FAILED after {time.monotonic() - started:.1f} s: {exc}")
        finally:
            timer.cancel()
            thaw()
