"""Stage 3: putting a firmware image on the device under test.

One seam, :class:`Flasher`; implementations: :class:`harness.flash.qemu.QemuTwin` (starts the emulated twin),
:class:`harness.flash.pyocd_flasher.PyocdFlasher` (programs a board through its debug probe),
:class:`harness.flash.esptool_flasher.EsptoolFlasher` (ESP32 over its serial port); :func:`flasher_for` picks one
from a target's flasher spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.errors import FlashError


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


def elf_path(image: "object | Path | str", hint: str = "build it first") -> Path:
    """The ELF of a FirmwareImage (its ``elf`` attribute) or of a path, checked: raises FlashError (one line,
    ending with ``hint``) when the file is missing or is not an ELF (QEMU would boot any other file as a raw
    image, a probe would program garbage)."""
    elf = Path(getattr(image, "elf", image))
    if not elf.is_file():
        raise FlashError(f"firmware {elf} does not exist; {hint}")
    with open(elf, "rb") as fh:
        magic = fh.read(4)
    if magic != b"\x7fELF":
        raise FlashError(f"firmware {elf} is not an ELF file (starts {magic!r}); rebuild it")
    return elf


def flasher_for(target, *, log_dir: Path | None = None) -> Flasher:
    """The flasher of ``target`` (a :class:`harness.target.Target`), chosen by ``target.flasher.kind``.

    ``qemu``: the emulated twin (:class:`~harness.flash.qemu.QemuTwin`; ``log_dir`` receives ``qemu.log``).
    ``pyocd``: the probe by unique ID (``flasher.probe``; None = the only one attached); ``esptool``: through
    the serial port.  For boards, when ``flasher.port`` is None the port is the USB serial port that shares the
    probe's serial number.  Raises TransportError (no serial port found), FlashError.
    """
    from harness.errors import TransportError  # noqa: PLC0415
    from harness.flash.probes import list_ports, port_for_probe  # noqa: PLC0415

    spec = target.flasher
    if spec.kind == "qemu":
        from harness.flash.qemu import QemuTwin  # noqa: PLC0415

        return QemuTwin(target, log_dir=log_dir)
    port = spec.port
    if port is None and spec.probe is not None:
        port = port_for_probe(spec.probe, list_ports())
    if port is None:
        raise TransportError(f"no serial port for {target.name}; pass --port (see `tinyhil probes`) or --emulate")
    if spec.kind == "pyocd":
        from harness.flash.pyocd_flasher import PyocdFlasher  # noqa: PLC0415

        return PyocdFlasher(target.board, spec.probe, port)
    from harness.flash.esptool_flasher import EsptoolFlasher  # noqa: PLC0415

    return EsptoolFlasher(target.board, port)
