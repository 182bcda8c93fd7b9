"""Device->host line reading with deadlines, and parsers for the reply lines (see targets/PROTOCOL.md)."""

from __future__ import annotations

import time

import zlib

from harness.errors import CorruptReplyError, ProtocolError, TransportError
from harness.protocol.constants import CRC_MARK, LAP, LINE_CRC_DIGITS, LINE_TERMINATOR, PROFILE, READY
from harness.transport.serial import Transport

_TAIL_BYTES = 64


class ReplyTimeout(TransportError):
    """The DUT sent no complete line within the timeout (the link itself is still open)."""


class LineReader:
    """Splits the DUT's byte stream into lines (``\\r\\n``-terminated) and remembers the last bytes received.
    ``clock``: the monotonic seconds its deadlines are measured in (``time.monotonic``; tests inject a fake)."""

    def __init__(self, transport: Transport, label: str = "dut") -> None:
        self.clock = time.monotonic
        self.transport = transport
        self.label = label
        self._buf = bytearray()
        self.tail = b""  #: last bytes received (at most 64), shown in error messages

    def readline(self, timeout: float, waiting_for: str = "a reply") -> str:
        """Return the next line (ASCII, without terminator) within ``timeout`` seconds.

        Raises ReplyTimeout (a TransportError) naming ``waiting_for`` and the last bytes received when the DUT
        stays silent.
        """
        deadline = self.clock() + timeout
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                raw = bytes(self._buf[:end + 1])
                del self._buf[:end + 1]
                return raw.rstrip(LINE_TERMINATOR).decode("latin-1")
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise ReplyTimeout(
                    f"{self.label}: no {waiting_for} within {timeout:g} s (last bytes received: {self.tail!r}); "
                    "check the DUT is flashed, running and on this port, or raise the timeout")
            chunk = self.transport.read(4096, remaining)
            if chunk:
                self._buf += chunk
                self.tail = (self.tail + chunk)[-_TAIL_BYTES:]

    def drain(self, quiet: float) -> bytes:
        """Discard input until ``quiet`` seconds pass without a byte; returns what was discarded."""
        dropped = bytes(self._buf)
        self._buf.clear()
        while chunk := self.transport.read(4096, quiet):
            dropped += chunk
            self.tail = (self.tail + chunk)[-_TAIL_BYTES:]
        return dropped


def line_crc(text: str) -> str:
    """The protocol-v2 CRC suffix of ``text``: ``*`` + CRC-32 (IEEE 802.3, ``zlib.crc32``) as 8 lowercase hex."""
    return f"{CRC_MARK}{zlib.crc32(text.encode('latin-1')) & 0xFFFFFFFF:0{LINE_CRC_DIGITS}x}"


def with_crc(text: str) -> str:
    """``text`` followed by its CRC suffix (a host command, or a DUT line in a fake)."""
    return text + line_crc(text)


def verify_line(raw: str) -> str:
    """Check one DUT line of protocol v2 and return its text without the CRC suffix.

    ``m-ready`` carries no CRC; every other line must end in ``*<8 hex>`` matching the CRC-32 of the text before
    it.  Raises CorruptReplyError (the link damaged the line: re-request it) otherwise."""
    if raw == READY:
        return raw
    text, mark, digits = raw.rpartition(CRC_MARK)
    if mark and len(digits) == LINE_CRC_DIGITS and line_crc(text) == CRC_MARK + digits:
        return text
    raise CorruptReplyError(f"DUT line {raw[:48]!r} failed its CRC; the serial link corrupts bytes "
                            "(check the cable/baud rate; the host re-requests the reply)")


def parse_lap(line: str) -> tuple[str, int]:
    """``m-lap-<unit>-<count>`` -> (unit, count).  Raises ProtocolError on anything else."""
    unit, sep, count = line[len(LAP):].rpartition("-")
    if not line.startswith(LAP) or not sep or not unit or not count.isdigit():
        raise ProtocolError(f"bad lap line {line!r}; expected m-lap-<unit>-<count>: firmware and harness disagree")
    return unit, int(count)


def parse_profile_line(line: str) -> tuple[str, int | str]:
    """``m-profile-<key>-<value>`` -> (key, value); keys use ``_``, never ``-``; digits become int."""
    key, sep, value = line[len(PROFILE):].partition("-")
    if not line.startswith(PROFILE) or not sep or not key:
        raise ProtocolError(f"bad profile line {line!r}; expected m-profile-<key>-<value>")
    return key, int(value) if value.isdigit() else value
