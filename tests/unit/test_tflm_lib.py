"""TFLM backends, library side: backend names, finding/making the TFLM source tree, and the cached static
library per core.  The two real builds (Cortex-M0+ reference, Cortex-M7 CMSIS-NN) share one session-scoped
cache; the other compiling tests use tiny fake trees."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_shared, shared_path
from harness.backends import Backend, UnknownBackendError, parse_backend
from harness.backends import tflm_lib, tflm_tree
from harness.backends.tflm_lib import TflmLibrary, library_sources, object_name, tflm_library
from harness.backends.tflm_tree import (
    LOCAL_SUBDIR,
    Source,
    TflmSourceError,
    TflmTreeMissingError,
    assemble_tree,
    check_pins,
    extract_archive,
    fetch_archive,
    find_tree,
    load_sources,
)
from harness.boards import get_board
from harness.errors import BuildError, TinyhilError, ToolchainMissingError

TREE_REL = "third_party/tflm/tflm-cmsis-nn"  # in ../shared
TREE = shared_path(TREE_REL)
README_TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"
BUILD_TIMEOUT_S = 2400  # a first build of the real tree takes 8-10 min on 2 cores


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    """No lookup variable leaks in from the caller; each test has its own empty cache unless it asks for more."""
    for var in ("TINYHIL_TFLM_DIR", "TINYHIL_LOCAL_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TINYHIL_CACHE", str(tmp_path / "cache"))


# The real libraries go to the user's tinyhil cache, with the operator set firmware builds use, so the backend
# tests (tests/emulator/test_backends.py) and later runs reuse them instead of compiling TFLM again.
USER_CACHE = Path(os.environ.get("TINYHIL_CACHE") or Path.home() / ".cache" / "tinyhil")


@pytest.fixture(scope="session")
def session_cache() -> Path:
    """The cache the real libraries are built in (the user's: each is built once per machine)."""
    return USER_CACHE


def _build_real(session_cache: Path, board: str, kernels: str) -> TflmLibrary:
    require_shared(TREE_REL)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYHIL_CACHE", str(session_cache))
        mp.setenv("TINYHIL_LOCAL_DIR", str(TREE.parents[2]))
        return tflm_library(get_board(board).target(True), kernels, operators=tflm_lib.FIRMWARE_OPERATORS)


@pytest.fixture(scope="session")
def m0_reference(session_cache) -> TflmLibrary:
    return _build_real(session_cache, "rp2040", "reference")


@pytest.fixture(scope="session")
def m7_cmsis_nn(session_cache) -> TflmLibrary:
    return _build_real(session_cache, "stm32f746", "cmsis-nn")


def _defined_symbols(archive: Path) -> set[str]:
    out = subprocess.run(["arm-none-eabi-nm", "--defined-only", str(archive)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}


def _members(archive: Path) -> list[str]:
    return subprocess.run(["arm-none-eabi-ar", "t", str(archive)], capture_output=True, text=True,
                          check=True).stdout.split()


# ---- backend names ----------------------------------------------------------------------------------------
def test_backend_values_and_kernels():
    assert [b.value for b in Backend] == ["tinyhil", "tflm", "tflm-cmsis-nn"]
    assert (Backend.TINYHIL.kernels, Backend.TFLM.kernels, Backend.TFLM_CMSIS_NN.kernels) == \
        (None, "reference", "cmsis-nn")
    assert Backend("tflm") is Backend.TFLM and str(Backend.TFLM_CMSIS_NN) == "tflm-cmsis-nn"


@pytest.mark.parametrize("text, expected", [("tinyhil", Backend.TINYHIL), ("TFLM", Backend.TFLM),
                                            (" tflm_cmsis_nn ", Backend.TFLM_CMSIS_NN),
                                            (Backend.TFLM, Backend.TFLM)])
def test_parse_backend_accepts_names(text, expected):
    assert parse_backend(text) is expected


def test_parse_backend_error_lists_choices_and_suggests():
    with pytest.raises(UnknownBackendError) as err:
        parse_backend("tflm-cmsis")
    msg = str(err.value)
    assert isinstance(err.value, TinyhilError) and "\n" not in msg
    assert "did you mean tflm-cmsis-nn?" in msg and "tinyhil, tflm, tflm-cmsis-nn" in msg
    with pytest.raises(UnknownBackendError, match="choose one of") as err:
        parse_backend("xyzzy")
    assert "did you mean" not in str(err.value)


# ---- finding the tree -------------------------------------------------------------------------------------
def _fake_tree(root: Path, files: dict[str, str] | None = None) -> Path:
    for d in ("tensorflow", "third_party", "reference_kernels"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_missing_tree_error_names_both_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(tmp_path / "empty"))
    with pytest.raises(TflmTreeMissingError) as err:
        find_tree(download=False)
    msg = str(err.value)
    assert isinstance(err.value, BuildError) and "\n" not in msg
    for part in ("TINYHIL_LOCAL_DIR", "third_party/tflm/tflm-cmsis-nn/", "tensorflow/", "third_party/",
                 "TINYHIL_TFLM_DIR", str(tmp_path / "empty")):
        assert part in msg


def test_missing_tree_with_unpinned_sources_says_so_without_network(monkeypatch, tmp_path):
    table = tmp_path / "sources.yaml"
    table.write_text(yaml.safe_dump({"sources": [{"name": "tflite-micro", "repo": "tensorflow/tflite-micro",
                                                  "commit": README_TFLM_COMMIT, "sha256": None, "dest": "."}]}))
    monkeypatch.setattr(tflm_tree, "fetch_archive", lambda *a, **k: pytest.fail("no download may be tried"))
    with pytest.raises(TflmSourceError) as err:
        find_tree(sources_path=table)
    msg = str(err.value)
    assert "\n" not in msg and "TINYHIL_LOCAL_DIR" in msg and "sha256: null" in msg and "connected machine" in msg


def test_tflm_dir_wins_and_must_be_a_tree(monkeypatch, tmp_path):
    explicit = _fake_tree(tmp_path / "explicit")
    _fake_tree(tmp_path / "local" / LOCAL_SUBDIR)
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(tmp_path / "local"))
    assert find_tree(download=False) == (tmp_path / "local" / LOCAL_SUBDIR).resolve()
    monkeypatch.setenv("TINYHIL_TFLM_DIR", str(explicit))
    assert find_tree(download=False) == explicit.resolve()
    monkeypatch.setenv("TINYHIL_TFLM_DIR", str(tmp_path / "nothing"))
    with pytest.raises(TflmTreeMissingError, match="TINYHIL_TFLM_DIR=.*is not a TFLM source tree"):
        find_tree(download=False)


@pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")
def test_shared_tree_found_through_local_dir(monkeypatch):
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(TREE.parents[2]))
    tree = find_tree(download=False)
    assert tree == TREE.resolve()
    ref, nn = library_sources(tree, "reference"), library_sources(tree, "cmsis-nn")
    assert not any("kernels/cmsis_nn/" in s for s in ref) and len([s for s in ref if s.startswith("reference_")]) == 14
    assert not any(s.startswith("reference_kernels/") for s in nn)
    assert any(s.endswith("arm_convolve_s8.c") for s in nn) and not any(s.endswith("_f32.c") for s in nn)
    assert len({object_name(s) for s in nn}) == len(nn)  # repeated basenames stay distinct


# ---- pinned sources and the online path (offline parts) ---------------------------------------------------
def test_sources_table_matches_the_readme_and_is_not_pinned_yet():
    sources = load_sources()
    assert sources[0].repo == "tensorflow/tflite-micro" and sources[0].commit == README_TFLM_COMMIT
    assert [s.dest for s in sources][:3] == [".", "cmsis", "cmsis/Cortex_DFP"]
    assert all(len(s.commit) == 40 and (s.sha256 is None or len(s.sha256) == 64) for s in sources)
    if any(s.sha256 is None for s in sources):
        with pytest.raises(TflmSourceError, match="sha256: null"):
            check_pins(sources)


def _tarball(path: Path, top: str, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_fetch_checks_the_pin_and_extract_strips_the_top_folder(tmp_path):
    archive = _tarball(tmp_path / "src.tar.gz", "ruy-abc", {"LICENSE": "Apache", "ruy/profiler/x.h": "// x"})
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    src = Source(name="ruy", repo="google/ruy", commit="a" * 40, sha256=digest, dest="ruy")
    got = fetch_archive(src, tmp_path / "archives", url=archive.as_uri())
    extract_archive(got, tmp_path / "out")
    assert (tmp_path / "out" / "ruy" / "profiler" / "x.h").read_text() == "// x"
    with pytest.raises(TflmSourceError, match="pinned"):
        fetch_archive(Source(**{**src.__dict__, "sha256": "0" * 64}), tmp_path / "other", url=archive.as_uri())
    with pytest.raises(TflmSourceError, match="sha256: null") as err:
        fetch_archive(Source(**{**src.__dict__, "sha256": None}), tmp_path / "other", url="http://192.0.2.1/x")
    assert "\n" not in str(err.value)


def test_assemble_tree_lays_out_reference_kernels_and_extra_headers(tmp_path):
    common = {"tensorflow/lite/micro/micro_interpreter.cc": "", "third_party/cmsis/CMSIS/Core/Include/cmsis_gcc.h": ""}
    cmsis_out = _fake_tree(tmp_path / "cmsis_nn", {**common, "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc": "nn"})
    ref_out = _fake_tree(tmp_path / "reference", {**common, "tensorflow/lite/micro/kernels/conv.cc": "ref"})
    dl = tmp_path / "downloads"
    for rel in ["cmsis/CMSIS/Core/Include/m-profile/cmsis_gcc_m.h", "cmsis/Cortex_DFP/LICENSE", "ruy/LICENSE",
                *(f"cmsis/Cortex_DFP/Device/{d}/Include/{d}.h" for d in tflm_tree.DFP_DEVICES)]:
        (dl / rel).parent.mkdir(parents=True, exist_ok=True)
        (dl / rel).write_text(rel)
    (tmp_path / "tflm").mkdir()
    (tmp_path / "tflm" / "LICENSE").write_text("Apache")
    out = assemble_tree(cmsis_out, ref_out, dl, tmp_path / "tflm-cmsis-nn", tflm_root=tmp_path / "tflm")
    assert (out / "reference_kernels/tensorflow/lite/micro/kernels/conv.cc").read_text() == "ref"
    assert not (out / "tensorflow/lite/micro/kernels/conv.cc").exists()
    assert (out / "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc").read_text() == "nn"
    assert (out / "third_party/cmsis/CMSIS/Core/Include/m-profile/cmsis_gcc_m.h").is_file()
    assert (out / "third_party/cmsis/Cortex_DFP/Device/ARMCM0plus/Include/ARMCM0plus.h").is_file()
    licences = ("LICENSE", "third_party/ruy/LICENSE", "third_party/cmsis/Cortex_DFP/LICENSE")
    assert all((out / p).is_file() for p in licences)
    assert [p.name for p in (out / "reference_kernels").rglob("*.cc")] == ["conv.cc"]
    with pytest.raises(TflmSourceError, match="not a reference/CMSIS-NN pair"):
        assemble_tree(cmsis_out, cmsis_out, dl, tmp_path / "again")


FAKE_GENERATOR = """import os, shutil, sys
opts, out = sys.argv[1], sys.argv[2]
dl = "tensorflow/lite/micro/tools/make/downloads"
assert os.path.isdir(dl + "/pigweed") and "TARGET_TOOLCHAIN_ROOT=" in opts
kernel = "kernels/cmsis_nn/conv.cc" if "OPTIMIZED_KERNEL_DIR=cmsis_nn" in opts else "kernels/conv.cc"
for rel in ("tensorflow/lite/micro/micro_interpreter.cc", "tensorflow/lite/micro/" + kernel):
    os.makedirs(os.path.dirname(os.path.join(out, rel)), exist_ok=True)
    open(os.path.join(out, rel), "w").write(kernel)
os.makedirs(out + "/third_party/ruy/ruy/profiler")
shutil.copy(dl + "/ruy/ruy/profiler/instrumentation.h", out + "/third_party/ruy/ruy/profiler/")
"""


def test_make_tree_online_with_fake_archives(monkeypatch, tmp_path):
    """The online path end to end, offline: file:// archives, pins, extraction, a TFLM patch, the generator run
    twice (a stand-in create_tflm_tree.py) and the assembly into the cache."""
    header = "ruy/profiler/instrumentation.h"
    patch = f"--- a/{header}\n+++ b/{header}\n@@ -1 +1 @@\n-// x\n+// patched\n"
    archives = {"fake/tflm": {tflm_tree.GENERATOR: FAKE_GENERATOR, "LICENSE": "Apache", "ruy.patch": patch},
                "fake/cmsis": {"CMSIS/Core/Include/m-profile/cmsis_gcc_m.h": "//"},
                "fake/dfp": {"LICENSE": "Apache", **{f"Device/{d}/Include/{d}.h": "//" for d in tflm_tree.DFP_DEVICES}},
                "fake/ruy": {"LICENSE": "Apache", header: "// x\n"}}
    entries = []
    for (repo, files), dest in zip(archives.items(), (".", "cmsis", "cmsis/Cortex_DFP", "ruy"), strict=True):
        path = tmp_path / "gh" / repo / f"{'c' * 40}.tar.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(_tarball(path, "top", files).read_bytes()).hexdigest()
        entries.append({"name": repo, "repo": repo, "commit": "c" * 40, "sha256": digest, "dest": dest,
                        **({"patch": "ruy.patch"} if repo == "fake/ruy" else {})})
    table = tmp_path / "sources.yaml"
    table.write_text(yaml.safe_dump({"sources": entries}))
    monkeypatch.setattr(tflm_tree, "ARCHIVE_URL", (tmp_path / "gh").as_uri() + "/{repo}/{commit}.tar.gz")
    tree = find_tree(sources_path=table)
    assert tree == tflm_tree.cached_tree_path(load_sources(table)) and tree.name == "tflm-cmsis-nn"
    assert (tree / "reference_kernels/tensorflow/lite/micro/kernels/conv.cc").read_text() == "kernels/conv.cc"
    assert (tree / "third_party/ruy/ruy/profiler/instrumentation.h").read_text() == "// patched\n"
    assert (tree / "third_party/cmsis/Cortex_DFP/Device/ARMCM7/Include/ARMCM7.h").is_file()
    assert not list(tree.parent.glob("work-*"))
    monkeypatch.setattr(tflm_tree, "fetch_archive", lambda *a, **k: pytest.fail("the cached tree was not used"))
    assert find_tree(sources_path=table) == tree


# ---- the library: errors without compiling ----------------------------------------------------------------
def test_esp32_needs_esp_tflite_micro():
    with pytest.raises(ToolchainMissingError) as err:
        tflm_library(get_board("esp32").target(False), "cmsis-nn")
    assert "esp-tflite-micro" in str(err.value) and "ESP-IDF" in str(err.value) and "\n" not in str(err.value)


def test_unknown_kernels_and_missing_cxx_headers(monkeypatch, tmp_path):
    target = get_board("stm32f746").target(True)
    with pytest.raises(BuildError, match="reference, cmsis-nn"):
        tflm_library(target, "fast", tree=_fake_tree(tmp_path / "t"))  # type: ignore[arg-type]
    if shutil.which("arm-none-eabi-g++") is None:
        pytest.skip("needs arm-none-eabi-g++ for the header check")
    monkeypatch.setattr(tflm_lib, "_cxx_headers_ok", lambda gxx: False)
    tree = _fake_tree(tmp_path / "t2", {"tensorflow/a.cc": "int a() { return 1; }\n"})
    with pytest.raises(ToolchainMissingError, match="libstdc\\+\\+-arm-none-eabi-dev") as err:
        tflm_library(target, "reference", tree=tree)
    assert "\n" not in str(err.value)


# ---- the library: small fake trees ------------------------------------------------------------------------
@pytest.mark.arm_toolchain
def test_repeated_basenames_survive_and_parallel_calls_build_once(monkeypatch, tmp_path):
    tree = _fake_tree(tmp_path / "t", {"tensorflow/a/util.cc": "int util_a() { return 1; }\n",
                                       "signal/b/util.cc": "int util_b() { return 2; }\n",
                                       "reference_kernels/tensorflow/k.cc": "int kernel_ref() { return 3; }\n"})
    calls, real = [], tflm_lib._compile_all
    monkeypatch.setattr(tflm_lib, "_compile_all", lambda *a: (calls.append(1), real(*a)))
    target = get_board("nrf52840").target(True)
    results: list[TflmLibrary] = []
    threads = [threading.Thread(target=lambda: results.append(tflm_library(target, "reference", tree=tree)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1] and len(calls) == 1
    symbols = _defined_symbols(results[0].archive)
    assert {"_Z6util_av", "_Z6util_bv", "_Z10kernel_refv"} <= symbols
    assert len(_members(results[0].archive)) == 3
    assert results[0].defines["CPU_M4"] == "1" and "CMSIS_NN" not in results[0].defines


@pytest.mark.arm_toolchain
def test_compile_error_is_one_line_naming_file_and_log(tmp_path):
    tree = _fake_tree(tmp_path / "t", {"tensorflow/ok.cc": "int ok() { return 0; }\n",
                                       "tensorflow/lite/bad.cc": "int bad( {\n"})
    with pytest.raises(BuildError) as err:
        tflm_library(get_board("rp2040").target(True), "reference", tree=tree, jobs=1)
    msg = str(err.value)
    assert "\n" not in msg and "tensorflow/lite/bad.cc" in msg and "error" in msg
    log = Path(msg.rsplit("full output in ", 1)[1])
    assert log.is_file() and "bad.cc" in log.read_text()
    assert not list(log.parent.glob("libtflm.a*"))


# ---- the two real libraries (shared session cache) --------------------------------------------------------
@pytest.mark.arm_toolchain
@pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")
@pytest.mark.timeout(BUILD_TIMEOUT_S)
def test_cortex_m0plus_reference_library(m0_reference):
    lib = m0_reference
    assert lib.archive.is_file() and lib.archive.name == "libtflm.a" and lib.kernels == "reference"
    members, symbols = _members(lib.archive), _defined_symbols(lib.archive)
    assert any("micro_interpreter" in m for m in members)
    assert any("MicroInterpreter6Invoke" in s for s in symbols)
    assert not any(s.startswith("arm_convolve") for s in symbols)
    assert lib.defines["CPU_M0plus"] == "1" and "ARMCM0plus" in lib.defines and "CMSIS_NN" not in lib.defines
    assert lib.defines["CMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE"] == '"ARMCM0plus.h"'
    assert "-mcpu=cortex-m0plus" in lib.cxxflags and "-fno-rtti" in lib.cxxflags and "-std=c17" in lib.cflags
    assert all(Path(d).is_dir() for d in lib.include_dirs) and lib.tree == TREE.resolve()


@pytest.mark.arm_toolchain
@pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")
@pytest.mark.timeout(BUILD_TIMEOUT_S)
def test_cortex_m7_cmsis_nn_library(m7_cmsis_nn):
    lib = m7_cmsis_nn
    symbols = _defined_symbols(lib.archive)
    assert {"arm_convolve_s8", "arm_fully_connected_s8"} <= symbols
    assert any("MicroInterpreter6Invoke" in s for s in symbols)
    assert lib.defines["CMSIS_NN"] == "" and lib.defines["CPU_M7"] == "1" and "ARMCM7" in lib.defines
    assert "-mfpu=fpv5-sp-d16" in lib.cflags and "-DCMSIS_NN" in lib.define_flags()


@pytest.mark.arm_toolchain
@pytest.mark.needs_shared("third_party/tflm/tflm-cmsis-nn")
@pytest.mark.timeout(BUILD_TIMEOUT_S)
def test_second_call_returns_the_cached_archive_without_building(m0_reference, m7_cmsis_nn, session_cache,
                                                                 monkeypatch):
    monkeypatch.setenv("TINYHIL_CACHE", str(session_cache))
    monkeypatch.setenv("TINYHIL_LOCAL_DIR", str(TREE.parents[2]))
    monkeypatch.setattr(tflm_lib, "_compile_all", lambda *a: pytest.fail("a cached library was rebuilt"))
    for lib, board, kernels in ((m0_reference, "rp2040", "reference"), (m7_cmsis_nn, "stm32f746", "cmsis-nn")):
        mtime = lib.archive.stat().st_mtime_ns
        again = tflm_library(get_board(board).target(True), kernels, operators=tflm_lib.FIRMWARE_OPERATORS)
        assert again == lib and again.archive.stat().st_mtime_ns == mtime
    real_board = tflm_library(get_board("rp2040").target(False), "reference",  # same core: same library
                              operators=tflm_lib.FIRMWARE_OPERATORS)
    assert real_board.archive == m0_reference.archive
