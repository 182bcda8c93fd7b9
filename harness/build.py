"""Stage 2: generated model C + firmware sources -> a firmware ELF, built by PlatformIO offline.

:func:`build_firmware` writes a *recipe* (flags, sources, a linker script rendered from boards.yaml) into a
build directory keyed by (model contents, target, options), runs ``pio run -e <env>`` on the repository's
platformio.ini with that recipe, and returns a frozen :class:`FirmwareImage`.  The project-local platform in
``targets/platformio/platform`` applies the recipe; boards.yaml stays the only source of flags and sizes.

Errors: :class:`~harness.errors.BuildError` (compiler or PlatformIO failure, one line naming the log),
:class:`~harness.errors.MemoryOverflowError` (the linker found a region of the board too small).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Template

from harness.boards import Board
from harness.target import Target, TargetKind
from harness.errors import BuildError, MemoryOverflowError, ToolchainMissingError

REPO = Path(__file__).resolve().parent.parent
TARGETS = REPO / "targets"
LDSCRIPT_TEMPLATE = TARGETS / "boards" / "cortex-m.ld.in"
DEFAULT_STACK_BYTES = 8 * 1024
DEFAULT_HEAP_BYTES = 2 * 1024
OPT_FLAGS = ("-O2", "-ffunction-sections", "-fdata-sections", "-ffp-contract=off", "-std=c99", "-Wall")
LINK_FLAGS = ("-Wl,--gc-sections", "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs")
RECIPE_ENV = "TINYHIL_RECIPE"  # builder/main.py reads the recipe path from here
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


@dataclass(frozen=True)
class FirmwareImage:
    """A built firmware. ``sizes`` in bytes: text, data, bss, heap, stack, flash (text+data), ram (the rest);
    ``kind``: built for the real board or its twin."""

    elf: Path
    sha256: str
    board: str
    kind: TargetKind
    sizes: dict[str, int]
    build_log: Path
    compiler_version: str
    flags: tuple[str, ...]
    env: str = ""

    def describe(self) -> dict:
        """JSON-ready summary for run manifests (paths as strings)."""
        return {"elf": str(self.elf), "sha256": self.sha256, "board": self.board, "kind": self.kind.value,
                "platformio_env": self.env, "sizes": dict(self.sizes), "compiler": self.compiler_version,
                "flags": list(self.flags), "build_log": str(self.build_log)}


@dataclass(frozen=True)
class BackendSources:
    """What a deployment backend other than tinyhil's own code adds to a firmware: source directories that
    replace ``targets/kernels`` (``{"tflm": "targets/tflm"}``), include directories, ``-D`` defines, C++ flags and
    prebuilt static libraries (paths), e.g. TFLM's (harness/backends/tflm_lib.py)."""

    source_dirs: dict[str, str]
    include_dirs: tuple[str, ...] = ()
    cppdefines: dict[str, str] = field(default_factory=dict)
    cxxflags: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    """Everything the PlatformIO builder needs, as data: flags, include dirs, source dirs, linker script."""

    board: str
    kind: str
    cflags: tuple[str, ...]
    linkflags: tuple[str, ...]
    cppdefines: dict[str, str] = field(default_factory=dict)
    include_dirs: tuple[str, ...] = ()
    source_dirs: dict[str, str] = field(default_factory=dict)  # variant name -> directory of *.c / *.cc / *.S
    ldscript: str = ""
    cxxflags: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()  # static libraries (paths) linked after the objects

    def flags(self) -> tuple[str, ...]:
        """The compile and link flags plus -D defines, as recorded in FirmwareImage.flags."""
        defines = tuple(f"-D{k}={v}" if v != "" else f"-D{k}" for k, v in sorted(self.cppdefines.items()))
        return tuple(dict.fromkeys(self.cflags + defines + self.linkflags))  # machine flags once


def render_linker_script(target: Target, *, stack_bytes: int = DEFAULT_STACK_BYTES,
                         heap_bytes: int = DEFAULT_HEAP_BYTES) -> str:
    """The GNU ld script for ``target``: FLASH/RAM lengths are the board's flash_bytes/ram_bytes on both kinds,
    origins the target's ``flash_origin``/``ram_origin``; stack and heap (bytes) are sections inside RAM, so
    firmware that does not fit fails to link."""
    board = target.board
    return Template(LDSCRIPT_TEMPLATE.read_text()).substitute(
        board=board.name, target_kind=target.kind.value,
        flash_origin=f"0x{target.flash_origin:08X}", flash_bytes=board.flash_bytes,
        ram_origin=f"0x{target.ram_origin:08X}", ram_bytes=board.ram_bytes,
        stack_bytes=stack_bytes, heap_bytes=heap_bytes)


def make_recipe(target: Target, model_dir: Path, *, app_dir: Path | None = None,
                defines: dict | None = None, stack_bytes: int = DEFAULT_STACK_BYTES,
                heap_bytes: int = DEFAULT_HEAP_BYTES, backend: BackendSources | None = None) -> Recipe:
    """The recipe for one firmware: targets/common (or ``app_dir``), targets/kernels (or the ``backend``'s
    sources and libraries), the board port, the model.

    ``defines`` become -D flags (value None or "" for a bare -D); ``TH_BOARD_NAME`` and ``TH_TARGET_KIND``
    (C strings), ``TH_RAM_FOR_DATA_BYTES`` (board RAM less stack and heap) and ``TH_BAUD`` (boards.yaml
    ``serial.baudrate``, the UART rate of the board ports) are always defined.
    Raises BuildError if a directory is missing.
    """
    board = target.board
    port_dir = TARGETS / "boards" / target.port_dir
    app_dir = Path(app_dir).resolve() if app_dir else TARGETS / "common"
    model_dir = Path(model_dir).resolve()
    for what, d in (("model", model_dir), ("application", app_dir), ("board port", port_dir)):
        if not Path(d).is_dir():
            raise BuildError(f"{what} directory {d} does not exist; generate the model first or fix the path")
    cppdefines = {"TH_BOARD_NAME": f'"{board.name}"', "TH_TARGET_KIND": f'"{target.kind.value}"',
                  # RAM left for static data (the TFLM seam keeps a copy of the input only if it fits)
                  "TH_RAM_FOR_DATA_BYTES": str(board.ram_bytes - stack_bytes - heap_bytes),
                  "TH_BAUD": str(board.serial.baudrate)}  # the board port's UART rate (boards.yaml serial.baudrate)
    cppdefines.update(backend.cppdefines if backend else {})
    cppdefines.update({k: "" if v is None else str(v) for k, v in (defines or {}).items()})
    kernels = backend.source_dirs if backend else {"kernels": str(TARGETS / "kernels")}
    arm = board.arch.startswith("armv")  # others (esp32) take flags and linker script from their platform
    machine = tuple(board.compiler.flags()) if arm else ()
    return Recipe(
        board=board.name, kind=target.kind.value,
        cflags=machine + OPT_FLAGS,
        linkflags=machine + LINK_FLAGS if arm else (),
        cppdefines=cppdefines,
        include_dirs=tuple(str(p) for p in (Path(model_dir), app_dir, TARGETS / "common", TARGETS / "kernels",
                                             port_dir)) + (backend.include_dirs if backend else ()),
        source_dirs={"app": str(app_dir), **kernels, "port": str(port_dir), "model": str(Path(model_dir))},
        cxxflags=backend.cxxflags if backend else (),
        libs=tuple(str(p) for p in backend.libs) if backend else (),
        ldscript=render_linker_script(target, stack_bytes=stack_bytes, heap_bytes=heap_bytes) if arm else "",
    )


def check_toolchain(board: Board, core_dir: Path | None = None) -> None:
    """Raise ToolchainMissingError (one line) when ``board`` needs a toolchain this machine lacks.

    Arm boards and twins build with the host's arm-none-eabi-gcc (checked by pio_setup).  Other boards (ESP32)
    build through their PlatformIO registry platform, which must already be in tinyhil's PlatformIO core, or
    be allowed to download (``TINYHIL_PIO_ONLINE=1`` on a connected machine).
    """
    if board.arch.startswith("armv") or os.environ.get("TINYHIL_PIO_ONLINE") == "1":
        return
    from harness.pio_setup import CORE_DIR  # noqa: PLC0415

    platform = {"xtensa": "espressif32"}.get(board.arch, board.arch)
    if not (Path(core_dir or CORE_DIR) / "platforms" / platform).is_dir():
        raise ToolchainMissingError(
            f"{board.name} firmware needs the {board.core} toolchain (PlatformIO platform {platform}), which is "
            "not installed here; on a connected machine set TINYHIL_PIO_ONLINE=1 and PlatformIO installs it")


def parse_link_overflow(log: str) -> tuple[str, int] | None:
    """The first ``region `X' overflowed by N bytes`` in a GNU ld log as (region, N bytes), else None."""
    m = _OVERFLOW.search(log)
    return (m.group(1), int(m.group(2))) if m else None


def first_error_line(log: str) -> str:
    """The first compiler/linker/PlatformIO error line of a build log (trimmed), or '' if none is found."""
    for line in log.splitlines():
        if re.search(r"\berror\b|Error:|undefined reference", line):
            return line.strip()[:200]
    return ""


def build_firmware(target: Target, model_dir: Path, *, build_root: Path, defines: dict | None = None,
                   app_dir: Path | None = None, stack_bytes: int = DEFAULT_STACK_BYTES,
                   heap_bytes: int = DEFAULT_HEAP_BYTES, timeout_s: float = 600.0,
                   backend: BackendSources | None = None) -> FirmwareImage:
    """Build the firmware for ``target`` (a board or its twin) around the generated ``model_dir``.

    The build directory is ``build_root/fw/<target name>-<key>``, key = hash of the model files, app
    sources, options: the same inputs reuse the same (incrementally rebuilt) directory, different inputs build
    side by side.  ``stack_bytes``/``heap_bytes`` are reserved in RAM; ``backend``: another deployment backend's
    sources and libraries (default: tinyhil's kernels).  Raises BuildError (log path named),
    MemoryOverflowError (board, region FLASH or RAM, overflow in bytes), ToolchainMissingError.
    """
    from harness.pio_setup import ensure_pio, first_run_lock, pio_environ  # noqa: PLC0415 (keeps import light for the builder)

    board, env_name = target.board, target.platformio_env
    check_toolchain(board)
    recipe = make_recipe(target, Path(model_dir), app_dir=app_dir, defines=defines,
                         stack_bytes=stack_bytes, heap_bytes=heap_bytes, backend=backend)
    key = _build_key(recipe, Path(model_dir), app_dir)
    build_dir = Path(build_root).resolve() / "fw" / f"{target.name}-{key[:16]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    log_path = build_dir / "build.log"
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        write_recipe(recipe, build_dir)
        elf = build_dir / "pio" / "build" / env_name / "firmware.elf"
        stamp = build_dir / ".built"  # touched after each successful pio run (SCons may leave the ELF's mtime)
        if elf.is_file() and _up_to_date(stamp, recipe, build_dir):
            return _image(elf, target, recipe, log_path)
        env = pio_environ(ensure_pio())
        env[RECIPE_ENV] = str(build_dir / "recipe.json")
        env["PLATFORMIO_WORKSPACE_DIR"] = str(build_dir / "pio")
        cmd = [sys.executable, "-m", "platformio", "run", "-e", env_name, "-d", str(REPO)]
        try:
            with first_run_lock():  # the first pio run installs the platform links: one process at a time
                proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise BuildError(f"firmware build for {target.name} timed out after {timeout_s:.0f} s; "
                             f"see {log_path}") from None
        log_path.write_text(" ".join(cmd) + "\n" + proc.stdout)
        if proc.returncode == 0 and elf.is_file():
            stamp.touch()
    if proc.returncode != 0 or not elf.is_file():
        overflow = parse_link_overflow(proc.stdout)
        if overflow:
            raise MemoryOverflowError(board.name, *overflow)
        detail = first_error_line(proc.stdout) or f"pio exited with status {proc.returncode}"
        raise BuildError(f"firmware build for {target.name} failed: {detail}; see {log_path}")
    return _image(elf, target, recipe, log_path)


def _image(elf: Path, target: Target, recipe: Recipe, log_path: Path) -> FirmwareImage:
    return FirmwareImage(elf=elf, sha256=hashlib.sha256(elf.read_bytes()).hexdigest(), board=target.board.name,
                         kind=target.kind, sizes=elf_sizes(elf), build_log=log_path,
                         compiler_version=compiler_version(), flags=recipe.flags(), env=target.platformio_env)


def _up_to_date(stamp: Path, recipe: Recipe, build_dir: Path) -> bool:
    """True when ``stamp`` is newer than every input (sources, headers, recipe, linker script, build scripts)."""
    if not stamp.is_file():
        return False
    built = stamp.stat().st_mtime_ns
    inputs = [build_dir / "recipe.json", build_dir / "link.ld", REPO / "platformio.ini",
              TARGETS / "platformio" / "platform" / "builder" / "main.py"]
    for d in {*recipe.include_dirs, *recipe.source_dirs.values(), str(TARGETS / "boards")}:  # + shared port headers
        inputs.extend(p for p in Path(d).iterdir() if p.suffix in (".c", ".cc", ".h", ".S"))
    inputs.extend(Path(lib) for lib in recipe.libs)
    return all(p.stat().st_mtime_ns < built for p in inputs if p.exists())


def elf_sizes(elf: Path) -> dict[str, int]:
    """Section sizes of an ELF in bytes: text (read-only alloc), data, bss, heap, stack, flash, ram
    (read by :func:`harness.metrics.accuracy.memory_use`)."""
    from harness.metrics.memory import memory_use  # noqa: PLC0415

    use = memory_use(elf)
    return {**use.kinds, "flash": use.flash_bytes, "ram": use.ram_bytes}


@lru_cache(maxsize=1)
def compiler_version() -> str:
    """First line of ``arm-none-eabi-gcc --version``, or 'not installed'."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if not gcc:
        return "not installed"
    out = subprocess.run([gcc, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "unknown"


def write_recipe(recipe: Recipe, directory: Path) -> Path:
    """Write ``recipe.json`` (and ``link.ld``, the rendered linker script) into ``directory``, keeping files that
    did not change (build caching); returns the recipe path, which the PlatformIO build scripts read from
    ``$TINYHIL_RECIPE``."""
    directory.mkdir(parents=True, exist_ok=True)
    _write_if_changed(directory / "link.ld", recipe.ldscript)
    data = {k: v for k, v in recipe.__dict__.items() if k != "ldscript"}
    data["ldscript"] = str(directory / "link.ld") if recipe.ldscript else ""
    _write_if_changed(directory / "recipe.json", json.dumps(data, indent=1, sort_keys=True))
    return directory / "recipe.json"


def _build_key(recipe: Recipe, model_dir: Path, app_dir: Path | None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in recipe.__dict__.items() if k != "source_dirs"}, sort_keys=True).encode())
    for d in (model_dir, *([Path(app_dir)] if app_dir else [])):
        for p in sorted(Path(d).rglob("*")):
            if p.is_file():
                h.update(p.relative_to(d).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
