"""The device under test as every caller sees it: a flashed board or twin behind the serial protocol.

One class, :class:`Dut`, serves ``bench``, ``profile``, ``variants`` and the pytest plugin's ``dut`` fixture.
It is made by :func:`harness.orchestrate.connect`, which is the only code that flashes and opens the link.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from harness.errors import (DutQuarantinedError, DutRefusedError, FlashError, ProtocolVersionError, TinyhilError,
                            TransportError)

log = logging.getLogger(__name__)

#: The watchdog never goes below this many seconds (scheduling noise of a loaded host, a slow USB bridge).
WATCHDOG_FLOOR_S = 5.0
#: Margin of the watchdog over the slowest inference seen so far (load, infer, results).
WATCHDOG_MARGIN = 10.0
#: The watchdog is at least this many times (slowest boot + slowest inference): each reset and its retry get
#: W / 2 (see Dut._run), so that holds a slow restart on a loaded host twice over.
WATCHDOG_RESET_MARGIN = 4.0
#: Resets (twin restart / board re-flash) of one inference before the DUT is quarantined.
RESET_ATTEMPTS = 2
#: A DUT that stays dead is quarantined this many watchdogs after its inference started: issue 12's target is 2;
#: 0.05 W is left for what follows the last deadline (a read's timer granularity, closing the attempt).
QUARANTINE_WATCHDOGS = 1.95


@dataclass(frozen=True)
class Counts:
    """Timer counts of one inference: ``value`` in ``unit`` ("instructions" on twins, "cycles" on hardware)."""

    value: int
    unit: str


class Dut:
    """A flashed, connected DUT running ``firmware`` (an :class:`harness.orchestrate.Firmware`).

    ``infer(x)`` loads the input tensor ``x`` (ndarray with the model input's shape and dtype, int8 or
    float32) in binary frames, runs ``infer 1 0`` (no warm-up: use :meth:`DeviceClient.infer` through
    ``client`` for MLPerf-style windows), and returns (output ndarray with the model output's shape and dtype,
    :class:`Counts`).  ``check(x)`` also compares every output byte with the host reference that ``bench``
    uses (TFLM; TFLM segments + the XNOR reference for binary models).  ``run_dir`` holds ``serial.log``.

    Reliability: the client re-requests damaged replies and re-runs an inference (input reloaded) whose reply
    was damaged or lost.  Each inference has a watchdog ``W`` (:meth:`watchdog_s`) that bounds every wait of
    the attempt (:meth:`CheckedLink.watchdog`: acks, replies, resyncs).  When the attempt fails, ``reset``
    (from :func:`harness.orchestrate.connect`: restart the twin, re-flash the board; called with
    ``deadline=``, the clock time its boot wait must end by) is called and the inference retried, up to
    RESET_ATTEMPTS times; the resets and retries share what is left of ``QUARANTINE_WATCHDOGS x W`` after the
    inference started, equally, so a DUT that stays dead is quarantined (DutQuarantinedError) within
    ``2 W``.  ``retries`` and ``resets`` count what that cost; ``attempts`` logs (kind, clock time, deadline)
    of every attempt and reset of the last inference, for tests and the reliability benchmark.
    """

    def __init__(self, client, firmware, run_dir: Path, device_info: dict[str, Any] | None = None,
                 reset: Callable[..., Any] | None = None, boot_s: float | None = None) -> None:
        self.client = client
        self.firmware = firmware
        self.run_dir = Path(run_dir)
        self.timer_unit = "unknown"
        self.reset_hook = reset
        self.resets = 0  #: DUT resets so far
        self.retries = 0  #: inferences retried after a reset
        self._slowest_s: float | None = None  #: slowest successful inference (load + infer + results), seconds
        self._boot_s = boot_s  #: slowest start (flash/start, m-ready, profile%) measured so far, seconds
        self.attempts: list[tuple[str, float, float]] = []  #: ("infer" | "reset", started, deadline), clock s
        if device_info is not None:  # already asked by connect()
            self.__dict__["device_info"] = device_info

    def watchdog_s(self) -> float:
        """Seconds one inference may take before the DUT is considered hung: until one was measured the
        client's timeout; then ``max(WATCHDOG_FLOOR_S, WATCHDOG_MARGIN x slowest, WATCHDOG_RESET_MARGIN x
        (boot + slowest))``, where ``slowest`` is the larger of the slowest measured inference round trip and its
        count / the board clock (on a board the cycle count at the clock is the inference's duration; on a twin
        QEMU's speed sets it, so the measured time dominates) and ``boot`` the slowest measured start of the
        DUT (``boot_s`` from :func:`harness.orchestrate.connect`, then every reset's)."""
        if self._slowest_s is None:
            return self.client.timeout
        return max(WATCHDOG_FLOOR_S, WATCHDOG_MARGIN * self._slowest_s,
                   WATCHDOG_RESET_MARGIN * ((self._boot_s or 0.0) + self._slowest_s))

    def _learn(self, count: int, wall_s: float) -> None:
        clock = getattr(self.board, "clock_hz", 0) or 0
        seconds = max(wall_s, count / clock if clock else 0.0)
        self._slowest_s = seconds if self._slowest_s is None else max(self._slowest_s, seconds)

    @property
    def clock(self):
        """The monotonic clock (seconds) of the watchdog: the client's (``time.monotonic``; tests inject one)."""
        return self.client.clock

    def _run(self, unit: Callable[[Any, float], tuple[bytes, Any]]):
        """``unit(client, watchdog_s)`` (load, infer, read back) within the watchdog; reset and retry on a
        failure, all within QUARANTINE_WATCHDOGS watchdogs.  Raises DutQuarantinedError (one line, naming the
        transcript)."""
        watchdog = self.watchdog_s()
        started = self.clock()
        end = started + QUARANTINE_WATCHDOGS * watchdog
        self.attempts = []
        failures: list[str] = []
        for attempt in range(RESET_ATTEMPTS + 1):
            if attempt == 0:
                until = started + watchdog
            else:
                if self.reset_hook is None:
                    break
                now = self.clock()
                until = now + (end - now) / (RESET_ATTEMPTS + 1 - attempt)  # this reset + retry's equal share
                if until - now <= 0:
                    break
                try:
                    self._reset(failures[-1], now, until)
                except (FlashError, TransportError) as exc:
                    failures.append(f"the reset failed: {exc}")
                    continue
                self.retries += 1
            t0 = started if attempt == 0 else self.clock()
            self.attempts.append(("infer", t0, until))
            try:
                with self.client.watchdog(until):
                    raw, laps = unit(self.client, watchdog)
            except (ProtocolVersionError, DutRefusedError):  # the DUT means it: a reset cannot help
                raise
            except TransportError as exc:
                failures.append(str(exc))
                continue
            self._learn(int(laps.counts[0]), self.clock() - t0)
            return raw, laps
        raise DutQuarantinedError(
            f"{self.board.name}: quarantined after {sum(k == 'infer' for k, _, _ in self.attempts)} failed "
            f"attempt(s) and {self.resets} reset(s) in {self.clock() - started:.1f} s (watchdog {watchdog:.1f} s; "
            f"last: {failures[-1][:300]}); check the board and cable, the transcript is "
            f"{self.run_dir / 'serial.log'}")

    def _reset(self, why: str, now: float, until: float) -> None:
        """Reset the DUT through the hook, its boot wait ending by ``until``.  Raises FlashError/TransportError."""
        log.warning("%s: resetting the DUT after: %s", self.board.name, why)
        self.resets += 1
        self.attempts.append(("reset", now, until))
        clock = self.clock
        if "deadline" in inspect.signature(self.reset_hook).parameters:
            self.client = self.reset_hook(deadline=until)
        else:  # a hook without a deadline: its own boot timeout applies
            self.client = self.reset_hook()
        self.client.clock = clock
        self._boot_s = max(self._boot_s or 0.0, clock() - now)

    @property
    def target(self):
        """The :class:`harness.target.Target` the firmware runs on."""
        return self.firmware.target

    @property
    def board(self):
        """The catalog entry (:class:`harness.boards.Board`)."""
        return self.firmware.target.board

    @property
    def compiled(self):
        """The compiled model (:class:`harness.codegen.compiler.CompiledModel`)."""
        return self.firmware.compiled

    @property
    def input_tensor(self):
        return self.firmware.compiled.input_tensor

    @property
    def output_tensor(self):
        return self.firmware.compiled.output_tensor

    @cached_property
    def device_info(self) -> dict[str, Any]:
        """The firmware's description of itself (``profile%`` reply: board, kind, timer unit, arena, ...)."""
        return self.client.device_info()

    def infer(self, x: np.ndarray) -> tuple[np.ndarray, Counts]:
        """Run one inference on the device; raises DutQuarantinedError (hung after resets), TransportError/
        ProtocolError, or TinyhilError when the output size is not the model's (firmware of another model)."""
        data = np.ascontiguousarray(x, dtype=self.input_tensor.dtype).tobytes()
        return self._decode(*self._run(lambda client, watchdog: client.run_inference(data, timeout=watchdog)))

    def infer_crop(self, plan, k: int) -> tuple[np.ndarray, Counts]:
        """Like :meth:`infer` for crop ``k`` of ``plan`` (a :class:`harness.data.clips.ClipPlan`): the DUT cuts
        the crop from its clip buffer (the clip uploaded once per plan, again after a reset), checked by CRC
        against the host's crop (``clip crop``, targets/PROTOCOL.md).  Raises like :meth:`infer`."""
        return self._decode(*self._run(lambda client, watchdog: client.run_crop_inference(plan, k, timeout=watchdog)))

    def _decode(self, raw: bytes, laps) -> tuple[np.ndarray, Counts]:
        self.timer_unit = laps.unit
        if len(raw) != self.output_tensor.nbytes:
            raise TinyhilError(f"DUT returned {len(raw)} output bytes, model has {self.output_tensor.nbytes}; "
                               "the firmware was built for another model: rebuild")
        out = np.frombuffer(raw, dtype=self.output_tensor.dtype).reshape(self.output_tensor.shape)
        return out, Counts(int(laps.counts[0]), laps.unit)

    @cached_property
    def _reference(self):
        from harness.reference.segmented import reference_for  # noqa: PLC0415

        return reference_for(self.compiled.path, self.compiled)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The host reference's output for ``x`` (the bit-exactness reference).  Raises TinyhilError when the
        model has no host reference here (binary operators without tensorflow)."""
        if self._reference is None:
            raise TinyhilError(f"{self.compiled.path.name}: no host reference for its binary operators here; "
                               "install tensorflow (pip install 'tinyhil[models]')")
        return np.asarray(self._reference.run(x)).reshape(self.output_tensor.shape)

    def check(self, x: np.ndarray) -> tuple[np.ndarray, Counts]:
        """``infer(x)``, asserting that every output byte equals the reference's (AssertionError naming the
        first differing index and the serial log)."""
        out, counts = self.infer(x)
        ref = self.reference(x)
        if out.shape != ref.shape or not np.array_equal(out, ref):
            diff = np.flatnonzero(out.reshape(-1) != ref.reshape(-1))
            raise AssertionError(f"{self.board.name}: {diff.size} of {ref.size} outputs differ from the reference, "
                                 f"first at index {diff[0]}: device {out.reshape(-1)[diff[0]]}, reference "
                                 f"{ref.reshape(-1)[diff[0]]} (serial log: {self.run_dir / 'serial.log'})")
        return out, counts
