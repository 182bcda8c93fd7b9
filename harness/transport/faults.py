"""A fault-injecting Transport wrapper (a first-class fake): corrupts host->DUT bytes, drops DUT->host lines.

Used by the protocol tests to prove that a corrupted frame is NAKed and re-sent and that a lost ACK leads to a
timeout, a re-send and a duplicate the device re-acknowledges.
"""

from __future__ import annotations

from harness.transport.serial import Transport


class FaultInjectingTransport:
    """Wraps ``inner``; faults are armed with :meth:`flip_byte` and :meth:`drop_line`, each fires once.

    DUT->host bytes are released line by line (up to the last ``\\n``), so a line can be dropped whole even when
    it arrives split over several reads; the DUT only ever sends ``\\r\\n``-terminated lines.
    """

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self._flips: list[tuple[bytes, int]] = []
        self._drops: list[bytes] = []
        self._pending = bytearray()
        self.fired: list[str] = []  #: description of every fault that fired, in order

    def flip_byte(self, needle: bytes, offset: int) -> None:
        """In the first write containing ``needle``, invert the byte ``offset`` bytes after its start.

        At most one armed flip fires per write, so arming the same flip k times corrupts k sends."""
        self._flips.append((needle, offset))

    def drop_line(self, line: str) -> None:
        """Drop the first DUT line equal to ``line`` (without terminator and without a protocol-v2 CRC suffix)."""
        self._drops.append(line.encode("ascii"))

    def write(self, data: bytes) -> None:
        """Forward ``data`` to ``inner``, with an armed flip applied."""
        for rule in list(self._flips):
            needle, offset = rule
            at = data.find(needle)
            if at >= 0 and at + offset < len(data):
                buf = bytearray(data)
                buf[at + offset] ^= 0xFF
                data = bytes(buf)
                self._flips.remove(rule)
                self.fired.append(f"flip {needle.hex()}+{offset}")
                break  # one fault per write: rules armed twice hit two sends
        self.inner.write(data)

    def read(self, n: int, timeout: float) -> bytes:
        """Read from ``inner``; complete lines are released, minus an armed dropped line."""
        if b"\n" not in self._pending:
            self._pending += self.inner.read(4096, timeout)
        end = self._pending.rfind(b"\n")
        if end < 0:
            return b""
        lines = bytes(self._pending[:end + 1]).split(b"\n")[:-1]
        del self._pending[:end + 1]
        out = bytearray()
        for raw in lines:
            text = raw.rstrip(b"\r")
            text = text.rpartition(b"*")[0] or text
            if text in self._drops:
                self._drops.remove(text)
                self.fired.append(f"drop {text.decode()}")
                continue
            out += raw + b"\n"
        if len(out) > n:  # hand back the excess with the next read
            self._pending[:0] = out[n:]
            del out[n:]
        return bytes(out)

    def close(self) -> None:
        """Close ``inner``."""
        self.inner.close()
