"""TensorFlow Lite Micro (reference kernels, or CMSIS-NN kernels) compiled into a cached static library per core.

:func:`tflm_library` compiles the ``tflm-cmsis-nn/`` tree (found by :func:`harness.backends.tflm_tree.find_tree`)
with the host's arm-none-eabi-g++/-gcc, the flags and file sets of ``../shared/third_party/tflm/README.md``
(TFLM's own ``cortex_m_generic`` flags), and archives the objects into
``$TINYHIL_CACHE/tflm/<key>/libtflm.a``.  The key hashes the tree's file contents, the kernels, every flag and
the compiler versions: the same inputs return the cached archive at once, any change builds a new one beside it.
A file lock serialises builds of one key across processes; the finished archive appears by an atomic rename.

The returned :class:`TflmLibrary` holds what an application compiled against the library needs: the same
include dirs, defines and flags (the application links with arm-none-eabi-gcc, not g++, and provides the few
C++ runtime stubs; see the README).

Errors: :class:`~harness.errors.ToolchainMissingError` (no arm-none-eabi tools or C++ headers, or an ESP32),
:class:`~harness.errors.BuildError` (compiler error: one line naming the file and the log; unsupported core),
:class:`~harness.backends.tflm_tree.TflmTreeMissingError` (no source tree).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

from harness.backends.tflm_tree import TflmTreeMissingError, cache_root, find_tree, is_tree
from harness.errors import BuildError, ToolchainMissingError

if TYPE_CHECKING:  # pragma: no cover
    from harness.target import Target

Kernels = Literal["reference", "cmsis-nn"]
KERNELS: tuple[str, ...] = ("reference", "cmsis-nn")
RECIPE_VERSION = 1  # bump when the build recipe changes in a way the key does not see
CXX_HEADERS_PACKAGE = "libstdc++-arm-none-eabi-dev"
COMMON_FLAGS = ("-mlittle-endian", "-funsigned-char", "-fomit-frame-pointer", "-ffunction-sections",
                "-fdata-sections", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-fmessage-length=0",
                "-O2")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
BASE_DEFINES = {"TF_LITE_STATIC_MEMORY": "", "TF_LITE_DISABLE_X86_NEON": "", "KERNELS_OPTIMIZED_FOR_SPEED": "",
                "TF_LITE_MCU_DEBUG_LOG": "", "ARM_NN_ENABLE_F16": "0", "ARM_NN_ENABLE_F32": "0"}
# -mcpu -> (CPU_xx suffix, CMSIS device = Cortex_DFP folder and header name)
DEVICES = {"cortex-m0": ("M0", "ARMCM0"), "cortex-m0plus": ("M0plus", "ARMCM0plus"), "cortex-m3": ("M3", "ARMCM3"),
           "cortex-m4": ("M4", "ARMCM4"), "cortex-m7": ("M7", "ARMCM7")}
INCLUDE_DIRS = (".", "third_party", "third_party/gemmlowp", "third_party/flatbuffers/include", "third_party/kissfft",
                "third_party/ruy", "third_party/cmsis/Cortex_DFP/Device/{device}/Include",
                "third_party/cmsis/CMSIS/Core/Include", "third_party/cmsis", "third_party/cmsis_nn",
                "third_party/cmsis_nn/Include")  # relative to the tree
CMSIS_NN_GLUE = "tensorflow/lite/micro/kernels/cmsis_nn/"
CMSIS_NN_SKIP = ("_f16.c", "_f32.c", "arm_nntables_flt.c")


@dataclass(frozen=True)
class TflmLibrary:
    """A built TFLM static library and how to compile against it.

    ``archive``: the ``libtflm.a``; ``include_dirs``: absolute include folders (in the tree); ``defines``:
    name -> value (``""`` for a bare ``-DNAME``; string values carry their C quotes); ``cxxflags`` / ``cflags``:
    machine, optimisation and language flags for C++ / C sources (without -D/-I); ``kernels``: ``reference``
    or ``cmsis-nn``; ``tree``: the TFLM source tree it was built from."""

    archive: Path
    include_dirs: tuple[str, ...]
    defines: dict[str, str] = field(hash=False)  # (a dict: left out of hash(), compared by ==)
    cxxflags: tuple[str, ...]
    cflags: tuple[str, ...]
    kernels: str
    tree: Path

    def define_flags(self) -> tuple[str, ...]:
        """``defines`` as compiler flags, e.g. ('-DCPU_M7=1', '-DTF_LITE_STATIC_MEMORY', ...)."""
        return tuple(f"-D{k}={v}" if v != "" else f"-D{k}" for k, v in self.defines.items())


def tflm_library(target: "Target", kernels: Kernels, *, jobs: int | None = None,
                 tree: Path | None = None, operators: Iterable[str] | None = None) -> TflmLibrary:
    """The TFLM static library for ``target``'s core with ``kernels`` (``reference`` or ``cmsis-nn``), built
    on first use (``jobs`` parallel compiles, default ``os.cpu_count()``) and cached under
    ``$TINYHIL_CACHE/tflm/<key>/libtflm.a``.  ``operators``: TFLite builtin names to build kernels for (default
    all; see :func:`library_sources`).  ``tree``: the ``tflm-cmsis-nn/`` source tree (default
    :func:`~harness.backends.tflm_tree.find_tree`).  A board and its twin share one library (same core).

    Raises ToolchainMissingError (ESP32; arm-none-eabi tools or the C++ headers of libstdc++-arm-none-eabi-dev
    missing), BuildError (unknown kernels, a core without a CMSIS device mapping, a compiler error: one line
    naming the file and the full log), TflmTreeMissingError (no tree, or one lacking what ``kernels`` needs).
    """
    board = target.board
    if board.arch == "xtensa":
        raise ToolchainMissingError(f"{board.name}: the ESP32 TFLM backend needs Espressif's esp-tflite-micro, "
                                    "built through ESP-IDF (connected machines only); use backend tinyhil here")
    if not board.arch.startswith("armv"):
        raise BuildError(f"{board.name} ({board.arch}): the TFLM library builds only for Arm Cortex-M cores")
    if kernels not in KERNELS:
        raise BuildError(f"TFLM kernels {kernels!r} unknown; use one of {', '.join(KERNELS)}")
    if jobs is not None and jobs < 1:
        raise BuildError(f"jobs={jobs}: use at least 1 parallel compile")
    tree = Path(tree).resolve() if tree else find_tree()
    if not is_tree(tree):
        raise TflmTreeMissingError(f"{tree} is not a TFLM source tree: it must contain tensorflow/ and third_party/")
    tools = _toolchain()
    lib = _describe(tree, board.compiler.cpu, tuple(board.compiler.flags()), kernels)
    sources = library_sources(tree, kernels, operators)
    key = _key(lib, sources, tools)
    out_dir = cache_root() / "tflm" / f"{board.compiler.cpu}-{kernels}-{key[:16]}"
    archive = out_dir / "libtflm.a"
    lib = TflmLibrary(**{**lib.__dict__, "archive": archive})
    if archive.is_file():
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not archive.is_file():  # another process may have built it while we waited
            if not _cxx_headers_ok(tools["g++"]):
                raise ToolchainMissingError(f"arm-none-eabi-g++ has no C++ standard headers: install the Debian "
                                            f"package {CXX_HEADERS_PACKAGE} (scripts/setup.sh does)")
            _build(lib, sources, tools, out_dir, jobs or os.cpu_count() or 1, board.compiler.cpu)
    return lib


#: TFLM kernel file stems of each operator (``kernels/<stem>.cc``, ``<stem>_common.cc``, ``cmsis_nn/<stem>.cc``,
#: ``reference_kernels/.../<stem>.cc``).  An operator not listed here makes the build take every kernel.
OPERATOR_STEMS = {
    "ADD": ("add",), "AVERAGE_POOL_2D": ("pooling",), "CONCATENATION": ("concatenation",), "CONV_2D": ("conv",),
    "DEPTHWISE_CONV_2D": ("depthwise_conv",), "DEQUANTIZE": ("dequantize",), "FULLY_CONNECTED": ("fully_connected",),
    "LOGISTIC": ("logistic",), "MAX_POOL_2D": ("pooling",), "MEAN": ("reduce",), "MUL": ("mul",), "PAD": ("pad",),
    "QUANTIZE": ("quantize",), "RELU": ("activations",), "RELU6": ("activations",), "RESHAPE": ("reshape",),
    "SOFTMAX": ("softmax",), "SUB": ("sub",), "TANH": ("tanh",), "TRANSPOSE": ("transpose",),
}
#: the operator set firmware builds use: one library per core and kernel set serves every model tinyhil compiles
FIRMWARE_OPERATORS = tuple(sorted(OPERATOR_STEMS))
KERNEL_DIRS = ("tensorflow/lite/micro/kernels/", "reference_kernels/tensorflow/lite/micro/kernels/")
KERNEL_INFRA = ("kernel_util", "micro_tensor_utils")  # used by every kernel


def library_sources(tree: Path, kernels: str, operators: Iterable[str] | None = None) -> list[str]:
    """The sources of one build, as sorted paths relative to ``tree``.  CMSIS-NN: every ``tensorflow/**.cc``
    and ``signal/**.cc`` plus CMSIS-NN's ``.c`` (no f16/f32); reference: the same ``.cc`` without
    ``kernels/cmsis_nn/`` plus ``reference_kernels/**.cc``.  With ``operators`` (TFLite builtin names, all in
    :data:`OPERATOR_STEMS`) only those operators' kernels are built and ``signal/`` is left out: a third of
    the compile time, and the linker would drop the rest anyway.  Raises TflmTreeMissingError when the tree lacks
    the folder these kernels need."""
    tree = Path(tree)
    need = "third_party/cmsis_nn/Source" if kernels == "cmsis-nn" else "reference_kernels"
    if not (tree / need).is_dir():
        raise TflmTreeMissingError(f"TFLM tree {tree} has no {need}/, needed for {kernels} kernels; "
                                   f"use a complete tflm-cmsis-nn/ tree (as in ../shared/third_party/tflm)")
    cc = [p for top in ("tensorflow", "signal") for p in _files(tree, top, ".cc")]
    if kernels == "cmsis-nn":
        extra = [p for p in _files(tree, "third_party/cmsis_nn/Source", ".c") if not p.endswith(CMSIS_NN_SKIP)]
    else:
        cc = [p for p in cc if not p.startswith(CMSIS_NN_GLUE)]
        extra = _files(tree, "reference_kernels", ".cc")
    stems = operator_stems(operators)
    if stems is not None:
        cc = [p for p in cc + extra if p.endswith(".cc") and not p.startswith("signal/") and _wanted(p, stems)]
        extra = [p for p in extra if not p.endswith(".cc")]
    return sorted(cc + extra)


def operator_stems(operators: Iterable[str] | None) -> frozenset[str] | None:
    """The kernel file stems of ``operators`` plus the kernel infrastructure; None (build every kernel) when
    ``operators`` is None or holds an operator without an entry in :data:`OPERATOR_STEMS`."""
    if operators is None:
        return None
    ops = set(operators)
    if not ops <= OPERATOR_STEMS.keys():
        return None
    return frozenset(KERNEL_INFRA).union(*(OPERATOR_STEMS[o] for o in ops))


def _wanted(source: str, stems: frozenset[str]) -> bool:
    """Non-kernel sources always; a kernel source when its stem (without ``_common``) is wanted."""
    folder, _, name = source.rpartition("/")
    if not any(source.startswith(d) for d in KERNEL_DIRS) and folder != CMSIS_NN_GLUE.rstrip("/"):
        return True
    stem = name.rsplit(".", 1)[0]
    return stem in stems or stem.removesuffix("_common") in stems


def object_name(source: str) -> str:
    """The object file of a tree-relative source: its whole path, so basenames that repeat in several folders
    (``kernel_util``, ``common``, ...) stay distinct, e.g. ``tensorflow__lite__micro__kernels__conv.o``."""
    return source.rsplit(".", 1)[0].replace("/", "__") + ".o"


def _files(tree: Path, top: str, suffix: str) -> list[str]:
    out = []
    for dirpath, _dirs, names in os.walk(tree / top):
        rel = Path(dirpath).relative_to(tree).as_posix()
        out.extend(f"{rel}/{n}" for n in names if n.endswith(suffix))
    return out


def _describe(tree: Path, cpu: str, machine: tuple[str, ...], kernels: str) -> TflmLibrary:
    """Flags, defines and include dirs of one (core, kernels) build (archive path still empty)."""
    if cpu not in DEVICES:
        raise BuildError(f"no CMSIS device mapping for -mcpu={cpu} in the TFLM build; supported cores: "
                         f"{', '.join(DEVICES)}")
    core, device = DEVICES[cpu]
    defines = {**BASE_DEFINES, f"CPU_{core}": "1", device: "",
               "CMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE": f'"{device}.h"'}
    if kernels == "cmsis-nn":
        defines["CMSIS_NN"] = ""  # selects the cmsis_nn paths in kernels/*.h
    includes = tuple(str(tree / d.format(device=device)) if d != "." else str(tree) for d in INCLUDE_DIRS)
    return TflmLibrary(archive=Path(), include_dirs=includes, defines=defines, kernels=kernels, tree=tree,
                       cxxflags=machine + COMMON_FLAGS + CXX_FLAGS, cflags=machine + COMMON_FLAGS + C_FLAGS)


def _toolchain() -> dict[str, str]:
    """Paths of arm-none-eabi-gcc, -g++ and -ar.  Raises ToolchainMissingError naming the Debian packages."""
    tools = {name: shutil.which(f"arm-none-eabi-{name}") for name in ("gcc", "g++", "ar")}
    missing = [f"arm-none-eabi-{n}" for n, p in tools.items() if not p]
    if missing:
        raise ToolchainMissingError(f"{', '.join(missing)} not found: install the Debian packages gcc-arm-none-eabi "
                                    f"and {CXX_HEADERS_PACKAGE} (scripts/setup.sh does)")
    return tools  # type: ignore[return-value]


@lru_cache(maxsize=8)
def _tool_version(path: str) -> str:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "unknown"


@lru_cache(maxsize=8)
def _cxx_headers_ok(gxx: str) -> bool:
    """True when ``gxx`` finds the C++ standard headers (preprocesses ``#include <cstdint>`` and ``<new>``)."""
    proc = subprocess.run([gxx, "-xc++", "-std=c++17", "-E", "-o", os.devnull, "-"], input="#include <cstdint>\n"
                          "#include <new>\n", capture_output=True, text=True, check=False)
    return proc.returncode == 0


_DIGESTS: dict[tuple[str, str], str] = {}  # (tree, stat signature) -> content digest, per process


def tree_digest(tree: Path) -> str:
    """SHA-256 (hex) over the relative paths and contents of every file in ``tree``: the tree's identity,
    independent of where it lies and of file times.  Memoised per process while no file's size or mtime
    changes (about 60 ms for the 11 MB tree, 5 ms when memoised)."""
    files = []
    for dirpath, dirs, names in os.walk(tree):
        dirs.sort()
        files.extend(os.path.join(dirpath, n) for n in sorted(names))
    stats = [os.stat(f) for f in files]
    signature = hashlib.sha256("\n".join(f"{f} {s.st_size} {s.st_mtime_ns}" for f, s in zip(files, stats, strict=True))
                               .encode()).hexdigest()
    memo = _DIGESTS.get((str(tree), signature))
    if memo:
        return memo
    h = hashlib.sha256()
    for f in files:
        h.update(os.path.relpath(f, tree).encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    _DIGESTS[(str(tree), signature)] = h.hexdigest()
    return h.hexdigest()


def _key(lib: TflmLibrary, sources: list[str], tools: dict[str, str]) -> str:
    """Cache key: tree contents, kernels, sources, flags, defines, relative include dirs, compiler versions."""
    record = {"recipe": RECIPE_VERSION, "tree": tree_digest(lib.tree), "kernels": lib.kernels, "sources": sources,
              "cxxflags": lib.cxxflags, "cflags": lib.cflags, "defines": lib.defines,
              "includes": [os.path.relpath(d, lib.tree) for d in lib.include_dirs],
              "compilers": [_tool_version(tools[t]) for t in ("gcc", "g++", "ar")]}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _commands(lib: TflmLibrary, sources: list[str], tools: dict[str, str],
              obj_dir: Path) -> list[tuple[str, list[str]]]:
    """(source, argv) per source; run in the tree with relative paths, so ``__FILE__`` strings and thus the
    archive do not depend on where the tree lies."""
    includes = [f"-I{os.path.relpath(d, lib.tree)}" for d in lib.include_dirs]
    cmds = []
    for src in sources:
        cxx = src.endswith(".cc")
        flags = lib.cxxflags if cxx else lib.cflags
        cmds.append((src, [tools["g++" if cxx else "gcc"], *flags, *lib.define_flags(), *includes, "-c", src,
                           "-o", str(obj_dir / object_name(src))]))
    return cmds


def _build(lib: TflmLibrary, sources: list[str], tools: dict[str, str], out_dir: Path, jobs: int, cpu: str) -> None:
    """Compile every source (``jobs`` at a time) into ``out_dir/obj``, archive them with one ``ar rcs`` call and
    rename the archive into place; write ``build.log`` and ``library.json``.  Raises BuildError."""
    obj_dir, log_path = out_dir / "obj", out_dir / "build.log"
    shutil.rmtree(obj_dir, ignore_errors=True)
    obj_dir.mkdir(parents=True)
    names = [object_name(s) for s in sources]
    if len(set(names)) != len(names):
        raise BuildError(f"two TFLM sources map to one object name in {lib.tree}; report this tinyhil bug")
    start = time.monotonic()
    _compile_all(_commands(lib, sources, tools, obj_dir), lib.tree, jobs, log_path)
    tmp = out_dir / f"libtflm.a.tmp{os.getpid()}"
    tmp.unlink(missing_ok=True)
    proc = subprocess.run([tools["ar"], "rcs", str(tmp), *names], cwd=obj_dir, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        with open(log_path, "a") as log:
            log.write(f"\n$ ar rcs ... ({len(names)} objects)\n{proc.stdout}{proc.stderr}")
        raise BuildError(f"arm-none-eabi-ar failed to archive the TFLM objects; see {log_path}")
    seconds = round(time.monotonic() - start, 1)
    (out_dir / "library.json").write_text(json.dumps({
        "cpu": cpu, "kernels": lib.kernels, "tree": str(lib.tree), "sources": len(sources), "jobs": jobs,
        "build_seconds": seconds, "archive_bytes": tmp.stat().st_size,
        "compilers": [_tool_version(tools[t]) for t in ("gcc", "g++", "ar")], "cxxflags": lib.cxxflags,
        "cflags": lib.cflags, "defines": lib.defines}, indent=1))
    os.replace(tmp, out_dir / "libtflm.a")
    shutil.rmtree(obj_dir, ignore_errors=True)  # the archive holds them


def _compile_all(commands: list[tuple[str, list[str]]], cwd: Path, jobs: int, log_path: Path) -> None:
    """Run the compile ``commands`` (``jobs`` in parallel) in ``cwd``; the full output goes to ``log_path``.
    Stops at the first failure.  Raises BuildError naming the file, the first error line and the log."""
    from harness.build import first_error_line  # noqa: PLC0415

    def run(argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)

    failed: tuple[str, str] | None = None
    with open(log_path, "w") as log, ThreadPoolExecutor(max_workers=jobs) as pool:
        log.write(f"# TFLM library build in {cwd}: {len(commands)} sources, {jobs} jobs\n")
        futures = {pool.submit(run, argv): (src, argv) for src, argv in commands}
        for fut in as_completed(futures):
            if fut.cancelled():
                continue
            src, argv = futures[fut]
            proc = fut.result()
            log.write(f"$ {' '.join(argv)}\n{proc.stdout}")
            if proc.returncode != 0 and failed is None:
                failed = (src, first_error_line(proc.stdout) or f"status {proc.returncode}")
                for other in futures:
                    other.cancel()  # the ones not started yet
    if failed:
        raise BuildError(f"TFLM source {failed[0]} failed to compile: {failed[1]}; full output in {log_path}")
