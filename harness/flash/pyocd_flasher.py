"""Programming a real board through its debug probe with pyocd's Python API (ST-LINK, J-Link, CMSIS-DAP).

Targets come from boards.yaml (``flasher.target``).  pyocd ships nrf52840 and rp2040 built in; stm32f746zg
needs its CMSIS pack (``pyocd pack install stm32f746zg`` once, on a machine with network access).
Errors: :class:`~harness.errors.FlashError`, one line naming the fix.
"""

from __future__ import annotations

import logging
from pathlib import Path

from harness.boards import Board
from harness.errors import FlashError
from harness.flash import elf_path

log = logging.getLogger(__name__)


class PyocdFlasher:
    """Flashes ``board`` through probe ``probe`` (unique id; None picks the only one); ``port`` is its serial link."""

    def __init__(self, board: Board, probe: str | None = None, port: str | None = None) -> None:
        if board.flasher.kind != "pyocd":
            raise FlashError(f"{board.name} is flashed with {board.flasher.kind}, not pyocd; see boards.yaml")
        self.board = board
        self.probe = probe
        self._url = port
        self.log = log.getChild(board.name)

    @property
    def url(self) -> str | None:
        """The board's serial port as given (pyocd does not know it), or None."""
        return self._url

    def load(self, image) -> None:
        """Program and reset: ``image`` is a FirmwareImage or an ELF path.  Raises FlashError."""
        elf = elf_path(image)
        if not elf.is_file():
            raise FlashError(f"firmware {elf} does not exist; build it first")
        try:
            from pyocd.core import exceptions as pyocd_errors  # noqa: PLC0415
            from pyocd.core.helpers import ConnectHelper  # noqa: PLC0415
            from pyocd.flash.file_programmer import FileProgrammer  # noqa: PLC0415
        except ImportError:
            raise FlashError("pyocd is not installed; pip install -e '.[hardware]'") from None
        target = self.board.flasher.target
        self._check_target(target)
        session = ConnectHelper.session_with_chosen_probe(
            blocking=False, return_first=self.probe is None, unique_id=self.probe, target_override=target,
            options={"frequency": 4_000_000})
        if session is None:
            which = f"probe {self.probe}" if self.probe else "debug probe"
            raise FlashError(f"no {which} found for {self.board.name}; connect the board by USB "
                             "(list probes with `pyocd list`)")
        try:
            with session:
                self.log.info("programming %s via %s", elf.name, session.probe.unique_id)
                FileProgrammer(session).program(str(elf), file_format="elf")
                session.target.reset()
        except pyocd_errors.TargetSupportError as exc:
            raise FlashError(f"pyocd does not support target {target}: {exc}; run `pyocd pack install {target}`") from None
        except pyocd_errors.Error as exc:
            raise FlashError(f"flashing {self.board.name} failed: {exc}; check the probe connection and power") from None

    def stop(self) -> None:
        """Nothing to release: the session is closed after each load."""

    @staticmethod
    def _check_target(target: str) -> None:
        from pyocd.target import TARGET  # noqa: PLC0415

        if target.lower() in TARGET:
            return
        try:
            from pyocd.target.pack.pack_target import ManagedPacks  # noqa: PLC0415

            installed = {dev.part_number.lower() for dev in ManagedPacks.get_installed_targets()}
        except Exception:  # noqa: BLE001 (the pack index is optional; a missing one means no packs)
            installed = set()
        if target.lower() not in installed:
            raise FlashError(f"pyocd has no CMSIS pack for {target}; run `pyocd pack install {target}` "
                             "on a machine with network access")
