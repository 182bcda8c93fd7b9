"""Fault-injecting Transport wrappers (first-class fakes of a noisy link).

* :class:`FaultInjectingTransport`: targeted, one-shot faults (flip a byte of the frame containing X, drop the
  DUT line Y), for tests that prove one mechanism (a corrupted frame is NAKed and re-sent, a lost ACK leads to a
  timeout, a re-send and a duplicate the device re-acknowledges).
* :class:`RandomFaultTransport`: seeded random byte flips, drops, duplicates and stalls at configurable rates in
  each direction, for the fault tests and the reliability benchmark.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

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


@dataclass(frozen=True)
class FaultRates:
    """Per-byte probabilities of one direction: ``flip`` (XOR with a random non-zero mask), ``drop``,
    ``duplicate``; ``stall``: per-chunk probability of holding the chunk ``stall_s`` seconds first."""

    flip: float = 0.0
    drop: float = 0.0
    duplicate: float = 0.0
    stall: float = 0.0
    stall_s: float = 0.0

    @classmethod
    def uniform(cls, rate: float) -> "FaultRates":
        """Flips, drops and duplicates each at ``rate / 3`` per byte (a total byte error rate of ``rate``)."""
        return cls(flip=rate / 3, drop=rate / 3, duplicate=rate / 3)


class RandomFaultTransport:
    """Wraps ``inner`` and damages bytes at random, seeded (``seed``): ``to_dut`` rates for writes,
    ``to_host`` rates for reads.  ``counts`` tallies what fired per direction and kind, e.g.
    ``{"to_dut.flip": 3, "to_host.drop": 1}``.  The farm's noisy USB bridge, reproducibly, in tests and in
    ``benchmarks/reliability.py``."""

    def __init__(self, inner: Transport, to_dut: FaultRates = FaultRates(), to_host: FaultRates = FaultRates(),
                 seed: int = 0) -> None:
        self.inner = inner
        self.rates = {"to_dut": to_dut, "to_host": to_host}
        self._rng = random.Random(seed)
        self.counts: dict[str, int] = {}

    def _damage(self, data: bytes, direction: str) -> bytes:
        rates = self.rates[direction]
        if rates.stall and self._rng.random() < rates.stall:
            self._tally(direction, "stall")
            time.sleep(rates.stall_s)
        if not (rates.flip or rates.drop or rates.duplicate):
            return data
        out = bytearray()
        rng = self._rng
        for byte in data:
            r = rng.random()
            if r < rates.drop:
                self._tally(direction, "drop")
                continue
            r -= rates.drop
            if r < rates.flip:
                self._tally(direction, "flip")
                out.append(byte ^ rng.randrange(1, 256))
                continue
            r -= rates.flip
            out.append(byte)
            if r < rates.duplicate:
                self._tally(direction, "duplicate")
                out.append(byte)
        return bytes(out)

    def _tally(self, direction: str, kind: str) -> None:
        key = f"{direction}.{kind}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def write(self, data: bytes) -> None:
        """Forward ``data`` to ``inner``, damaged by the ``to_dut`` rates."""
        damaged = self._damage(data, "to_dut")
        if damaged:
            self.inner.write(damaged)

    def read(self, n: int, timeout: float) -> bytes:
        """Read from ``inner``, damaged by the ``to_host`` rates (may return ``b""`` when all was dropped)."""
        data = self.inner.read(n, timeout)
        return self._damage(data, "to_host") if data else data

    def close(self) -> None:
        """Close ``inner``."""
        self.inner.close()
