"""Programming an ESP32 board over its USB-serial bridge with esptool (the esptool CLI, in a subprocess).

esptool resets the chip into its ROM download mode through the bridge's DTR/RTS lines, writes the ESP-IDF
images that ``pio run -e esp32`` leaves next to ``firmware.elf`` (bootloader at 0x1000, partition table at
0x8000, application at 0x10000), verifies them by MD5 and hard-resets the chip.  esptool is run as a child
process so that a hung download is killed after ``timeout_s``; its "A fatal error occurred: ..." line becomes
a one-line FlashError with the fix.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.boards import Board
from harness.errors import FlashError
from harness.flash import elf_path

log = logging.getLogger(__name__)

# ESP-IDF's default flash layout for the ESP32 (esp-idf partition table docs): offset -> file next to the ELF.
ESP32_IMAGES = ((0x1000, "bootloader.bin"), (0x8000, "partitions.bin"), (0x10000, "firmware.bin"))
DEFAULT_BAUD = 460800


class EsptoolFlasher:
    """Flashes ``board`` (flasher kind ``esptool``) on serial ``port``; ``command`` is how esptool is run
    (default ``python -m esptool``).  The same port then carries the benchmark protocol (``url``)."""

    def __init__(self, board: Board, port: str | None, *, timeout_s: float = 180.0,
                 command: list[str] | None = None, baud: int = DEFAULT_BAUD) -> None:
        if board.flasher.kind != "esptool":
            raise FlashError(f"{board.name} is flashed with {board.flasher.kind}, not esptool; see boards.yaml")
        if not port:
            raise FlashError(f"esptool needs the serial port of the {board.name}; pass --port (see `tinyhil probes`)")
        self.board = board
        self.port = port
        self.timeout_s = timeout_s
        self.command = list(command) if command else None
        self.baud = baud
        self.log = log.getChild(board.name)

    @property
    def url(self) -> str | None:
        """The serial port esptool flashed through; the DUT talks on it after the reset."""
        return self.port

    def images(self, elf: Path) -> list[tuple[int, Path]]:
        """(flash offset, file) pairs built next to ``elf``.  Raises FlashError naming a missing file."""
        out = []
        for offset, name in ESP32_IMAGES:
            path = elf.parent / name
            if not path.is_file():
                raise FlashError(f"{path} does not exist; build the ESP32 firmware with `pio run -e esp32` first")
            out.append((offset, path))
        return out

    def write_flash_command(self, elf: Path) -> list[str]:
        """The full esptool command line for ``elf``."""
        base = self.command or [sys.executable, "-m", "esptool"]
        args = [*base, "--chip", self.board.flasher.target, "--port", self.port, "--baud", str(self.baud),
                "--before", "default_reset", "--after", "hard_reset", "write_flash", "-z"]
        for offset, path in self.images(elf):
            args += [f"0x{offset:x}", str(path)]
        return args

    def load(self, image) -> None:
        """Write, verify and reset.  Raises FlashError (esptool missing, port busy or absent, chip silent,
        verify failed, timeout)."""
        elf = elf_path(image, "build the ESP32 firmware with `pio run -e esp32` first (images left beside it "
                            "from an earlier build are not flashed)")
        if self.command is None and importlib.util.find_spec("esptool") is None:
            raise FlashError("esptool is not installed; pip install -e '.[hardware]'")
        cmd = self.write_flash_command(elf)
        self.log.info("flashing %s on %s", elf.parent, self.port)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            last = _last_line(out)
            said = f" (esptool said: {last})" if last else ""
            raise FlashError(f"esptool did not finish flashing {self.board.name} on {self.port} within "
                             f"{self.timeout_s:g} s{said}; press the board's EN button and retry") from None
        if proc.returncode != 0:
            raise esptool_error(self.board, self.port, out)


    def stop(self) -> None:
        """Nothing to release: esptool exited after flashing and the serial port belongs to the transport."""


def esptool_error(board: Board, port: str, output: str) -> FlashError:
    """One-line FlashError for a failed esptool run, from its output (the fatal-error line when present)."""
    fatal = next((line.split("A fatal error occurred:", 1)[1].strip() for line in output.splitlines()
                  if "A fatal error occurred:" in line), "")
    msg = fatal or _last_line(output) or "no output"
    low = msg.lower()
    if "could not open" in low or "busy" in low or "permission denied" in low:
        fix = "close other programs using the port (serial monitors, a running tinyhil) and check its permissions"
    elif "failed to connect" in low or "no serial data" in low or "wrong boot mode" in low:
        fix = "hold the BOOT button while esptool connects, or check the USB cable"
    elif "md5" in low or "verif" in low:
        fix = "the flash content did not verify: erase it (`python -m esptool --chip esp32 erase_flash`) and retry"
    else:
        fix = "run the command by hand for esptool's full output"
    return FlashError(f"esptool failed to flash {board.name} on {port}: {msg}; {fix}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
