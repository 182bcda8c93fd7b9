"""The host side of the DUT protocol (targets/PROTOCOL.md): :class:`DeviceClient` over any Transport.

Readable commands follow the EEMBC / MLPerf Tiny runner (``name%``, ``db load N%``, ``db <hex>%``,
``infer N W%``, ``results%``, ``m-ready``); ``bload N P%`` adds CRC-checked binary frames for bulk input.
Protocol version 2: every data line carries a CRC (verified in :mod:`harness.protocol.link`); replies to
idempotent commands (``name%``, ``profile%``, ``results%``, ``stack%``, ``profile-ops%``) are re-requested
after a resync when damaged or lost, a damaged ``infer`` reply re-runs it, a failed bulk load is repeated with
smaller frames.  Every wait has a timeout; a silent DUT raises TransportError, a wrong answer ProtocolError.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from harness.errors import CorruptReplyError, DutRefusedError, ProtocolError, ProtocolVersionError
from harness.protocol import constants as C
from harness.protocol.bulk import BulkSender
from harness.protocol.clip import ClipCommands
from harness.protocol.lines import ReplyTimeout, parse_lap, parse_profile_line
from harness.protocol.link import CheckedLink, LinkStats
from harness.transport.serial import Transport

__all__ = ["DeviceClient", "Laps", "LinkStats", "OperatorCounts", "StackUse", "HEX_CHUNK_BYTES"]

#: Bytes per ``db <hex>%`` line that fit the device's line buffer with the command's CRC suffix.
HEX_CHUNK_BYTES = (C.LINE_MAX_BYTES - len("db ") - 1 - C.LINE_CRC_DIGITS) // 2
#: Failures a retry can cure: a damaged or lost reply (the link), or an answer that makes no sense (noise).
RETRYABLE = (CorruptReplyError, ReplyTimeout, ProtocolError)
T = TypeVar("T")


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


class DeviceClient(ClipCommands, BulkSender, CheckedLink):
    """Talks to one DUT running targets/common/th_protocol.c (protocol version 2).

    ``timeout``: seconds to wait for each reply line (infer scales it, see :meth:`infer`).
    ``transcript``: if given, every byte both ways is appended, timestamped, to that file (a replay fixture).
    ``retries``: re-requests of a damaged reply, re-runs of an inference, NAKed sends of one frame, before the
    error is raised.  ``ack_timeout``: seconds to wait for a frame's ack before re-sending it (default: from the
    measured round trip, at least ``ack_floor_s``, see :mod:`harness.protocol.bulk`).  ``stall_s``: seconds a silent DUT may pause (a bulk load
    or a resync waits that long before failing; default ``timeout``).  ``stats`` (:class:`LinkStats`) counts what the link cost.
    """

    def __init__(self, transport: Transport, board: str = "dut", *, timeout: float = 5.0,
                 transcript: str | Path | None = None, retries: int = 5, ack_timeout: float | None = None,
                 ping_timeout: float | None = None, stall_s: float | None = None, ack_floor_s: float = 0.5) -> None:
        super().__init__(transport, board, timeout=timeout, transcript=transcript, ping_timeout=ping_timeout)
        self.retries = retries
        self.ack_timeout = ack_timeout
        self.stall_s = timeout if stall_s is None else stall_s
        self.ack_floor_s = ack_floor_s
        self.payload_bytes = C.FRAME_PAYLOAD_BYTES
        self._ack_rtts: deque[float] = deque(maxlen=8)
        self.resends = 0  #: frames re-sent so far (NAK, damaged reply or timeout), for reports

    # -- plumbing -------------------------------------------------------------------------------------------
    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send ``command%`` once and return the (CRC-checked) reply lines up to, not including, ``m-ready``.

        Raises ProtocolError if the DUT answers an ``e-...`` line, CorruptReplyError if a line failed its CRC
        (or the DUT saw the command damaged: ``e-command-crc``), TransportError if a line takes longer than
        ``timeout`` seconds (default: the client's)."""
        self._send(command)
        return self._collect(command, self.timeout if timeout is None else timeout)

    def _collect(self, command: str, timeout: float, first_timeout: float | None = None,
                 settled: Callable[[list[str]], bool] | None = None) -> list[str]:
        """Read reply lines up to ``m-ready`` (see :meth:`command`); once ``settled(lines)`` holds (the DUT has
        nothing left to compute), the next lines are waited for :meth:`quick_timeout` only, and a lost ``m-ready``
        is replaced by a resync: it costs a few round trips, not the inference's timeout nor a re-run."""
        lines: list[str] = []
        wait = first_timeout or timeout
        damaged: CorruptReplyError | None = None
        while True:
            try:
                line = self._readline(wait, f"reply to {self._short(command)}")
            except CorruptReplyError as exc:
                damaged = damaged or exc  # read on to a clean m-ready: then the link is in step again
                wait = min(wait, self.quick_timeout())
                continue
            except ReplyTimeout:
                if damaged is not None:  # the m-ready was lost too: the caller resyncs (asks, not waits)
                    raise damaged from None
                if settled is not None and settled(lines):  # a complete, checked reply without its m-ready
                    self.resync()
                    break
                raise
            if damaged is None:
                wait = timeout
            if line == C.READY:
                break
            lines.append(line)
            if settled is not None and damaged is None and settled(lines):
                wait = min(wait, self.quick_timeout())
        if damaged is not None:
            damaged.in_sync = True
            raise damaged
        self._raise_refusal(command, lines)
        return lines

    def _raise_refusal(self, command: str, lines: list[str]) -> None:
        errors = [line for line in lines if line.startswith(C.ERR_PREFIX)]
        if errors:
            if errors[0] == C.ERR_COMMAND_CRC:
                exc = CorruptReplyError(f"{self._label()}: the DUT received {self._short(command)} damaged "
                                        f"({C.ERR_COMMAND_CRC}); the link corrupts bytes, the host re-sends")
                exc.in_sync = True  # a clean refusal and m-ready: no resync needed before the re-send
                raise exc
            raise DutRefusedError(f"{self._label()}: {self._short(command)} was refused with {errors[0]!r}; "
                                  "check the input size and the firmware's protocol version (profile%)")

    def _retrying(self, what: str, attempt: Callable[[], T], retries: int, resync_timeout: float | None = None,
                  counter: str = "rerequests") -> T:
        """Run ``attempt`` until it succeeds; after a RETRYABLE failure resync and try again, ``retries`` times.
        A refusal (``e-...``) repeated identically is raised at once (the DUT means it)."""
        last: Exception | None = None
        for n in range(retries + 1):
            try:
                return attempt()
            except ProtocolVersionError:
                raise
            except RETRYABLE as exc:
                if last is not None and str(exc) == str(last) and not isinstance(exc, (CorruptReplyError,
                                                                                        ReplyTimeout)):
                    raise
                last = exc
                if n == retries:
                    break
                self.log.info("%s failed (%s); resynchronizing and retrying", what, exc)
                setattr(self.stats, counter, getattr(self.stats, counter) + 1)
                if getattr(exc, "in_sync", False):
                    continue
                try:
                    self.resync(resync_timeout)
                except ReplyTimeout as dead:
                    raise ReplyTimeout(f"{exc}; then {dead}") from None
        assert last is not None
        raise last

    def query(self, command: str, timeout: float | None = None,
              check: Callable[[list[str]], T] | None = None) -> T | list[str]:
        """An idempotent command: ``command%`` with its reply checked (``check(lines)`` may parse and raise
        ProtocolError), re-requested after a resync while damaged, lost or nonsensical, up to ``retries`` times.
        ``timeout``: seconds per reply line (default :meth:`quick_timeout`: pass the client's timeout for a
        command that runs an inference).  Returns ``check``'s value (or the lines).  Raises what the last attempt raised."""
        per = self.quick_timeout() if timeout is None else timeout

        def attempt():
            lines = self.command(command, per)
            return check(lines) if check else lines

        return self._retrying(self._short(command), attempt, self.retries, resync_timeout=max(per, self.timeout,
                                                                                               self.stall_s))

    def quick_timeout(self) -> float:
        """Seconds to wait for a line of a command that does not compute (``name``, ``profile``, ``results``):
        20x the slowest recent round trip (a twin's UART slows down when the host is loaded), at least 0.2 s,
        at most the client's timeout (1 s until measured)."""
        if self.rtt_s is None:
            return min(self.timeout, 1.0)
        return min(self.timeout, max(0.2, 20 * self.rtt_s))

    # -- API ------------------------------------------------------------------------------------------------
    def name(self) -> str:
        """``name%`` -> ``<board>-<model>`` (the text after ``m-name-``).  Raises ProtocolError/TransportError."""
        def parse(lines: list[str]) -> str:
            for line in lines:
                if line.startswith(C.NAME):
                    return line[len(C.NAME):]
            raise ProtocolError(f"{self._label()}: no {C.NAME}... line in reply to 'name%'; is this tinyhil firmware?")

        return self.query("name", check=parse)

    def device_info(self) -> dict[str, int | str]:
        """``profile%`` -> facts of firmware and board, e.g. ``{'protocol': 2, 'board': 'stm32f746',
        'timer_unit': 'cycles', 'arena_bytes': 51200, 'input_bytes': 490, 'output_bytes': 10, ...}``."""
        def parse(lines: list[str]) -> dict:
            facts = dict(parse_profile_line(line) for line in lines if line.startswith(C.PROFILE))
            if "protocol" not in facts:
                raise ProtocolError(f"{self._label()}: no m-profile-protocol line in reply to 'profile%'")
            return facts

        facts = self.query("profile", check=parse)
        if facts.get("protocol") != C.PROTOCOL_VERSION:
            raise ProtocolVersionError(f"{self._label()}: firmware speaks protocol {facts.get('protocol')!r}, harness speaks "
                                f"{C.PROTOCOL_VERSION}; rebuild the firmware from this checkout")
        return facts

    def load_input(self, data: bytes, binary: bool = True, payload_bytes: int | None = None) -> None:
        """Write ``data`` into the model input tensor; its length must equal the model's input bytes.

        ``binary``: CRC-checked frames (``bload``) of ``payload_bytes`` (one attempt), or by default of the
        adaptive size, repeated with smaller frames after a failure (up to ``retries`` loads); else EEMBC hex
        lines (``db``).  Raises ProtocolError (refused, frames not acknowledged) or TransportError."""
        if not data:
            raise ValueError("load_input needs at least one byte")
        data = bytes(data)
        if not binary:
            self._load_hex(data)
        elif payload_bytes is not None:
            self._load_binary(data, payload_bytes)
        else:
            self._load_adaptive(data, C.CMD_BLOAD, C.BLOAD)

    def _load_adaptive(self, data: bytes, command_name: str, announce: str) -> None:
        """Binary frames of the adaptive payload size, the load repeated with smaller frames after a failure
        (up to ``retries`` loads): ``bload`` into the input tensor or ``clip load`` into the clip buffer."""
        def attempt() -> None:
            frames = -(-len(data) // self.payload_bytes)
            try:
                troubled = self._load_binary(data, self.payload_bytes, command_name, announce)
            except (CorruptReplyError, ProtocolVersionError, DutRefusedError):
                raise
            except ProtocolError:  # a frame was not accepted: the link is worse than this frame size allows
                self._adapt_payload(frames, frames)
                raise
            self._adapt_payload(frames, troubled)

        self._retrying(command_name, attempt, self.retries)

    def _load_hex(self, data: bytes) -> None:
        def attempt() -> None:
            self.command(f"db load {len(data)}")
            done = False
            for off in range(0, len(data), HEX_CHUNK_BYTES):
                done = C.LOAD_DONE in self.command("db " + data[off:off + HEX_CHUNK_BYTES].hex())
            if not done:
                raise ProtocolError(f"{self._label()}: no {C.LOAD_DONE} after {len(data)} hex bytes")

        self._retrying("db load", attempt, self.retries)

    def infer(self, n: int = 1, warmup: int = 0, timeout: float | None = None, retries: int | None = None) -> Laps:
        """``infer n warmup%``: ``warmup`` untimed then ``n`` timed inferences; returns their :class:`Laps`.

        ``timeout``: seconds allowed per inference (the watchdog; default: the client's); the first lap may take
        ``(warmup + 1) * timeout``.  A damaged or lost reply re-runs the command after a resync, ``retries``
        times (default: the client's; 0 raises at once, for callers that reload the input themselves).
        Raises ProtocolError/TransportError."""
        if n < 1 or warmup < 0:
            raise ValueError(f"infer needs n >= 1 and warmup >= 0, got n={n} warmup={warmup}")
        per = self.timeout if timeout is None else timeout
        command = f"infer {n} {warmup}"

        def attempt() -> Laps:
            self._send(command)
            first = self._readline(max(self.quick_timeout(), min(per, 1.0)), f"{C.INFER_START} (reply to {command!r})")
            if first != C.INFER_START:  # a refusal (or noise): read the rest and let _collect judge it
                lines = [first] + (self._collect(command, self.quick_timeout()) if first != C.READY else [])
                if any(line.startswith(C.ERR_PREFIX) for line in lines):
                    self._raise_refusal(command, lines)
                raise ProtocolError(f"{self._label()}: {command!r} answered {first!r}, not {C.INFER_START}")
            lines = self._collect(command, per, first_timeout=per * (warmup + 1),
                                  settled=lambda got: C.INFER_DONE in got)
            laps = [parse_lap(line) for line in lines if line.startswith(C.LAP)]
            units = {unit for unit, _ in laps}
            if len(laps) != n or len(units) != 1 or C.INFER_DONE not in lines:
                raise ProtocolError(f"{self._label()}: {command!r} gave {len(laps)} laps in units {sorted(units)} "
                                    f"(want {n} in one unit, then {C.INFER_DONE}); firmware bug or a lost reply")
            return Laps(units.pop(), tuple(count for _, count in laps))

        return self._retrying(command, attempt, self.retries if retries is None else retries,
                              resync_timeout=max(per * (n + warmup + 1), self.stall_s), counter="reruns")

    def profile_ops(self, timeout: float | None = None) -> OperatorCounts:
        """``profile-ops%`` (firmware built with TH_PROFILE_OPS): one inference on the loaded input, timed per
        operator.  Returns :class:`OperatorCounts` (raw timer deltas, each including one timer read).
        Raises ProtocolError (firmware without TH_PROFILE_OPS: refused; malformed lines) or TransportError."""
        return self.query("profile-ops", self.timeout if timeout is None else timeout, check=self._parse_ops)

    def _parse_ops(self, lines: list[str]) -> OperatorCounts:
        ops: dict[int, tuple[str, int]] = {}
        total = None
        for line in lines:
            if line.startswith(C.OP_TOTAL):
                unit, _, count = line[len(C.OP_TOTAL):].rpartition("-")
                total = (unit, int(count)) if count.isdigit() and unit else None
            elif line.startswith(C.OP):
                index, _, rest = line[len(C.OP):].partition("-")
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
        def parse(lines: list[str]) -> StackUse:
            facts: dict[str, int] = {}
            for line in lines:
                key, _, value = line[len("m-stack-"):].partition("-")
                if line.startswith("m-stack-") and value.isdigit():
                    facts[key] = int(value)
            if set(facts) != {"size", "base", "peak"}:
                raise ProtocolError(f"{self._label()}: 'stack%' answered {sorted(facts)}; want size, base, peak")
            return StackUse(facts["size"], facts["base"], facts["peak"])

        return self.query("stack", self.timeout if timeout is None else timeout, check=parse)

    def results(self) -> bytes:
        """``results%`` -> the output tensor's raw bytes (decode with the model's output dtype); a damaged reply
        is re-requested.  Raises ProtocolError/TransportError."""
        def parse(lines: list[str]) -> bytes:
            for line in lines:
                if line.startswith(C.RESULTS_HEX):
                    try:
                        return bytes.fromhex(line[len(C.RESULTS_HEX):])
                    except ValueError as exc:
                        raise ProtocolError(f"{self._label()}: bad hex in {line[:60]!r}; firmware bug") from exc
            raise ProtocolError(f"{self._label()}: no {C.RESULTS_HEX}... line in reply to 'results%'")

        return self.query("results", check=parse)

    def run_inference(self, tensor: bytes, n: int = 1, warmup: int = 0, binary: bool = True,
                      timeout: float | None = None) -> tuple[bytes, Laps]:
        """Load ``tensor`` (bytes), run ``infer n warmup``, return (output bytes, laps).

        The unit is retried as a whole: when the ``infer`` reply is damaged or lost the input is loaded again
        before the re-run (so the result never depends on what the previous attempt left in the arena)."""
        def attempt() -> tuple[bytes, Laps]:
            self.load_input(tensor, binary=binary)
            laps = self.infer(n, warmup, timeout=timeout, retries=0)
            return self.results(), laps

        per = self.timeout if timeout is None else timeout
        return self._retrying("inference", attempt, self.retries, resync_timeout=max(per * (n + warmup + 1), self.stall_s),
                              counter="reruns")
