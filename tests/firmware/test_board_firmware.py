"""Real-board firmware, built offline in CI (it cannot run here): the same PlatformIO project-local platform
as the twins, with each board's own port, startup and memory map.  Checked from the ELF: where the vector
table sits, that the reset vector points into the image, the RP2040 boot2 and its CRC, the cycle-counting
timer unit, the board's clock and UART code linked in, and memory within the real board's limits.
ESP32: Espressif's Xtensa LX6 toolchain is absent here (skip with the reason); its kernels are still compiled
with the Xtensa lx106 compiler (or the host compiler) as a portability check.
"""

from __future__ import annotations

import importlib.util
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from harness.boards import get_board
from harness.build import build_firmware
from harness.codegen.compiler import compile_model
from harness.errors import MemoryOverflowError, ToolchainMissingError
from tests.conftest import require_shared, shared_path

REPO = Path(__file__).resolve().parents[2]
ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
SMALL = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"
ARM = pytest.mark.arm_toolchain

# board -> (model, vector table address)
REAL = {"stm32f746": (ACDNET, 0x08000000), "nrf52840": (SMALL, 0x00000000), "rp2040": (SMALL, 0x10000100)}
PORT_FUNCTIONS = ("th_port_init", "th_port_getc", "th_port_write", "th_port_timer_read", "Fault_Handler")


def _load_boot2_tool():
    spec = importlib.util.spec_from_file_location("make_rp2040_boot2", REPO / "scripts" / "make_rp2040_boot2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fw")


def build(board: str, model: Path, root: Path):
    compiled = compile_model(model)
    return compiled, build_firmware(get_board(board).target(False),
                                    compiled.write(root / "models" / compiled.sha256[:16]), build_root=root)


@ARM
@pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")
@pytest.mark.timeout(3600)  # a cold machine compiles the TFLM library of each core first
@pytest.mark.parametrize("name", list(REAL))
def test_real_board_firmware_builds_with_tflm_and_cmsis_nn(name, build_root, monkeypatch):
    """The deployment stack users ship, for the real boards: TFLM + CMSIS-NN with each board's own port."""
    from harness.backends import Backend
    from harness.orchestrate import BuildOptions, prepare

    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(shared_path()))
    board = get_board(name)
    fw = prepare(SMALL, board.target(False), BuildOptions(backend=Backend.TFLM_CMSIS_NN), build_root=build_root)
    assert fw.image.kind.value == "board" and fw.image.env == name and fw.backend is Backend.TFLM_CMSIS_NN
    assert fw.image.sizes["flash"] <= board.flash_bytes and fw.arena_bytes < fw.image.sizes["ram"] <= board.ram_bytes
    with open(fw.elf, "rb") as fh:
        syms = {s.name for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}
    assert {"th_model_init", "th_port_init", "arm_convolve_s8"} <= syms
    assert any("MicroInterpreter" in s for s in syms)


@ARM
@pytest.mark.parametrize("name", list(REAL))
def test_real_board_firmware_builds_with_its_own_port(name, build_root):
    model, vectors = REAL[name]
    if model == ACDNET:
        require_shared(f"models/{ACDNET.name}")
    board = get_board(name)
    compiled, image = build(name, model, build_root)
    assert image.kind.value == "board" and image.env == name and image.board == name
    assert compiled.plan.arena_bytes < image.sizes["ram"] <= board.ram_bytes
    assert image.sizes["flash"] <= board.flash_bytes
    assert f"-mcpu={board.compiler.cpu}" in image.flags
    with open(image.elf, "rb") as fh:
        elf = ELFFile(fh)
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        assert syms["th_vectors"] == vectors
        for sym in PORT_FUNCTIONS:
            assert sym in syms, sym
        flash_end = board.memory.flash_origin + board.flash_bytes
        stack_top, reset = struct.unpack("<II", _read(elf, vectors, 8))
        assert stack_top == syms["__stack_top"] <= board.memory.ram_origin + board.ram_bytes
        assert reset & 1 and board.memory.flash_origin <= (reset & ~1) < flash_end
        assert reset & ~1 == syms["Reset_Handler"] & ~1
        systick = struct.unpack("<I", _read(elf, vectors + 15 * 4, 4))[0]
        if name == "rp2040":  # SysTick counts 2^24-cycle periods of the cycle timer (the M0+ has no DWT)
            assert systick & ~1 == syms["th_systick_handler"] & ~1
        rodata = b"".join(s.data() for s in elf.iter_sections() if s.name in (".text", ".rodata"))
        assert b"cycles\0" in rodata and b"twin\0" not in rodata and b"instructions\0" not in rodata
        assert not any(s.name.startswith(".semihost") for s in elf.iter_sections())


@ARM
def test_rp2040_image_starts_with_our_boot2_and_a_valid_crc(build_root):
    _, image = build("rp2040", SMALL, build_root)
    tool = _load_boot2_tool()
    with open(image.elf, "rb") as fh:
        boot2 = _read(ELFFile(fh), 0x10000000, 256)
    assert tool.crc32_mpeg2(boot2[:252]) == int.from_bytes(boot2[252:], "little")
    assert tool.crc32_mpeg2(b"123456789") == 0x0376E6E7  # the CRC-32/MPEG-2 check value
    assert boot2 == tool.assemble()  # the committed boot2_image.c is the assembled boot2.S


@ARM
@pytest.mark.parametrize("name", ["nrf52840", "rp2040"])
def test_acdnet20_links_for_the_small_boards_and_tflm_is_refused_by_region(name, build_root, monkeypatch):
    """With conv + pool fusion ACDNet-20's arena is under 100 KB: it links for the 256/264 KB boards.  TFLM +
    CMSIS-NN (309 KB arena) still does not fit, and the linker's refusal names the region and the overflow."""
    require_shared(f"models/{ACDNET.name}")  # one relative path (two parts would be two paths)
    compiled, image = build(name, ACDNET, build_root)
    board = get_board(name)
    assert compiled.plan.arena_bytes < 100_000 and compiled.plan.arena_bytes < image.sizes["ram"] <= board.ram_bytes
    assert image.sizes["flash"] <= board.flash_bytes
    require_shared("third_party/tflm/tflm-cmsis-nn")
    from harness.backends import Backend
    from harness.orchestrate import BuildOptions, prepare

    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(shared_path()))
    with pytest.raises(MemoryOverflowError) as err:
        prepare(ACDNET, board.target(False), BuildOptions(backend=Backend.TFLM_CMSIS_NN), build_root=build_root)
    assert err.value.region == "RAM" and err.value.board == name and err.value.overflow_bytes > 0


def test_esp32_firmware_needs_espressifs_toolchain(build_root):
    try:
        build("esp32", SMALL, build_root)
    except ToolchainMissingError as exc:
        assert "\n" not in str(exc)
        pytest.skip(str(exc))
    pytest.fail("ESP32 firmware built: Espressif's toolchain is installed; extend this test to check the image")


COMPILERS = [("xtensa-lx106-elf-gcc", ["-mlongcalls", "-specs={picolibc}"]), ("cc", [])]


@pytest.mark.parametrize("cc, extra", COMPILERS, ids=["xtensa-lx106", "host"])
def test_kernels_and_protocol_compile_for_other_cores(cc, extra, tmp_path):
    """Portability: the kernels, the protocol and a generated model compile warning-free with -Werror for a
    core without the Arm DSP extension (Xtensa, as on the ESP32) and for the host."""
    if not shutil.which(cc):
        pytest.skip(f"{cc} not installed (apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)")
    if cc.startswith("xtensa"):
        specs = Path(shutil.which(cc)).resolve().parents[1] / "lib" / "xtensa-lx106-elf" / "picolibc.specs"  # Debian
        extra = [e.format(picolibc=specs) for e in extra]
    model_dir = compile_model(SMALL).write(tmp_path / "model")
    sources = [*sorted((REPO / "targets" / "kernels").glob("*.c")),
               *sorted((REPO / "targets" / "common").glob("th_*.c")), model_dir / "model.c"]
    includes = [f"-I{d}" for d in (model_dir, REPO / "targets" / "common", REPO / "targets" / "kernels")]
    for src in sources:
        proc = subprocess.run([cc, *extra, "-std=c99", "-O2", "-Wall", "-Werror", "-ffp-contract=off", *includes,
                               '-DTH_BOARD_NAME="x"', '-DTH_TARGET_KIND="board"',
                               "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{cc} {src.name}: {proc.stderr[-1500:]}"


def _read(elf: ELFFile, address: int, size: int) -> bytes:
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] <= address < seg["p_paddr"] + seg["p_filesz"]:
            off = address - seg["p_paddr"]
            return seg.data()[off:off + size]
    raise AssertionError(f"0x{address:08x} is not in a loaded segment")
