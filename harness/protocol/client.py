"""The host side of the DUT protocol (targets/PROTOCOL.md): :class:`DeviceClient` over any Transport.

Readable commands follow the EEMBC / MLPerf Tiny runner (``name%``, ``db load N%``, ``db <hex>%``,
``infer N W%``, ``results%``, ``m-ready``); ``bload N P%`` adds CRC-checked binary frames for bulk input.
Every wait has a timeout; a silent DUT raises TransportError, a wrong answer ProtocolError.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ProtocolError
from harness.protocol import constants as C
from harness.protocol.frames import abort_frame, split_frames
from harness.protocol.lines import LineReader, ReplyTimeout, parse_lap, parse_profile_line
from harness.transport.transcript import RecordingTransport
from harness.transport.serial import Transport

log = logging.getLogger(__name__)

#: Bytes per ``db <hex>%`` line that fit the device's line buffer.
HEX_CHUNK_BYTES = (C.LINE_MAX_BYTES - len("db ")) // 2


@dataclass(frozen=True)
class Laps:
    """Timed inferences: ``counts[i]`` is the timer delta around one model invocation, in ``unit``
    (``instructions`` on twins, ``cycles`` on hardware; th_port_timer_unit() of the board)."""

    unit: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class OperatorCounts:
    """``profile-ops%``: ``counts[i]`` = timer delta around operator i (one timer read included), ``total`` =
    the whole invocation in the same build (hooks included), both in ``unit`` (instructions | cycles)."""

    unit: str
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class StackUse:
    """``stack%`` in bytes: ``size`` reserved, ``base`` in use when the inference starts, ``peak`` high-water
    mark from the stack top during it (whole firmware: protocol frames + inference)."""

    size: int
    base: int
    peak: int


class DeviceClient:
    """Talks to one DUT running targets/common/th_protocol.c.

    ``timeout``: seconds to wait for each reply line (infer scales it, see :meth:`infer`).
    ``transcript``: if given, every byte both ways is appended, timestamped, to that file (a replay fixture).
    ``retries``: sends of one bulk-load frame before ProtocolError.  ``ack_timeout``: seconds to wait for a
    frame's ack before re-sending it (default: ``timeout``).
    """

    def __init__(self, transport: Transport, board: str = "dut", *, timeout: float = 5.0,
                 transcript: str | Path | None = None, retries: int = 5, ack_timeout: float | None = None) -> None:
        if transcript is not None:
            transport = RecordingTransport(transport, transcript)
        self.transport = transport
        self.board = board
        self.timeout = timeout
        self.retries = retries
        self.ack_timeout = timeout if ack_timeout is None else ack_timeout
        self.transcript = None if transcript is None else Path(transcript)
        self.log = log.getChild(board)
        self._lines = LineReader(transport, self._label())
        self.resends = 0  #: frames re-sent so far (NAK or timeout), for reports

    def _label(self) -> str:
        return self.board if self.transcript is None else f"{self.board} (transcript {self.transcript})"

    # -- plumbing -------------------------------------------------------------------------------------------
    def _send(self, command: str) -> None:
        self.log.debug("> %s%%", command)
        self.transport.write(command.encode("ascii") + C.COMMAND_TERMINATOR)

    @staticmethod
    def _short(command: str) -> str:
        return repr(command if len(command) <= 40 else command[:37] + "...")

    def _readline(self, timeout: float, waiting_for: str) -> str:
        line = self._lines.readline(timeout, waiting_for)
        self.log.debug("< %s", line)
        return line

    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send ``command%`` and return the reply lines up to (not including) ``m-ready``.

        Raises ProtocolError if the DUT answers an ``e-...`` line, TransportError if a line takes longer than
        ``timeout`` seconds (default: the client's)."""
        self._send(command)
        return self._collect(command, self.timeout if timeout is None else timeout)

    def _collect(self, command: str, timeout: float, first_timeout: float | None = None) -> list[str]:
        lines: list[str] = []
        wait = first_timeout or timeout
        while True:
            line = self._readline(wait, f"reply to {self._short(command)}")
            wait = timeout
            if line == C.READY:
                break
            lines.append(line)
        errors = [line for line in lines if line.startswith(C.ERR_PREFIX)]
        if errors:
            raise ProtocolError(f"{self._label()}: {self._short(command)} was refused with {errors[0]!r}; "
                                "check the input size and the firmware's protocol version (profile%)")
        return lines

    # -- API ------------------------------------------------------------------------------------------------
    def wait_ready(self, timeout: float, ping_interval: float | None = None) -> None:
        """Wait up to ``timeout`` s for ``m-ready`` (sent once at boot).

        With ``ping_interval`` (s), send an empty command ``%`` whenever the DUT was silent that long (for a DUT
        that booted before the port was opened); after the first ``m-ready`` further replies are drained.
        Raises TransportError naming the last bytes received."""
        deadline = time.monotonic() + timeout
        step = ping_interval or timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._readline(min(step, max(remaining, 0.0)), "m-ready (boot)")
            except ReplyTimeout:
                if ping_interval is None or time.monotonic() >= deadline:
                    raise ReplyTimeout(
                        f"{self._label()}: no m-ready within {timeout:g} s (last bytes received: {self._lines.tail!r}); "
                        "check the DUT is flashed, running and on this port (reset it, or pass ping_interval)") from None
                self.transport.write(C.COMMAND_TERMINATOR)
                continue
            if line == C.READY:
                if ping_interval is not None:
                    self._lines.drain(min(0.2, step))
                return

    def name(self) -> str:
        """``name%`` -> ``<board>-<model>`` (the text after ``m-name-``).  Raises ProtocolError/TransportError."""
        for line in self.command("name"):
            if line.startswith(C.NAME):
                return line[len(C.NAME):]
        raise ProtocolError(f"{self._label()}: no {C.NAME}... line in reply to 'name%'; is this tinyhil firmware?")

    def device_info(self) -> dict[str, int | str]:
        """``profile%`` -> facts of firmware and board, e.g. ``{'protocol': 1, 'board': 'stm32f746',
        'timer_unit': 'cycles', 'arena_bytes': 51200, 'input_bytes': 490, 'output_bytes': 10, ...}``."""
        facts = dict(parse_profile_line(line) for line in self.command("profile") if line.startswith(C.PROFILE))
        if facts.get("protocol") != C.PROTOCOL_VERSION:
            raise ProtocolError(f"{self._label()}: firmware speaks protocol {facts.get('protocol')!r}, harness speaks "
                                f"{C.PROTOCOL_VERSION}; rebuild the firmware from this checkout")
        return facts

    def load_input(self, data: bytes, binary: bool = True, payload_bytes: int = C.FRAME_PAYLOAD_BYTES) -> None:
        """Write ``data`` into the model input tensor; its length must equal the model's input bytes.

        ``binary``: CRC-checked frames of ``payload_bytes`` (``bload``), else EEMBC hex lines (``db``).
        Raises ProtocolError (refused, frames not acknowledged after ``retries``) or TransportError."""
        if not data:
            raise ValueError("load_input needs at least one byte")
        if binary:
            self._load_binary(bytes(data), payload_bytes)
            return
        self.command(f"db load {len(data)}")
        done = False
        for off in range(0, len(data), HEX_CHUNK_BYTES):
            done = C.LOAD_DONE in self.command("db " + data[off:off + HEX_CHUNK_BYTES].hex())
        if not done:
            raise ProtocolError(f"{self._label()}: no {C.LOAD_DONE} after {len(data)} hex bytes; firmware bug")

    def _load_binary(self, data: bytes, payload_bytes: int) -> None:
        frames = split_frames(data, payload_bytes)
        self._send(f"bload {len(data)} {payload_bytes}")
        reply = self._readline(self.timeout, "reply to 'bload'")
        if reply != f"m-bload-{len(data)}-{payload_bytes}":
            while self._readline(self.timeout, "m-ready after a refused 'bload'") != C.READY:
                pass
            raise ProtocolError(f"{self._label()}: 'bload {len(data)} {payload_bytes}%' answered {reply!r}; "
                                "check the input size (profile%) or load with binary=False")
        for seq, frame in enumerate(frames):
            if self._send_frame(seq & 0xFFFF, frame, last=seq == len(frames) - 1):
                break
        else:
            self._expect(C.LOAD_DONE, "bload")
        self._expect(C.READY, "bload")

    def _send_frame(self, seq: int, frame: bytes, last: bool) -> bool:
        """Send one frame until acked; True if ``m-load-done`` already arrived (its ack was lost)."""
        ack, nak = f"{C.ACK}{seq}", f"{C.NAK}{seq}-"
        last_reply = "nothing"
        for attempt in range(self.retries):
            if attempt:
                self.resends += 1
                self.log.info("re-sending frame %d (try %d, last reply %s)", seq, attempt + 1, last_reply)
            self.transport.write(frame)
            deadline = time.monotonic() + self.ack_timeout
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    line = self._readline(remaining, f"ack of frame {seq}")
                except ReplyTimeout:
                    last_reply = f"timeout after {self.ack_timeout:g} s"
                    break
                if line == ack:
                    return False
                if last and line == C.LOAD_DONE:
                    return True
                if line.startswith(nak):
                    last_reply = line
                    break
                self.log.debug("ignored %r while waiting for %s", line, ack)
            else:
                last_reply = f"timeout after {self.ack_timeout:g} s"
        self._abort()
        raise ProtocolError(f"{self._label()}: frame {seq} not acknowledged after {self.retries} sends (last: "
                            f"{last_reply}; last bytes {self._lines.tail!r}); check the link or use binary=False")

    def _abort(self) -> None:
        """Best effort: send the abort frame so the DUT returns to command mode, and skip to its m-ready."""
        self.transport.write(abort_frame())
        try:
            while self._readline(self.timeout, "m-ready after the abort frame") != C.READY:
                pass
        except ReplyTimeout:
            self.log.warning("no m-ready after the abort frame; the DUT may need a reset")

    def _expect(self, wanted: str, command: str) -> None:
        line = self._readline(self.timeout, f"{wanted} after {command!r}")
        while line.startswith(C.ACK):  # a re-ack of a duplicate frame
            line = self._readline(self.timeout, f"{wanted} after {command!r}")
        if line != wanted:
            raise ProtocolError(f"{self._label()}: expected {wanted!r} after {command!r}, got {line!r}; firmware bug")

    def infer(self, n: int = 1, warmup: int = 0, timeout: float | None = None) -> Laps:
        """``infer n warmup%``: ``warmup`` untimed then ``n`` timed inferences; returns their :class:`Laps`.

        ``timeout``: seconds allowed per inference (default: the client's); the first lap may take
        ``(warmup + 1) * timeout``.  Raises ProtocolError/TransportError."""
        if n < 1 or warmup < 0:
            raise ValueError(f"infer needs n >= 1 and warmup >= 0, got n={n} warmup={warmup}")
        per = self.timeout if timeout is None else timeout
        command = f"infer {n} {warmup}"
        self._send(command)
        lines = self._collect(command, per, first_timeout=per * (warmup + 1))
        laps = [parse_lap(line) for line in lines if line.startswith(C.LAP)]
        units = {unit for unit, _ in laps}
        if len(laps) != n or len(units) != 1 or C.INFER_DONE not in lines:
            raise ProtocolError(f"{self._label()}: {command!r} gave {len(laps)} laps in units {sorted(units)} "
                                f"(want {n} in one unit, then {C.INFER_DONE}); firmware bug")
        return Laps(units.pop(), tuple(count for _, count in laps))

    def profile_ops(self, timeout: float | None = None) -> OperatorCounts:
        """``profile-ops%`` (firmware built with TH_PROFILE_OPS): one inference on the loaded input, timed per
        operator.  Returns :class:`OperatorCounts` (raw timer deltas, each including one timer read).
        Raises ProtocolError (firmware without TH_PROFILE_OPS: refused; malformed lines) or TransportError."""
        lines = self.command("profile-ops", timeout)
        ops: dict[int, tuple[str, int]] = {}
        total = None
        for line in lines:
            if line.startswith("m-op-total-"):
                unit, _, count = line[len("m-op-total-"):].rpartition("-")
                total = (unit, int(count)) if count.isdigit() and unit else None
            elif line.startswith("m-op-"):
                index, _, rest = line[len("m-op-"):].partition("-")
                unit, _, count = rest.rpartition("-")
                if not (index.isdigit() and unit and count.isdigit()):
                    raise ProtocolError(f"{self._label()}: bad operator line {line!r}; expected m-op-<i>-<unit>-<count>")
                ops[int(index)] = (unit, int(count))
        units = {u for u, _ in ops.values()} | ({total[0]} if total else set())
        if total is None or sorted(ops) != list(range(len(ops))) or len(units) != 1:
            raise ProtocolError(f"{self._label()}: 'profile-ops%' gave operators {sorted(ops)} and total {total} "
                                "(want 0..N-1 and m-op-total in one unit); rebuild the firmware from this checkout")
        return OperatorCounts(units.pop(), tuple(ops[i][1] for i in range(len(ops))), total[1])

    def stack(self, timeout: float | None = None) -> StackUse:
        """``stack%``: paint the free stack, run one inference on the loaded input, scan.  Returns
        :class:`StackUse` in bytes.  Raises ProtocolError when the stack overflowed its reservation
        (``e-stack-overflow-...``) or the port cannot tell its stack bounds, TransportError when silent."""
        facts: dict[str, int] = {}
        for line in self.command("stack", timeout):
            key, _, value = line[len("m-stack-"):].partition("-")
            if line.startswith("m-stack-") and value.isdigit():
                facts[key] = int(value)
        if set(facts) != {"size", "base", "peak"}:
            raise ProtocolError(f"{self._label()}: 'stack%' answered {sorted(facts)}; want size, base, peak")
        return StackUse(facts["size"], facts["base"], facts["peak"])

    def results(self) -> bytes:
        """``results%`` -> the output tensor's raw bytes (decode with the model's output dtype)."""
        for line in self.command("results"):
            if line.startswith(C.RESULTS_HEX):
                try:
                    return bytes.fromhex(line[len(C.RESULTS_HEX):])
                except ValueError as exc:
                    raise ProtocolError(f"{self._label()}: bad hex in {line[:60]!r}; the link corrupts data") from exc
        raise ProtocolError(f"{self._label()}: no {C.RESULTS_HEX}... line in reply to 'results%'")

    def run_inference(self, tensor: bytes, n: int = 1, warmup: int = 0, binary: bool = True) -> tuple[bytes, Laps]:
        """Load ``tensor`` (bytes), run ``infer n warmup``, return (output bytes, laps)."""
        self.load_input(tensor, binary=binary)
        laps = self.infer(n, warmup)
        return self.results(), laps

    def close(self) -> None:
        """Close the transport (and the transcript)."""
        self.transport.close()
