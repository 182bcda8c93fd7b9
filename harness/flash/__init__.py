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


def hardware_flasher(board, *, probe: str | None = None, port: str | None = None) -> "Flasher":
    """The flasher for a real ``board``, chosen by its catalog field ``flasher.kind``.

    pyocd: probe by unique ID (``probe``; None = the only one attached); esptool: through ``port``.
    When ``port`` is None it is looked up as the USB serial port that shares the probe's serial number.
    Raises FlashError (unknown kind) or TransportError (no serial port found).
    """
    from harness.errors import FlashError, TransportError  # noqa: PLC0415
    from harness.flash.probes import list_ports, port_for_probe  # noqa: PLC0415

    if port is None and probe is not None:
        port = port_for_probe(probe, list_ports())
    if port is None:
        raise TransportError(f"no serial port for {board.name}; pass --port (see `tinyhil probes`) or --emulate")
    if board.flasher.kind == "pyocd":
        from harness.flash.pyocd_flasher import PyocdFlasher  # noqa: PLC0415

        return PyocdFlasher(board, probe, port)
    if board.flasher.kind == "esptool":
        from harness.flash.esptool_flasher import EsptoolFlasher  # noqa: PLC0415

        return EsptoolFlasher(board, port)
    raise FlashError(f"{board.name}: no flasher for kind {board.flasher.kind!r}; fix boards.yaml")
