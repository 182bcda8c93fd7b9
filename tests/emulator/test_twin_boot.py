"""Twins end to end: a real offline PlatformIO build, QEMU boot, serial over TCP, exact instruction counts.

The firmware is tests/emulator/app/main.c (ready line, echo, spin-loop measurements, a fault) linked with the
board port and a trivial generated model directory.  Measured on QEMU 7.2: region count = 2 n + K exactly
(K = 30 on the M7/M4 twins, 33 on the M0+ build), identical from run to run and across the counter's 32-bit wrap.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import serial

from harness.boards import get_board
from harness.build import build_firmware
from harness.errors import MemoryOverflowError
from harness.flash.qemu import EXIT_FAULT, QemuTwin

pytestmark = pytest.mark.emulator

APP = Path(__file__).resolve().parent / "app"
TWINS = ["stm32f746", "nrf52840", "rp2040"]
MODEL_H = """\
#ifndef MODEL_H
#define MODEL_H
#include <stdint.h>
#define TH_MODEL_ARENA_BYTES 16
#define TH_MODEL_NUM_OPERATORS 0
#define TH_MODEL_INPUT_BYTES 4
#define TH_MODEL_OUTPUT_BYTES 4
extern uint8_t *const th_model_input;
extern const uint8_t *const th_model_output;
void th_model_invoke(void);
extern const char *const th_model_name;
extern const char *const th_model_operator_names[];
#endif
"""
MODEL_C = """\
#include "model.h"
static uint8_t arena[TH_MODEL_ARENA_BYTES];
uint8_t *const th_model_input = arena;
const uint8_t *const th_model_output = arena + 4;
void th_model_invoke(void) {}
%s
const char *const th_model_name = %s;
const char *const th_model_operator_names[] = {0};
"""
# The name the app prints points into the big array, so --gc-sections keeps it.
BIG_FLASH = ("const uint8_t th_big[2 * 1024 * 1024] = {1};", "(const char *)th_big")
BIG_RAM = ("uint8_t th_big[300 * 1024];", "(const char *)th_big")


def write_model(d: Path, name: str, big: tuple[str, str] | None = None) -> Path:
    """A trivial generated-model directory; ``big`` = (array definition, name expression) to bloat it."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.h").write_text(MODEL_H)
    (d / "model.c").write_text(MODEL_C % big if big else MODEL_C % ("", f'"{name}"'))
    return d


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="module")
def images(build_root):
    model = write_model(build_root / "model-empty", "empty")
    return {name: build_firmware(get_board(name).target(True), model, build_root=build_root, app_dir=APP)
            for name in TWINS}


def run_commands(board_name: str, elf: Path, commands: bytes, log_dir: Path, timeout: float = 60.0):
    """Boot the twin, send ``commands`` one by one (waiting for each reply), return (ready line, lines, exit)."""
    lines: list[str] = []
    with QemuTwin(get_board(board_name).target(True), elf, log_dir=log_dir) as twin:
        link = serial.serial_for_url(twin.url, timeout=timeout)
        try:
            ready = link.readline().decode()
            for c in commands:
                link.write(bytes([c]))
                if c in b"mw":
                    while not (line := link.readline().decode()).startswith("DONE"):
                        assert line, f"twin went silent after {lines[-3:]}"
                        lines.append(line.strip())
                elif c == ord("f"):
                    lines.append(link.readline().decode().strip())  # blank line of the fault report
                    lines.append(link.readline().decode().strip())
            code = twin.wait(timeout)
        finally:
            link.close()
    return ready.strip(), lines, code


@pytest.mark.parametrize("name", TWINS)
def test_twin_boots_and_answers(images, name, tmp_path):
    image = images[name]
    assert image.kind.value == "twin" and image.board == name and image.elf.is_file()
    assert 0 < image.sizes["text"] < 64 * 1024 and image.sizes["stack"] == 8192
    with QemuTwin(get_board(name).target(True), image.elf, log_dir=tmp_path) as twin:
        assert twin.url.startswith("socket://127.0.0.1:")
        link = serial.serial_for_url(twin.url, timeout=10)
        ready = link.readline().decode()
        assert re.match(rf"TH-READY board={name} kind=twin unit=instructions model=empty t=\d+", ready), ready
        started = time.monotonic()
        link.write(b"ez")  # echo one byte: host -> twin -> host
        assert link.read(1) == b"z"
        assert time.monotonic() - started < 0.5  # the first byte is not held back by QEMU's 1 s re-poll
        link.write(b"q")
        assert twin.wait(10) == 0
        link.close()


@pytest.mark.parametrize("name", TWINS)
def test_instruction_counts_are_exact_and_repeatable(images, name, tmp_path):
    runs = [run_commands(name, images[name].elf, b"mmq", tmp_path / str(i)) for i in range(2)]
    assert runs[0] == runs[1]  # identical run to run, ready-line timestamp included
    ready, lines, code = runs[0]
    assert code == 0
    counts = [tuple(int(v) for v in re.findall(r"=(\d+)", line)) for line in lines]
    overhead = {count - 2 * n for n, count in counts}  # spin(n) executes exactly 2 n instructions
    assert len(overhead) == 1, counts
    assert 10 <= overhead.pop() <= 60


def test_count_survives_the_32_bit_counter_wrap(images, tmp_path):
    """The FPGAIO counter wraps after 2^32 ticks = 2,684,354,560 instructions; the 64-bit extension holds."""
    ready, lines, code = run_commands("stm32f746", images["stm32f746"].elf, b"mwq", tmp_path, timeout=120)
    counts = {line.split()[0]: tuple(int(v) for v in re.findall(r"=(\d+)", line)) for line in lines}
    k = counts["SPIN"][1] - 2 * counts["SPIN"][0]
    n_pre, c_pre = counts["PRE"]
    n_wrap, c_wrap = counts["WRAP"]
    assert c_pre == 2 * n_pre + k and c_wrap == 2 * n_wrap + k
    assert int(lines[-1].split("=")[1]) > 2**32 * 5 // 8  # the final timestamp is past the wrap


def test_fault_is_reported_and_exits_qemu(images, tmp_path):
    ready, lines, code = run_commands("rp2040", images["rp2040"].elf, b"f", tmp_path)
    assert code == EXIT_FAULT
    assert re.match(r"TH-FAULT exception=00000003 pc=[0-9a-f]{8}", lines[-1]), lines


def test_rebuild_is_cached(images, build_root):
    started = time.monotonic()
    again = build_firmware(get_board("stm32f746").target(True), build_root / "model-empty", build_root=build_root,
                           app_dir=APP)
    assert again.elf == images["stm32f746"].elf and again.sha256 == images["stm32f746"].sha256
    assert time.monotonic() - started < 1.0  # inputs unchanged: PlatformIO is not even started


def test_qemu_is_killed_on_error(images, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with QemuTwin(get_board("stm32f746").target(True), images["stm32f746"].elf, log_dir=tmp_path) as twin:
            proc = twin._proc
            raise KeyboardInterrupt
    assert proc.poll() is not None


def test_too_big_model_fails_at_link_time_naming_flash(build_root):
    model = write_model(build_root / "model-big", "big", BIG_FLASH)
    with pytest.raises(MemoryOverflowError) as info:
        build_firmware(get_board("stm32f746").target(True), model, build_root=build_root, app_dir=APP)
    assert info.value.region == "FLASH" and info.value.board == "stm32f746"
    assert 1_000_000 < info.value.overflow_bytes < 1_100_000  # 2 MiB of constants in a 1 MiB flash


def test_ram_hungry_model_fails_naming_ram(build_root):
    model = write_model(build_root / "model-ram", "ram", BIG_RAM)
    with pytest.raises(MemoryOverflowError) as info:  # 300 KiB + 8 KiB stack + heap > nrf52840's 256 KiB
        build_firmware(get_board("nrf52840").target(True), model, build_root=build_root, app_dir=APP)
    assert info.value.region == "RAM"
