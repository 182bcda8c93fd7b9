"""One contract, every Flasher (harness/flash): the QEMU twin, pyocd (fake probe API), esptool (the replaying
fake esptool CLI) and an in-memory fake.  Each subclass provides fixtures: a healthy ``flasher`` and the
``good_image`` it loads, a ``garbage_image``, and flashers whose device or tool ``hanging``-ly blocks or is
``failing``.  The classes are built with their constructors (small timeouts), not through ``flasher_for``.

Contract: after ``load`` the ``url`` is a string pyserial opens (or None where the class documents it);
``stop()`` twice does not raise, before or after a load; a missing or garbage ELF, a failing and a hanging
device all raise FlashError with a one-line message, the hang within the flasher's bound.  A failed load
releases what it started itself (the twin fixtures still stop QEMU on teardown).
"""

from __future__ import annotations

import os
import pty
import shutil
import sys
import time
import tty
from pathlib import Path

import pytest
import serial

from harness.boards import get_board
from harness.errors import FlashError
from harness.flash import Flasher
from harness.flash.esptool_flasher import EsptoolFlasher
from harness.flash.pyocd_flasher import PyocdFlasher
from harness.flash.qemu import QemuTwin
from tests.fakes.fake_flasher import FakeFlasher
from tests.fakes.fake_pyocd import NUCLEO_UID, FakePyocd

FAKES = Path(__file__).resolve().parents[1] / "fakes"
GARBAGE = bytes(range(256)) * 16  # 4 KB, does not start with the ELF magic


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert msg and msg == msg.strip() and "\n" not in msg, f"not a one-line message: {msg!r}"
    return msg


def write_elf(path: Path, data: bytes = b"\x7fELF\x01\x01\x01" + bytes(57)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def pty_port():
    """A serial device path pyserial can open (a pseudo-terminal): the port given to board flashers."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield os.ttyname(slave)
    os.close(slave)
    os.close(master)


class FlasherContract:
    """Behaviour every Flasher must have."""

    #: seconds a hanging load may take at most (the flasher's own bound plus process clean-up)
    hang_bound_s = 5.0
    #: True when ``url`` may be None after a load (the flasher does not know the serial link)
    url_may_be_none = False
    #: True when the link carries the booted firmware's output (bytes arrive without asking)
    boots = False

    @pytest.fixture
    def flasher(self, tmp_path):
        raise NotImplementedError

    @pytest.fixture
    def good_image(self, tmp_path) -> Path:
        return write_elf(tmp_path / "good" / "firmware.elf")

    @pytest.fixture
    def garbage_image(self, tmp_path) -> Path:
        return write_elf(tmp_path / "garbage" / "firmware.elf", GARBAGE)

    @pytest.fixture
    def hanging(self, tmp_path):
        """(flasher, image): loading blocks longer than the flasher's bound."""
        raise NotImplementedError

    @pytest.fixture
    def failing(self, tmp_path):
        """(flasher, image): the device or tool reports a failure."""
        raise NotImplementedError

    # ---- the contract ----
    def test_is_a_flasher(self, flasher):
        assert isinstance(flasher, Flasher), f"{type(flasher).__name__} lacks part of Flasher (load, url, stop)"

    def test_url_after_load_is_opened_by_pyserial(self, flasher, good_image):
        flasher.load(good_image)
        url = flasher.url
        if url is None:
            assert self.url_may_be_none, f"{type(flasher).__name__}.url is None after load"
            return
        assert isinstance(url, str) and url.strip() == url and url
        link = serial.serial_for_url(url, timeout=0.2)
        try:
            assert link.is_open
            if self.boots:
                deadline, got = time.monotonic() + 15.0, b""
                while not got and time.monotonic() < deadline:
                    got = link.read(64)
                assert got, f"nothing arrived on {url} within 15 s of load"
        finally:
            link.close()

    def test_stop_twice_does_not_raise(self, flasher, good_image):
        flasher.stop()  # before any load
        flasher.stop()
        flasher.load(good_image)
        flasher.stop()
        flasher.stop()

    def test_missing_elf_is_a_one_line_flash_error(self, flasher, tmp_path):
        with pytest.raises(FlashError) as err:
            flasher.load(tmp_path / "never-built" / "firmware.elf")
        one_line(err)

    def test_garbage_elf_is_a_one_line_flash_error(self, flasher, garbage_image):
        with pytest.raises(FlashError) as err:
            flasher.load(garbage_image)
        one_line(err)

    def test_a_failing_device_is_a_one_line_flash_error(self, failing):
        flasher, image = failing
        with pytest.raises(FlashError) as err:
            flasher.load(image)
        one_line(err)

    def test_a_hang_ends_within_the_bound(self, hanging):
        flasher, image = hanging
        started = time.monotonic()
        with pytest.raises(FlashError) as err:
            flasher.load(image)
        elapsed = time.monotonic() - started
        assert elapsed < self.hang_bound_s, f"a hung load took {elapsed:.1f} s (bound {self.hang_bound_s} s)"
        one_line(err)


# ---- the in-memory fake ------------------------------------------------------------------------------------
class TestFakeFlasher(FlasherContract):
    hang_bound_s = 2.0

    @pytest.fixture
    def flasher(self):
        return FakeFlasher()

    @pytest.fixture
    def hanging(self, good_image):
        return FakeFlasher(hang_s=30.0, timeout_s=0.3), good_image

    @pytest.fixture
    def failing(self, good_image):
        return FakeFlasher(fail="flash verify failed at 0x08004000"), good_image

    def test_memory_holds_the_loaded_image(self, flasher, good_image):
        flasher.load(good_image)
        assert flasher.memory == good_image.read_bytes() and flasher.loads == 1


# ---- pyocd, through a fake probe API ------------------------------------------------------------------------
class TestPyocdFlasher(FlasherContract):
    """Board flashers do not open the port: ``url`` is the port given (a pseudo-terminal here)."""

    hang_bound_s = 2.0

    @pytest.fixture(autouse=True)
    def _pyocd(self):
        pytest.importorskip("pyocd.core.exceptions", reason="pyocd not installed (pip install -e '.[test]')")

    def make(self, port, api, timeout_s=5.0) -> PyocdFlasher:
        return PyocdFlasher(get_board("stm32f746"), NUCLEO_UID, port, timeout_s=timeout_s, api=api)

    @pytest.fixture
    def flasher(self, pty_port):
        return self.make(pty_port, FakePyocd())

    @pytest.fixture
    def hanging(self, pty_port, good_image):
        return self.make(pty_port, FakePyocd(hang_s=3.0), timeout_s=0.3), good_image

    @pytest.fixture
    def failing(self, pty_port, good_image):
        from pyocd.core.exceptions import FlashProgramFailure  # noqa: PLC0415

        error = FlashProgramFailure("flash verify failed at 0x08004000", address=0x08004000)
        return self.make(pty_port, FakePyocd(program_error=error)), good_image


# ---- esptool, through the replaying fake CLI -----------------------------------------------------------------
class TestEsptoolFlasher(FlasherContract):
    """esptool writes the ESP-IDF images built next to the ELF (bootloader.bin, partitions.bin, firmware.bin);
    its garbage case is a garbage ELF without them.  ``url`` is the port given (a pseudo-terminal here)."""

    hang_bound_s = 6.0

    @pytest.fixture(autouse=True)
    def _args_file(self, tmp_path, monkeypatch):
        monkeypatch.setenv("FAKE_ESPTOOL_ARGS", str(tmp_path / "esptool-args.txt"))

    def make(self, port, scenario, timeout_s=20.0) -> EsptoolFlasher:
        return EsptoolFlasher(get_board("esp32"), port, timeout_s=timeout_s,
                              command=[sys.executable, str(FAKES / "fake_esptool.py"), scenario])

    @pytest.fixture
    def good_image(self, tmp_path) -> Path:
        elf = write_elf(tmp_path / "good" / "firmware.elf")
        for name in ("bootloader.bin", "partitions.bin", "firmware.bin"):
            (elf.parent / name).write_bytes(b"\xe9" + bytes(15))
        return elf

    @pytest.fixture
    def flasher(self, pty_port):
        return self.make(pty_port, "ok")

    @pytest.fixture
    def hanging(self, pty_port, good_image):
        return self.make(pty_port, "hang", timeout_s=1.0), good_image

    @pytest.fixture
    def failing(self, pty_port, good_image):
        return self.make(pty_port, "no-sync"), good_image

    def test_missing_elf_beside_stale_images_is_a_flash_error(self, flasher, good_image):
        """Images left by an earlier build must not be flashed for an ELF that does not exist."""
        good_image.unlink()
        with pytest.raises(FlashError) as err:
            flasher.load(good_image)
        one_line(err)


# ---- the QEMU twin -------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def twin_elf(tmp_path_factory) -> Path:
    """targets/common built for the stm32f746 twin with the host port's fake model (as the twin protocol
    contract builds it)."""
    from harness.build import build_firmware  # noqa: PLC0415
    from hostdut import TARGETS  # noqa: PLC0415

    root = tmp_path_factory.mktemp("flasher_twin")
    model = root / "model"
    model.mkdir()
    for name in ("model.h", "model.c"):
        shutil.copy(TARGETS / "host" / name, model / name)
    return build_firmware(get_board("stm32f746").target(True), model, build_root=root,
                          defines={"TH_FAKE_INPUT_BYTES": 3000}).elf


@pytest.mark.emulator
class TestQemuTwin(FlasherContract):
    """The twin's url is QEMU's serial socket, None before load and after stop; its bound is
    ``start_timeout_s`` (the serial socket must open in time)."""

    hang_bound_s = 6.0
    boots = True

    def make(self, tmp_path, **kwargs) -> QemuTwin:
        return QemuTwin(get_board("stm32f746").target(True), log_dir=tmp_path / "qemu", **kwargs)

    @pytest.fixture
    def flasher(self, tmp_path):
        twin = self.make(tmp_path)
        yield twin
        twin.stop()

    @pytest.fixture
    def good_image(self, twin_elf) -> Path:
        return twin_elf

    @pytest.fixture
    def hanging(self, tmp_path, good_image, monkeypatch):
        """A qemu-system-arm that starts and never opens its serial socket."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "qemu-system-arm"
        fake.write_text("#!/bin/sh\nexec sleep 30\n")
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        twin = self.make(tmp_path, start_timeout_s=1.0)
        yield twin, good_image
        twin.stop()

    @pytest.fixture
    def failing(self, tmp_path, good_image):
        """QEMU itself refuses to start (an option it does not know)."""
        twin = self.make(tmp_path, extra_args=("-no-such-option",))
        yield twin, good_image
        twin.stop()

    def test_url_is_none_before_load_and_after_stop(self, flasher, good_image):
        assert flasher.url is None
        flasher.load(good_image)
        assert flasher.url.startswith("socket://127.0.0.1:")
        flasher.stop()
        assert flasher.url is None
