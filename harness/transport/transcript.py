"""Raw serial transcripts: record both directions with timestamps, and replay them as a fake DUT.

File format (text, one event per line)::

    # tinyhil serial transcript v1
    0.000123 < 6d2d72656164790d0a        DUT -> host bytes, hex
    0.004567 > 6e616d6525                host -> DUT bytes, hex

The first field is seconds since the transcript was opened.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.errors import ProtocolError
from harness.transport.serial import Transport

HEADER = "# tinyhil serial transcript v1"


class RecordingTransport:
    """A Transport that forwards to ``inner`` and appends every chunk, both directions, to ``path``."""

    def __init__(self, inner: Transport, path: str | Path) -> None:
        self.inner = inner
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="ascii")  # a reset DUT continues the transcript
        self._file.write(HEADER + "\n")
        self._t0 = time.monotonic()

    def _log(self, direction: str, data: bytes) -> None:
        if data and not self._file.closed:
            self._file.write(f"{time.monotonic() - self._t0:.6f} {direction} {data.hex()}\n")
            self._file.flush()

    def write(self, data: bytes) -> None:
        """Record then send ``data``.  Raises what ``inner.write`` raises."""
        self._log(">", data)
        self.inner.write(data)

    def read(self, n: int, timeout: float) -> bytes:
        """Read through ``inner`` and record what arrived."""
        data = self.inner.read(n, timeout)
        self._log("<", data)
        return data

    def close(self) -> None:
        """Close the transcript file and ``inner``."""
        self._file.close()
        self.inner.close()


def load_transcript(path: str | Path) -> list[tuple[float, str, bytes]]:
    """Parse a transcript into ``(seconds, direction, data)`` events; direction is ``>`` or ``<``."""
    events = []
    for number, line in enumerate(Path(path).read_text(encoding="ascii").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        try:
            stamp, direction, hexdata = line.split(" ")
            events.append((float(stamp), direction, bytes.fromhex(hexdata)))
        except ValueError as exc:
            raise ProtocolError(f"{path}:{number}: bad transcript line {line[:40]!r}; "
                                "re-record the transcript") from exc
    return events


class ReplayTransport:
    """A fake DUT that answers with the ``<`` bytes of a transcript and checks the host sends the ``>`` bytes.

    Timing is not replayed: device bytes are returned as fast as they are read; after the last one ``read``
    returns ``b""`` (a silent DUT).  With ``strict``, a host write differing from the recording raises
    ProtocolError naming the offset.
    """

    def __init__(self, path: str | Path, strict: bool = True) -> None:
        events = load_transcript(path)
        self.path = Path(path)
        self.strict = strict
        self._expected = b"".join(d for _, k, d in events if k == ">")
        self._sent = 0
        self._device = bytearray(b"".join(d for _, k, d in events if k == "<"))

    def write(self, data: bytes) -> None:
        """Compare ``data`` with the recorded host bytes (when strict)."""
        want = self._expected[self._sent:self._sent + len(data)]
        if self.strict and data != want:
            raise ProtocolError(f"replay of {self.path}: host sent {data[:24]!r} at byte {self._sent}, recording has "
                                f"{want[:24]!r}; the host protocol changed, re-record the transcript")
        self._sent += len(data)

    def read(self, n: int, timeout: float) -> bytes:
        """Return the next recorded device bytes (up to ``n``), or ``b""`` once exhausted."""
        data = bytes(self._device[:n])
        del self._device[:n]
        return data

    def close(self) -> None:
        """Nothing to release."""
