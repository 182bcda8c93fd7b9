"""Build stage without building: linker-script rendering, recipes from boards.yaml, ld overflow parsing,
and the flashers' error paths that need no hardware."""

from __future__ import annotations

import re
import shutil
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from harness.boards import load_catalog
from harness.build import (
    FirmwareImage,
    first_error_line,
    make_recipe,
    parse_link_overflow,
    render_linker_script,
)
from harness.errors import BuildError, CatalogError, FlashError, MemoryOverflowError, TinyhilError
from harness.target import TargetKind

BOARDS = load_catalog()
CORTEX_M = [name for name, b in BOARDS.items() if b.arch.startswith("armv")]

LD_FLASH_OVERFLOW = """\
Linking .pio/build/stm32f746_twin/firmware.elf
/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: .pio/build/stm32f746_twin/firmware.elf section `.text' will not fit in region `FLASH'
/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: region `FLASH' overflowed by 1052712 bytes
collect2: error: ld returned 1 exit status
"""
LD_RAM_OVERFLOW = "ld: firmware.elf section `.stack' will not fit in region `RAM'\nld: region `RAM' overflowed by 81928 bytes\n"


def test_overflow_parsed_from_gnu_ld_output():
    assert parse_link_overflow(LD_FLASH_OVERFLOW) == ("FLASH", 1052712)
    assert parse_link_overflow(LD_RAM_OVERFLOW) == ("RAM", 81928)
    assert parse_link_overflow("Linking firmware.elf\n[SUCCESS]\n") is None


def test_overflow_error_message_is_one_line_with_the_fix():
    err = MemoryOverflowError("stm32f746", *parse_link_overflow(LD_FLASH_OVERFLOW))
    assert isinstance(err, BuildError) and isinstance(err, TinyhilError)
    assert (err.board, err.region, err.overflow_bytes) == ("stm32f746", "FLASH", 1052712)
    assert "\n" not in str(err) and "smaller model" in str(err)


def test_first_error_line_finds_the_compiler_error():
    log = "Compiling a.o\nsrc/a.c:3:5: error: 'x' undeclared\nmore\n*** [a.o] Error 1\n"
    assert first_error_line(log) == "src/a.c:3:5: error: 'x' undeclared"
    assert first_error_line("all good\n") == ""


@pytest.mark.parametrize("name", CORTEX_M)
@pytest.mark.parametrize("twin", [False, True])
def test_linker_script_uses_board_sizes_and_origins(name, twin):
    board = BOARDS[name]
    text = render_linker_script(board.target(twin), stack_bytes=4096, heap_bytes=512)
    origin = board.twin if twin else board.memory
    assert f"ORIGIN = 0x{origin.flash_origin:08X}, LENGTH = {board.flash_bytes}" in text
    assert f"ORIGIN = 0x{origin.ram_origin:08X}, LENGTH = {board.ram_bytes}" in text
    assert "__stack_size = 4096;" in text and "__heap_size = 512;" in text
    # stack and heap are sections placed in RAM, so they count against the board's RAM at link time
    for section in (".heap", ".stack"):
        assert re.search(re.escape(section) + r" \(NOLOAD\) :\s*\{[^}]*\}\s*> RAM", text)
    assert "$" not in text  # every placeholder filled


def test_rp2040_twin_keeps_real_board_sizes():
    board = BOARDS["rp2040"]
    twin_text = render_linker_script(board.target(True))
    real_text = render_linker_script(board.target(False))
    assert "ORIGIN = 0x00000000, LENGTH = 2097152" in twin_text
    assert "ORIGIN = 0x10000000, LENGTH = 2097152" in real_text
    assert "LENGTH = 270336" in twin_text and "LENGTH = 270336" in real_text


def test_recipe_flags_come_from_boards_yaml(tmp_path):
    rp = make_recipe(BOARDS["rp2040"].target(True), tmp_path)
    assert rp.cflags[:3] == ("-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft")
    for flag in ("-O2", "-ffunction-sections", "-fdata-sections", "-ffp-contract=off", "-std=c99"):
        assert flag in rp.cflags
    assert {"-Wl,--gc-sections", "--specs=nano.specs"} <= set(rp.linkflags)
    assert rp.cppdefines["TH_BOARD_NAME"] == '"rp2040"' and rp.cppdefines["TH_TARGET_KIND"] == '"twin"'
    assert "TH_TWIN" not in rp.cppdefines
    assert rp.source_dirs["port"].endswith("targets/boards/mps2")
    assert rp.source_dirs["model"] == str(tmp_path.resolve())
    m7 = make_recipe(BOARDS["stm32f746"].target(True), tmp_path, defines={"TH_PROFILE_OPS": None, "X": 3})
    assert "-mfpu=fpv5-sp-d16" in m7.cflags and "-mfloat-abi=hard" in m7.cflags
    assert m7.cppdefines["TH_PROFILE_OPS"] == "" and m7.cppdefines["X"] == "3"
    assert "-DTH_PROFILE_OPS" in m7.flags() and m7.flags().count("-mcpu=cortex-m7") == 1


def test_recipe_refuses_missing_dirs_and_missing_twins(tmp_path):
    with pytest.raises(BuildError, match="model directory .* does not exist"):
        make_recipe(BOARDS["stm32f746"].target(True), tmp_path / "nope")
    with pytest.raises(CatalogError, match="no emulated twin"):
        BOARDS["esp32"].target(True)
    assert BOARDS["nrf52840"].target(True).port_dir == "mps2"
    assert BOARDS["nrf52840"].target(False).port_dir == "nrf52840"
    assert make_recipe(BOARDS["nrf52840"].target(False), tmp_path).cppdefines["TH_TARGET_KIND"] == '"board"'


def test_firmware_image_is_frozen(tmp_path):
    img = FirmwareImage(elf=tmp_path / "f.elf", sha256="0" * 64, board="stm32f746", kind=TargetKind.TWIN,
                        sizes={"text": 1}, build_log=tmp_path / "build.log", compiler_version="gcc",
                        flags=("-O2",))
    with pytest.raises(FrozenInstanceError):
        img.kind = TargetKind.BOARD  # type: ignore[misc]
    assert img.describe()["elf"] == str(tmp_path / "f.elf") and img.describe()["kind"] == "twin"


def test_qemu_missing_is_a_flash_error_naming_the_package(tmp_path, monkeypatch):
    from harness.flash.qemu import QemuTwin

    monkeypatch.setenv("PATH", str(tmp_path))
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(FlashError, match="apt-get install qemu-system-arm"):
        with QemuTwin(BOARDS["stm32f746"].target(True), elf, log_dir=tmp_path):
            pass


def test_qemu_twin_refuses_a_board_target(tmp_path):
    from harness.flash.qemu import QemuTwin

    with pytest.raises(FlashError, match="flashed with pyocd, not started in QEMU"):
        QemuTwin(BOARDS["stm32f746"].target(False), tmp_path / "fw.elf")


def test_pyocd_without_probe_or_pack(tmp_path):
    pytest.importorskip("pyocd")
    from harness.flash.pyocd_flasher import PyocdFlasher

    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    with pytest.raises(FlashError, match="no debug probe found for nrf52840"):
        PyocdFlasher(BOARDS["nrf52840"]).load(elf)
    with pytest.raises(FlashError, match="pyocd pack install stm32f746zg"):
        PyocdFlasher(BOARDS["stm32f746"]).load(elf)
    with pytest.raises(FlashError, match="esptool"):
        PyocdFlasher(BOARDS["esp32"])


@pytest.mark.arm_toolchain
def test_pio_setup_is_idempotent(tmp_path):
    from harness.pio_setup import ensure_pio

    first = ensure_pio(tmp_path / "core", tmp_path / "tc")
    stamp = (tmp_path / "core" / "packages" / "tool-scons" / ".piopm").stat().st_mtime_ns
    second = ensure_pio(tmp_path / "core", tmp_path / "tc")
    assert first == second
    assert (tmp_path / "core" / "packages" / "tool-scons" / ".piopm").stat().st_mtime_ns == stamp
    assert (tmp_path / "tc" / "bin" / "arm-none-eabi-gcc").resolve() == Path(shutil.which("arm-none-eabi-gcc")).resolve()
    assert '"owner": "platformio"' in (tmp_path / "core" / "packages" / "tool-scons" / ".piopm").read_text()
