"""The host side of ``bload`` (targets/PROTOCOL.md, "Binary bulk load"): stop-and-wait CRC frames that survive
a noisy or stalling link.

* A frame is re-sent on a NAK, on a reply line that failed its CRC (a damaged ACK or NAK), or after the ack
  timeout.  Re-sends after a timeout are preceded by :data:`RESEND_FILL` zero bytes: if the link dropped bytes
  of the previous copy, the DUT completes that copy with zeros, fails its CRC and then hunts for the header of
  this copy, instead of eating its first bytes (a dropped byte costs one re-send, not two).
* The ack timeout follows the link: 4x the slowest of the last acknowledged frames' round trips (+ 50 ms),
  until measured 8x the command round trip.  Waits double while the DUT stays silent (any line from it resets
  them), so a DUT paused for up to ``stall_s`` seconds resumes the load; NAKs and damaged replies are limited
  to ``retries`` per frame.
* The payload size adapts between loads to the byte error rate estimated from the share of frames that
  needed a re-send (see :meth:`BulkSender._adapt_payload`), 64..1024 bytes.
"""

from __future__ import annotations

import math
from collections import deque

from harness.errors import CorruptReplyError, DutRefusedError, ProtocolError
from harness.protocol import constants as C
from harness.protocol.frames import abort_frame, split_frames
from harness.protocol.lines import ReplyTimeout

#: Zero bytes sent before a frame re-sent after a timeout (covers up to this many bytes dropped per copy).
RESEND_FILL = bytes(16)
#: Zero bytes sent after every frame: they complete a frame that lost up to this many bytes, so the DUT NAKs it
#: at once instead of waiting for a time-out; otherwise the DUT skips them (and ignores them as commands).
TAIL_FILL = bytes(4)
MIN_PAYLOAD_BYTES = 64
#: Bytes a frame costs besides its payload, for the payload choice: header 5 + CRC 4 + ACK line ~20 + turnaround.
FRAME_OVERHEAD_BYTES = 73


class BulkSender:
    """Mixin of :class:`~harness.protocol.client.DeviceClient` (needs CheckedLink's ``_send``, ``_readline``,
    ``_lines``, ``transport``, ``stats``, ``timeout``, ``retries``, ``stall_s``, ``ack_timeout``)."""

    payload_bytes: int = C.FRAME_PAYLOAD_BYTES
    ack_floor_s: float = 0.5
    _ack_rtts: deque

    def _ack_wait(self, frame_bytes: int | None = None) -> float:
        """Seconds to wait for the ACK of a frame of ``frame_bytes``: 4x the slowest recent ACK round trip,
        scaled up to this frame's length (a slow UART takes time per byte) + 50 ms, at least ``ack_floor_s``
        (a twin's UART speed varies with the host's load); 1 s until one was seen."""
        if self.ack_timeout is not None:
            return self.ack_timeout
        if not self._ack_rtts:
            return min(self.timeout, 1.0 + 8 * (self.rtt_s or 0.0))
        size = frame_bytes or max(n for _, n in self._ack_rtts)
        slowest = max(rtt * max(1.0, size / n) for rtt, n in self._ack_rtts)
        return min(self.timeout, max(self.ack_floor_s, 4 * slowest + 0.05))

    def _load_binary(self, data: bytes, payload_bytes: int, command_name: str = C.CMD_BLOAD,
                     announce: str = C.BLOAD) -> int:
        """One ``bload`` (or, with ``command_name`` ``clip load`` and ``announce`` ``m-clip-load-``, a load into
        the clip buffer: the same frames); returns the number of frames that needed a re-send.  Raises
        ProtocolError (refused, or a frame not acknowledged), CorruptReplyError / ReplyTimeout (the
        announcement reply was damaged or lost)."""
        frames = split_frames(data, payload_bytes)
        command = f"{command_name} {len(data)} {payload_bytes}"
        expected = f"{announce}{len(data)}-{payload_bytes}"
        self.mid_load = True
        self._unconfirmed = False
        self._blind_resend = False  # a frame was re-sent after a silence (its earlier copy may have arrived)
        self._send(command)
        sent = self.clock()
        try:
            reply = self._readline(max(self._ack_wait(), self.quick_timeout()), f"reply to {command_name!r}")
        except CorruptReplyError:  # most likely the m-bload line itself: go on, the frames' ACKs will tell
            reply = expected
            self._unconfirmed = True  # ... and silence to frame 0 says the DUT never entered bulk-load mode
        if reply != expected:
            if reply == C.ERR_COMMAND_CRC:  # the link damaged the command: nothing happened, send it again
                self._skip_to_ready(f"m-ready after a damaged {command_name!r}")
                exc = CorruptReplyError(f"{self._label()}: the DUT received {command!r} damaged "
                                        f"({C.ERR_COMMAND_CRC}); the host re-sends it")
                exc.in_sync = True
                raise exc
            if not reply.startswith(C.ERR_PREFIX):
                raise CorruptReplyError(f"{self._label()}: {command!r} answered {reply!r}; expected {expected}")
            self._skip_to_ready(f"m-ready after a refused {command_name!r}")
            raise DutRefusedError(f"{self._label()}: '{command}%' answered {reply!r}; check the input size "
                                  "(profile%) or load with binary=False")
        self._rtts.append(self.clock() - sent)
        troubled = 0
        for seq, frame in enumerate(frames):
            resent, seen = self._send_frame(seq & 0xFFFF, frame, last=seq == len(frames) - 1)
            troubled += resent > 0
        # The last frame's ACK means the DUT holds all bytes; m-load-done and m-ready only remain to be read.
        self.mid_load = False  # the DUT is back in command mode (a late copy of the last frame is a garbage command)
        try:
            if seen == "ack":
                self._expect_after_ack(C.LOAD_DONE)
            if seen != C.READY:
                self._expect_after_ack(C.READY)
            if resent and self._blind_resend:  # late copies of the last frame may follow as garbage commands
                self.resync()
        except (CorruptReplyError, ReplyTimeout, ProtocolError):
            self.resync()
        return troubled

    def _skip_to_ready(self, waiting_for: str) -> None:
        while self._readline(max(self._ack_wait(), self.quick_timeout()), waiting_for) != C.READY:
            pass

    def _expect_after_ack(self, wanted: str) -> None:
        """Read ``wanted`` (the DUT sends it right after the last ACK: waits follow the link's round trip)."""
        wait = max(self._ack_wait(), self.quick_timeout())
        line = self._readline(wait, f"{wanted} after 'bload'")
        while line.startswith(C.ACK) or line.startswith(C.NAK):  # re-acks of duplicates
            line = self._readline(wait, f"{wanted} after 'bload'")
        if line != wanted:
            raise ProtocolError(f"{self._label()}: expected {wanted!r} after 'bload', got {line!r}")

    def _send_frame(self, seq: int, frame: bytes, last: bool) -> tuple[int, str]:
        """Send one frame until acked; returns (re-sends, what confirmed it: ``"ack"``, or for the last frame
        ``m-load-done`` or ``m-ready`` when the ACK was damaged: the DUT leaves bulk-load mode only when every
        byte arrived or after an abort frame, which the host did not send).  Raises ProtocolError."""
        ack, nak = f"{C.ACK}{seq}", f"{C.NAK}{seq}-"
        failures, silent_s, resends = 0, 0.0, 0
        wait = self._ack_wait(len(frame))
        fill = b""
        last_reply = "nothing"
        stale_nak = False  # after a re-send on silence, the first NAK is the damaged old copy's
        while True:
            self.transport.write(fill + frame + TAIL_FILL)
            sent = self.clock()
            deadline = sent + wait
            outcome = "timeout"
            while (remaining := deadline - self.clock()) > 0:
                try:
                    line = self._readline(remaining, f"ack of frame {seq}")
                except ReplyTimeout:
                    break
                except CorruptReplyError:
                    silent_s, wait = 0.0, self._ack_wait(len(frame))  # the DUT is alive: not a stall
                    outcome, last_reply = "corrupt", "a reply line that failed its CRC"
                    if not last:  # a damaged ACK or NAK: re-send now (a duplicate is re-acked)
                        break
                    continue  # the last frame: m-load-done may still confirm it
                if line == ack or (last and line == C.LOAD_DONE):
                    self._ack_rtts.append((self.clock() - sent, len(fill) + len(frame) + len(TAIL_FILL)))
                    return resends, "ack" if line == ack else line
                if last and line == C.READY and not getattr(self, "_unconfirmed", False):
                    return resends, line  # the load completed; its ACK and m-load-done were damaged
                silent_s, wait = 0.0, self._ack_wait(len(frame))  # the DUT is alive: not a stall
                if line.startswith(C.ACK) or line.startswith(C.NAK):
                    self._unconfirmed = False  # it is in bulk-load mode
                if line.startswith(nak):
                    if stale_nak:
                        stale_nak = False
                        continue
                    outcome, last_reply = "nak", line
                    break
                self.log.debug("ignored %r while waiting for %s", line, ack)
            if outcome == "timeout" and getattr(self, "_unconfirmed", False):
                raise CorruptReplyError(f"{self._label()}: no answer to frame {seq} after a damaged 'm-bload' reply: "
                                        "the DUT did not enter bulk-load mode; resync and load again")
            if outcome == "timeout":
                silent_s += wait
                last_reply = f"silence for {silent_s:.1f} s"
                wait = min(wait * 2, max(self._ack_wait(len(frame)), 2.0))
                fill, stale_nak = RESEND_FILL, True
                self._blind_resend = True
            else:
                failures += 1
                fill, stale_nak = b"", False
            if failures >= self.retries or silent_s > self.stall_s:
                self._abort()
                raise ProtocolError(f"{self._label()}: frame {seq} not acknowledged after {resends + 1} sends (last: "
                                    f"{last_reply}; last bytes {self._lines.tail!r}); the link is too noisy or the "
                                    "DUT stopped: check the cable and baud rate, or reset the DUT")
            resends += 1
            self.resends += 1
            self.stats.frame_resends += 1
            self.log.info("re-sending frame %d (last reply %s)", seq, last_reply)

    def _abort(self) -> None:
        """Best effort: send the abort frame so the DUT returns to command mode, and skip to its m-ready."""
        self.transport.write(abort_frame())
        wait = max(self._ack_wait(), self.quick_timeout())  # the DUT answers at once: a few round trips
        try:
            while self._readline(wait, "m-ready after the abort frame") != C.READY:
                pass
        except (ReplyTimeout, CorruptReplyError):
            self.log.info("no clean m-ready after the abort frame; the next command resynchronizes")

    def _adapt_payload(self, frames: int, troubled: int) -> None:
        """Pick the next load's payload size from this one's share of frames that needed a re-send.

        A frame of ``P + 9`` bytes survives a byte error rate ``e`` with probability ``(1 - e)^(P + 9)``, so
        ``e ~ -ln(1 - troubled / frames) / (P + 9)``; the throughput ``P / (P + h) * (1 - e)^(P + 9)`` with a
        per-frame overhead of ``h`` bytes (header, CRC, ACK line and turnaround, ~73 bytes) peaks near
        ``P = sqrt(h / e)`` (the classic optimal packet length).  Rounded down to a power of two in 64..1024;
        after a clean load the size doubles back."""
        size = self.payload_bytes
        if troubled == 0:
            self.payload_bytes = min(C.FRAME_PAYLOAD_BYTES, size * 2)
            return
        share = min(troubled / max(frames, 1), 0.99)
        rate = -math.log(1.0 - share) / (size + C.FRAME_HEADER_BYTES + C.FRAME_CRC_BYTES)
        best = math.sqrt(FRAME_OVERHEAD_BYTES / rate)
        self.payload_bytes = int(min(C.FRAME_PAYLOAD_BYTES, max(MIN_PAYLOAD_BYTES, 2 ** math.floor(math.log2(best)))))
