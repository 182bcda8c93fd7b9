"""Checked lines over a Transport (protocol version 2, targets/PROTOCOL.md "Lines" and "Recovery").

:class:`CheckedLink` is the layer under :class:`~harness.protocol.client.DeviceClient`: it sends commands with
their CRC suffix, returns only DUT lines whose CRC verified, re-synchronizes after noise with short ``%`` pings,
measures the link's round trip and counts what went wrong (:class:`LinkStats`).
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from harness.errors import CorruptReplyError, DutWatchdogError, ProtocolVersionError
from harness.protocol import constants as C
from harness.protocol.frames import abort_frame
from harness.protocol.lines import LineReader, ReplyTimeout, verify_line, with_crc
from harness.protocol.mlperf import is_mlperf_line
from harness.transport.serial import Transport
from harness.transport.transcript import RecordingTransport

log = logging.getLogger("harness.protocol.client")

#: Sent first by :meth:`CheckedLink.resync`: enough zero bytes to complete a bulk-load frame the DUT is still
#: reading (its CRC then fails and it hunts for headers), so the abort frame after them is always recognized.
RESYNC_FILL = bytes(C.FRAME_HEADER_BYTES + C.FRAME_PAYLOAD_BYTES + C.FRAME_CRC_BYTES)


@dataclass
class LinkStats:
    """What the link cost so far: reply lines that failed their CRC, replies re-requested, inferences re-run,
    bulk-load frames re-sent, re-synchronizations (ping until a clean ``m-ready``)."""

    corrupt_lines: int = 0
    rerequests: int = 0
    reruns: int = 0
    frame_resends: int = 0
    resyncs: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict (for summaries and logs)."""
        return asdict(self)


class CheckedLink:
    """Protocol-v2 line layer over ``transport`` for the DUT called ``board``.

    ``timeout``: seconds to wait for a reply line (long commands pass their own); ``ping_timeout``: seconds one
    resync ping waits for ``m-ready`` before the next ping (default min(timeout, 0.5)).  ``transcript``: record
    every byte both ways to that file (appended: a reset DUT continues the same transcript).

    Watchdog: inside ``with link.watchdog(until):`` every wait of the link (reply lines, acks, resync attempts,
    the boot wait) ends by ``until`` (seconds on :attr:`clock`); a wait cut short by it raises DutWatchdogError,
    which no retry loop of the client catches, so a hung DUT costs at most the watchdog, not the sum of every
    retry's timeout.
    """

    def __init__(self, transport: Transport, board: str = "dut", *, timeout: float = 5.0,
                 transcript: str | Path | None = None, ping_timeout: float | None = None) -> None:
        if transcript is not None:
            transport = RecordingTransport(transport, transcript)
        self.transport = transport
        self.board = board
        self.timeout = timeout
        self.ping_timeout = min(timeout, 0.5) if ping_timeout is None else ping_timeout
        self.transcript = None if transcript is None else Path(transcript)
        self.log = log.getChild(board)
        self._lines = LineReader(transport, self._label())
        self.stats = LinkStats()
        self._rtts: deque[float] = deque(maxlen=8)  # recent command round trips (command -> first reply), s
        self._sync_counter = 0
        self.mid_load = False  #: a bulk load may be in progress (the resync then completes an open frame first)
        self.deadline: float | None = None  #: the watchdog: every wait ends by then (clock seconds), None: no limit

    @property
    def clock(self):
        """The monotonic clock (seconds) of every timeout and deadline of this link (``time.monotonic``)."""
        return self._lines.clock

    @clock.setter
    def clock(self, clock) -> None:
        self._lines.clock = clock

    @contextlib.contextmanager
    def watchdog(self, until: float | None) -> Iterator[None]:
        """Within the block every wait ends by ``until`` (seconds on :attr:`clock`; None: no limit; an enclosing
        watchdog's earlier deadline is kept).  Raises DutWatchdogError from the wait that reaches it."""
        previous = self.deadline
        if until is not None and (previous is None or until < previous):
            self.deadline = until
        try:
            yield
        finally:
            self.deadline = previous

    def _cap(self, timeout: float, waiting_for: str) -> float:
        """``timeout`` shortened to the watchdog's deadline.  Raises DutWatchdogError when it has passed."""
        if self.deadline is None:
            return timeout
        left = self.deadline - self.clock()
        if left <= 0:
            raise DutWatchdogError(f"{self._label()}: the watchdog expired while waiting for {waiting_for} (last "
                                   f"bytes received: {self._lines.tail!r}); the DUT hangs or the link is dead")
        return min(timeout, left)

    def _read_capped(self, timeout: float, waiting_for: str) -> str:
        """The next raw line within ``timeout`` s and the watchdog.  Raises ReplyTimeout, DutWatchdogError."""
        try:
            return self._lines.readline(self._cap(timeout, waiting_for), waiting_for)
        except ReplyTimeout:
            self._cap(0.0, waiting_for)  # raises DutWatchdogError when the watchdog cut the wait short
            raise

    @property
    def rtt_s(self) -> float | None:
        """The slowest of the last 8 measured command round trips (seconds), None before the first."""
        return max(self._rtts) if self._rtts else None

    def _label(self) -> str:
        return self.board if self.transcript is None else f"{self.board} (transcript {self.transcript})"

    # -- lines -----------------------------------------------------------------------------------------------
    def _send(self, command: str) -> None:
        """Send ``command%``; a non-empty command carries its CRC (``name*1a2b3c4d%``), checked by the DUT."""
        self.log.debug("> %s%%", command)
        wire = with_crc(command) if command else ""
        self.transport.write(wire.encode("ascii") + C.COMMAND_TERMINATOR)

    def _readline(self, timeout: float, waiting_for: str) -> str:
        """The next DUT line with its CRC verified and removed; the MLPerf Tiny runner's CRC-less lines (firmware
        built with TH_MLPERF_ID, after a command without CRC) are skipped.  Raises CorruptReplyError, ReplyTimeout."""
        raw = self._read_capped(timeout, waiting_for)
        self.log.debug("< %s", raw)
        while is_mlperf_line(raw):  # nothing tinyhil uses: never taken for data, never counted as corrupt
            raw = self._read_capped(timeout, waiting_for)
            self.log.debug("< %s", raw)
        old = raw.startswith(C.PROFILE + "protocol-") and C.CRC_MARK not in raw
        if old and raw[len(C.PROFILE + "protocol-"):] != str(C.PROTOCOL_VERSION):  # v1 firmware: no line CRCs
            raise ProtocolVersionError(f"{self._label()}: firmware speaks protocol {raw.rpartition('-')[2]}, harness speaks "
                                f"{C.PROTOCOL_VERSION}; rebuild the firmware from this checkout")
        try:
            return verify_line(raw)
        except CorruptReplyError as exc:
            self.stats.corrupt_lines += 1
            raise CorruptReplyError(f"{self._label()}: {exc} (while waiting for {waiting_for})") from None

    @staticmethod
    def _short(command: str) -> str:
        return repr(command if len(command) <= 40 else command[:37] + "...")

    # -- boot and recovery -----------------------------------------------------------------------------------
    def wait_ready(self, timeout: float, ping_interval: float | None = None) -> None:
        """Wait up to ``timeout`` s for a clean ``m-ready`` (sent once at boot); other lines are skipped.

        With ``ping_interval`` (s), send an empty command ``%`` whenever the DUT was silent that long (a DUT
        that booted before the port was opened, or whose boot line was lost); after the first ``m-ready``
        further replies are drained.  Raises ReplyTimeout (a TransportError) naming the last bytes received."""
        deadline = self.clock() + timeout
        step = ping_interval or timeout
        sent = None
        while True:
            remaining = deadline - self.clock()
            try:
                line = self._read_capped(min(step, max(remaining, 0.0)), "m-ready (boot)")
            except ReplyTimeout:
                if ping_interval is None or self.clock() >= deadline:
                    raise ReplyTimeout(
                        f"{self._label()}: no m-ready within {timeout:g} s (last bytes received: "
                        f"{self._lines.tail!r}); check the DUT is flashed, running and on this port (reset it, or "
                        "pass ping_interval)") from None
                self.transport.write(C.COMMAND_TERMINATOR)
                sent = self.clock()
                continue
            if line == C.READY:
                if sent is not None:
                    self._rtts.append(self.clock() - sent)
                if ping_interval is not None:
                    self._lines.drain(min(0.2, step))
                return

    def resync(self, timeout: float | None = None) -> None:
        """Bring the DUT back to a known state after noise.  Each attempt sends (a zero fill when a bulk load was
        in progress and every 4th attempt, then) the bulk-load abort frame, ``%`` and ``sync <token>%`` with a fresh token, and waits
        ``ping_timeout`` s (growing) for ``m-sync-<token>`` and its ``m-ready``; everything before is discarded.
        The token's reply cannot come from an earlier command, so nothing stale is left behind.

        Works whether the DUT was reading a command, hunting for a frame header or inside a frame; a DUT busy
        with a long inference answers when it is done, so ``timeout`` should cover one (default: the longer of
        the client's timeout and its ``stall_s``, so a paused DUT is waited for).
        Raises ReplyTimeout naming the last bytes received when no attempt is answered in time."""
        budget = max(self.timeout, getattr(self, "stall_s", 0.0)) if timeout is None else timeout
        deadline = self.clock() + budget
        attempt = 0
        while True:
            self._sync_counter += 1
            token = f"{self._sync_counter:x}"
            command = f"{C.CMD_SYNC} {token}"
            fill = self.mid_load if attempt == 0 else attempt % 4 == 0  # only a bulk load may leave a frame open
            packet = (RESYNC_FILL if fill else b"") + abort_frame() + C.COMMAND_TERMINATOR
            self.transport.write(packet + with_crc(command).encode("ascii") + C.COMMAND_TERMINATOR)
            sent = self.clock()
            step_end = min(sent + self.ping_timeout * (1 + attempt // 4), deadline)
            if self._await_sync(C.SYNC + token, step_end):
                self._rtts.append(self.clock() - sent)
                self.stats.resyncs += 1
                self.log.info("resynchronized after %d attempt(s)", attempt + 1)
                self.mid_load = False
                return
            attempt += 1
            if self.clock() >= deadline:
                raise ReplyTimeout(
                    f"{self._label()}: no answer to {attempt} resync attempts in {budget:g} s (last bytes received: "
                    f"{self._lines.tail!r}); the DUT hangs or the link is dead: reset the DUT")

    def _await_sync(self, wanted: str, until: float) -> bool:
        """True once the line ``wanted`` and then ``m-ready`` arrived (both clean) before ``until``."""
        seen = False
        while True:
            try:
                raw = self._read_capped(max(until - self.clock(), 0.0), "resync marker")
            except ReplyTimeout:
                return False
            if is_mlperf_line(raw):
                continue
            try:
                line = verify_line(raw)
            except CorruptReplyError:
                seen = False
                continue
            if seen and line == C.READY:
                return True
            seen = line == wanted

    def close(self) -> None:
        """Close the transport (and the transcript)."""
        self.transport.close()
