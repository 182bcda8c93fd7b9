"""Flashers against simulated probes: pyocd sessions that raise pyocd's own exceptions, and an esptool
subprocess that replays esptool's output.  Failure paths: no probe, probe busy, verify error, timeout;
several probes and none named; the right probe, image and reset on success."""

from __future__ import annotations

import struct
import sys
import time
from pathlib import Path

import pytest

from harness.boards import load_catalog
from harness.errors import FlashError, TransportError
from harness.flash.esptool_flasher import EsptoolFlasher
from harness.flash.probes import PortInfo, match, port_for_probe
from harness.flash.pyocd_flasher import ProbeInfo, PyocdFlasher, choose_probe
from fake_pyocd import NUCLEO_UID, FakePyocd  # tests/fakes

pyocd_exceptions = pytest.importorskip("pyocd.core.exceptions")

BOARDS = load_catalog()
FAKE_ESPTOOL = Path(__file__).resolve().parents[1] / "fakes" / "fake_esptool.py"
# an ELF32 header with no sections: enough for the flashers' check and the fake pyocd's ELF reader
MINI_ELF = (b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0, 0, 0, 0, 52, 32, 0, 40, 0, 0))


@pytest.fixture
def elf(tmp_path) -> Path:
    path = tmp_path / "firmware.elf"
    path.write_bytes(MINI_ELF)
    return path


def flasher(api, probe=None, board="stm32f746", timeout_s=5.0):
    return PyocdFlasher(BOARDS[board], probe, "/dev/ttyACM0", timeout_s=timeout_s, api=api)


def test_programs_through_the_named_probe_and_closes_the_session(elf):
    api = FakePyocd(probes=("A1", NUCLEO_UID))
    flasher(api, probe=NUCLEO_UID).load(elf)
    assert api.programmed == [(NUCLEO_UID, elf, elf.read_bytes())]
    assert all(s.closed for s in api.sessions)


def test_no_probe_attached(elf):
    with pytest.raises(FlashError, match=r"^no debug probe found for stm32f746; connect the board by USB"):
        flasher(FakePyocd(probes=())).load(elf)


def test_named_probe_absent(elf):
    with pytest.raises(FlashError, match=r"no debug probe with unique ID 0123 for stm32f746 \(attached: "
                                         + NUCLEO_UID + r"\)"):
        flasher(FakePyocd(), probe="0123").load(elf)


def test_two_identical_boards_are_never_guessed(elf):
    api = FakePyocd(probes=("AAA", "BBB"))
    with pytest.raises(FlashError, match=r"2 debug probes attached \(AAA, BBB\); choose the stm32f746 with --probe"):
        flasher(api).load(elf)
    assert api.sessions == []


def test_probe_busy(elf):
    busy = pyocd_exceptions.ProbeError("Unable to open device: [Errno 16] Resource busy")
    with pytest.raises(FlashError) as err:
        flasher(FakePyocd(open_error=busy)).load(elf)
    msg = str(err.value)
    assert msg.startswith(f"debug probe {NUCLEO_UID} for stm32f746 is busy or cannot be opened: Unable to open device")
    assert "close other debuggers" in msg and "\n" not in msg


def test_flash_verify_error(elf):
    failure = pyocd_exceptions.FlashProgramFailure("flash verify failed at 0x08004000", address=0x08004000)
    with pytest.raises(FlashError, match=r"flash verify/program failed on stm32f746 via probe .*: flash verify "
                                         r"failed at 0x08004000 \(address 0x08004000\); erase the chip \(`pyocd erase --chip -t stm32f746zg"):
        flasher(FakePyocd(program_error=failure)).load(elf)


def test_target_lost_during_transfer(elf):
    lost = pyocd_exceptions.TransferTimeoutError("SWD transfer timed out")
    with pytest.raises(FlashError, match="lost contact with the stm32f746 target: SWD transfer timed out"):
        flasher(FakePyocd(program_error=lost)).load(elf)


def test_a_hung_flash_ends_within_the_bound_with_the_probes_message(elf):
    api = FakePyocd(hang_s=3.0, log_line="STLink error (DP_WAIT): target not responding")
    started = time.monotonic()
    with pytest.raises(FlashError) as err:
        flasher(api, timeout_s=0.3).load(elf)
    assert time.monotonic() - started < 2.0
    assert str(err.value).startswith(f"flashing stm32f746 via probe {NUCLEO_UID} did not finish within 0.3 s "
                                     "(probe said: STLink error (DP_WAIT): target not responding)")
    assert api.sessions[0].closed


def test_missing_firmware_file(tmp_path):
    with pytest.raises(FlashError, match="does not exist; build it first"):
        flasher(FakePyocd()).load(tmp_path / "none.elf")


def test_choose_probe_picks_the_only_one():
    only = ProbeInfo("X1")
    assert choose_probe(BOARDS["rp2040"], [only], None) is only


# ---- esptool --------------------------------------------------------------------------------------------------
@pytest.fixture
def esp_elf(tmp_path) -> Path:
    for name in ("bootloader.bin", "partitions.bin", "firmware.bin"):
        (tmp_path / name).write_bytes(b"\0" * 16)
    (tmp_path / "firmware.elf").write_bytes(MINI_ELF)
    return tmp_path / "firmware.elf"


def esptool(scenario: str, timeout_s: float = 20.0) -> EsptoolFlasher:
    return EsptoolFlasher(BOARDS["esp32"], "/dev/ttyUSB0", timeout_s=timeout_s,
                          command=[sys.executable, str(FAKE_ESPTOOL), scenario])


def test_esptool_writes_the_three_images_and_resets(esp_elf, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_ESPTOOL_ARGS", str(tmp_path / "args.txt"))
    esptool("ok").load(esp_elf)
    args = (tmp_path / "args.txt").read_text().splitlines()
    assert args[:8] == ["--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800", "--before", "default_reset"]
    assert args[8:12] == ["--after", "hard_reset", "write_flash", "-z"]
    assert args[12:] == ["0x1000", str(esp_elf.parent / "bootloader.bin"), "0x8000",
                         str(esp_elf.parent / "partitions.bin"), "0x10000", str(esp_elf.parent / "firmware.bin")]


@pytest.mark.parametrize("scenario, expected", [
    ("busy", "esptool failed to flash esp32 on /dev/ttyUSB0: Could not open /dev/ttyUSB0, the port is busy or "
             "doesn't exist.; close other programs using the port"),
    ("no-sync", "esptool failed to flash esp32 on /dev/ttyUSB0: Failed to connect to ESP32: No serial data "
                "received.; hold the BOOT button"),
    ("md5", "esptool failed to flash esp32 on /dev/ttyUSB0: MD5 of file does not match data in flash!; the flash "
            "content did not verify"),
])
def test_esptool_failures_are_one_line_with_the_fix(esp_elf, scenario, expected):
    with pytest.raises(FlashError) as err:
        esptool(scenario).load(esp_elf)
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_esptool_hang_is_killed_within_the_bound(esp_elf):
    started = time.monotonic()
    with pytest.raises(FlashError, match=r"esptool did not finish flashing esp32 on /dev/ttyUSB0 within 1 s "
                                         r"\(esptool said: Writing at 0x00010000\.\.\. \(6 %\)\)"):
        esptool("hang", timeout_s=1.0).load(esp_elf)
    assert time.monotonic() - started < 10


def test_esptool_needs_the_built_images(tmp_path):
    (tmp_path / "firmware.elf").write_bytes(MINI_ELF)
    with pytest.raises(FlashError, match="bootloader.bin does not exist; build the ESP32 firmware"):
        esptool("ok").load(tmp_path / "firmware.elf")


def test_esptool_needs_a_port():
    with pytest.raises(FlashError, match="esptool needs the serial port of the esp32; pass --port"):
        EsptoolFlasher(BOARDS["esp32"], None)


# ---- probes and ports ---------------------------------------------------------------------------------------
def test_probes_and_ports_are_paired_by_usb_serial_number_and_matched_to_boards():
    probes = [ProbeInfo(NUCLEO_UID, "STMicroelectronics", "STM32 STLink", board="NUCLEO-F746ZG",
                        target="stm32f746zg"),
              ProbeInfo("E6614103E7"),  # a Debug Probe: pyocd has no board ID for it
              ]
    ports = [PortInfo("/dev/ttyACM0", "0483:374B", NUCLEO_UID), PortInfo("/dev/ttyACM1", "2E8A:000C", "E6614103E7"),
             PortInfo("/dev/ttyUSB0", "10C4:EA60", "0001"), PortInfo("/dev/ttyS0")]
    rows = match(probes, ports, BOARDS)
    assert [(r.probe and r.probe.unique_id, r.port and r.port.device, r.boards) for r in rows] == [
        (NUCLEO_UID, "/dev/ttyACM0", ("stm32f746",)),
        ("E6614103E7", "/dev/ttyACM1", ("rp2040",)),
        (None, "/dev/ttyUSB0", ("esp32",)),
        (None, "/dev/ttyS0", ()),
    ]
    assert port_for_probe(NUCLEO_UID, ports) == "/dev/ttyACM0" and port_for_probe("nope", ports) is None


def test_flasher_for_a_board_needs_a_port_it_can_find(monkeypatch):
    from harness.flash import flasher_for
    from harness.flash.qemu import QemuTwin

    monkeypatch.setattr("harness.flash.probes.list_ports", lambda: [PortInfo("/dev/ttyACM3", "0483:374B", "U1")])
    assert flasher_for(BOARDS["stm32f746"].target(False, probe="U1")).url == "/dev/ttyACM3"
    with pytest.raises(TransportError, match="no serial port for nrf52840; pass --port"):
        flasher_for(BOARDS["nrf52840"].target(False, probe="other"))
    assert isinstance(flasher_for(BOARDS["esp32"].target(False, port="/dev/ttyUSB0")), EsptoolFlasher)
    assert isinstance(flasher_for(BOARDS["rp2040"].target(True)), QemuTwin)
