"""Stage 3: putting a firmware image on the device under test.

One seam, :class:`Flasher`; implementations: :class:`harness.flash.qemu.QemuTwin` (starts the emulated twin),
:class:`harness.flash.pyocd_flasher.PyocdFlasher` (programs a board through its debug probe).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Flasher(Protocol):
    """Loads firmware on a DUT and says where its serial link is."""

    def load(self, image: "object | Path") -> None:
        """Load (and start) ``image``: a FirmwareImage or an ELF path.  Raises FlashError."""

    @property
    def url(self) -> str | None:
        """pyserial URL of the DUT's serial link (``socket://...`` or a port), None if the flasher does not know it."""

    def stop(self) -> None:
        """Release the DUT (stop the emulator, close the probe); idempotent."""


def elf_path(image: "object | Path | str") -> Path:
    """The ELF of a FirmwareImage (its ``elf`` attribute) or of a path."""
    return Path(getattr(image, "elf", image))
