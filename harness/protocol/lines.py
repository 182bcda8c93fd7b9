"""Device->host line reading with deadlines, and parsers for the reply lines (see targets/PROTOCOL.md)."""

from __future__ import annotations

import time

from harness.errors import ProtocolError, TransportError
from harness.protocol.constants import LAP, LINE_TERMINATOR, PROFILE
from harness.transport.serial import Transport

_TAIL_BYTES = 64


class ReplyTimeout(TransportError):
    """The DUT sent no complete line within the timeout (the link itself is still open)."""


class LineReader:
    """Splits the DUT's byte stream into lines (``\\r\\n``-terminated) and remembers the last bytes received."""

    def __init__(self, transport: Transport, label: str = "dut") -> None:
        self.transport = transport
        self.label = label
        self._buf = bytearray()
        self.tail = b""  #: last bytes received (at most 64), shown in error messages

    def readline(self, timeout: float, waiting_for: str = "a reply") -> str:
        """Return the next line (ASCII, without terminator) within ``timeout`` seconds.

        Raises ReplyTimeout (a TransportError) naming ``waiting_for`` and the last bytes received when the DUT
        stays silent.
        """
        deadline = time.monotonic() + timeout
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                raw = bytes(self._buf[:end + 1])
                del self._buf[:end + 1]
                return raw.rstrip(LINE_TERMINATOR).decode("ascii", errors="replace")
            remaining = deadline - time.monotonic()
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
