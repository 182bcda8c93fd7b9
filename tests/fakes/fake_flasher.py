"""An in-memory :class:`harness.flash.Flasher`: "flashing" reads the ELF into ``memory``; the DUT's serial link
is pyserial's loopback URL (``loop://``), so code under test can open it.

Scripted faults: ``fail`` (the device refuses the image with that message), ``hang_s`` (programming takes that
long; the load gives up after ``timeout_s`` with a FlashError, as the real flashers do).
"""

from __future__ import annotations

import time

from harness.errors import FlashError
from harness.flash import elf_path

ELF_MAGIC = b"\x7fELF"


class FakeFlasher:
    """A Flasher with no device: ``memory`` holds the last image loaded, ``loads`` counts loads, ``stops`` stops."""

    def __init__(self, *, url: str = "loop://", timeout_s: float = 5.0, hang_s: float = 0.0,
                 fail: str | None = None) -> None:
        self.link_url = url
        self.timeout_s = timeout_s
        self.hang_s = hang_s
        self.fail = fail
        self.memory: bytes | None = None
        self.loads = 0
        self.stops = 0
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        """The loopback link once an image is loaded, None before and after :meth:`stop`."""
        return self._url

    def load(self, image) -> None:
        data = elf_path(image).read_bytes()  # missing or not an ELF: FlashError, as the real flashers
        if self.hang_s:
            time.sleep(min(self.hang_s, self.timeout_s))
            if self.hang_s > self.timeout_s:
                raise FlashError(f"fake device did not finish flashing within {self.timeout_s:g} s; power-cycle it")
        if self.fail:
            raise FlashError(f"fake device refused the image: {self.fail}; erase it and retry")
        self.memory = data
        self.loads += 1
        self._url = self.link_url

    def stop(self) -> None:
        self._url = None
        self.stops += 1
