"""PlatformIO without network: a project-local core dir with what ``pio run`` needs, made from local files.

PlatformIO normally downloads its SCons (package ``tool-scons``) and a toolchain.  Here both come from the
machine: SCons from the Python environment (PyPI's ``SCons``, a tinyhil dependency) is copied into
``<core>/packages/tool-scons`` with the metadata PlatformIO looks for, and a toolchain package folder
(``package.json`` + ``bin/`` links to the host's ``arm-none-eabi-*``) is named by platformio.ini's
``platform_packages = toolchain-gccarmnoneeabi@symlink://.tinyhil/toolchain-gccarmnoneeabi``.
Everything is idempotent and guarded by a file lock, so parallel builds may call :func:`ensure_pio`.

Run ``python -m harness.pio_setup`` to set up and print the environment for running ``pio`` by hand.
Errors: :class:`~harness.errors.BuildError` with the install command.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from harness.errors import BuildError

REPO = Path(__file__).resolve().parent.parent
STATE_DIR = REPO / ".tinyhil"
CORE_DIR = STATE_DIR / "pio"
TOOLCHAIN_DIR = STATE_DIR / "toolchain-gccarmnoneeabi"  # named in platformio.ini
TOOLS = ("gcc", "g++", "cpp", "as", "ld", "ar", "nm", "ranlib", "objcopy", "objdump", "size", "strip",
         "readelf", "gdb", "gcc-ar", "gcc-nm", "gcc-ranlib")


@dataclass(frozen=True)
class PioSetup:
    """Where the offline PlatformIO state lives: core dir and toolchain package folder."""

    core_dir: Path
    toolchain_dir: Path


def ensure_pio(core_dir: Path = CORE_DIR, toolchain_dir: Path = TOOLCHAIN_DIR) -> PioSetup:
    """Create or repair the offline PlatformIO state (no downloads); cheap when already done.

    Raises BuildError when arm-none-eabi-gcc, SCons or PlatformIO are not installed (message names the fix).
    """
    gcc = shutil.which("arm-none-eabi-gcc")
    if not gcc:
        raise BuildError("arm-none-eabi-gcc not found; "
                         "apt-get install --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi")
    core_dir.mkdir(parents=True, exist_ok=True)
    with open(core_dir / ".tinyhil-setup.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _ensure_toolchain(toolchain_dir, Path(gcc).parent)
        _ensure_scons(core_dir / "packages" / "tool-scons")
    return PioSetup(core_dir, toolchain_dir)


@contextlib.contextmanager
def first_run_lock(core_dir: Path = CORE_DIR) -> Iterator[None]:
    """Serialise ``pio run`` until one has succeeded with this core (it installs the platform's links)."""
    warm = core_dir / ".tinyhil-warm"
    if warm.exists():
        yield
        return
    with open(core_dir / ".tinyhil-first-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
        if (core_dir / "platforms").is_dir() and any((core_dir / "packages").glob("*.pio-link")):
            warm.touch()


def pio_environ(setup: PioSetup) -> dict[str, str]:
    """os.environ plus the variables that point PlatformIO at the offline core and keep it off the network."""
    env = dict(os.environ)
    env.update({
        "PLATFORMIO_CORE_DIR": str(setup.core_dir),
        "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "no",
        "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "36500",
        "PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD": "0",
        "PLATFORMIO_SETTING_ENABLE_CACHE": "no",
        "PLATFORMIO_NO_ANSI": "true",
    })
    return env


def _ensure_toolchain(pkg: Path, bindir: Path) -> None:
    version = _gcc_package_version(bindir / "arm-none-eabi-gcc")
    (pkg / "bin").mkdir(parents=True, exist_ok=True)
    _write_json_if_changed(pkg / "package.json", {
        "name": "toolchain-gccarmnoneeabi", "version": version, "system": ["linux_x86_64", "linux_aarch64"],
        "description": f"host Arm GNU toolchain from {bindir} (links made by tinyhil)"})
    for tool in TOOLS:
        src = bindir / f"arm-none-eabi-{tool}"
        link = pkg / "bin" / src.name
        if not src.exists():
            continue
        if link.is_symlink() and os.readlink(link) == str(src):
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(src)


def _ensure_scons(pkg: Path) -> None:
    try:
        import SCons  # noqa: PLC0415
    except ImportError:
        raise BuildError("SCons is not installed; pip install 'scons>=4.5' (or pip install -e .)") from None
    try:
        from platformio.dependencies import get_core_dependencies  # noqa: PLC0415
    except ImportError:
        raise BuildError("PlatformIO is not installed; pip install 'platformio>=6.1' (or pip install -e .)") from None
    # PlatformIO asks for e.g. "~4.41101.0"; a version satisfying it, whatever SCons 4.x we really ship.
    version = re.sub(r"^[~^=<>! ]+", "", get_core_dependencies()["tool-scons"]).split(",")[0].strip()
    scons_version = getattr(SCons, "__version__", "unknown")
    meta = {"type": "tool", "name": "tool-scons", "version": version,
            "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}
    manifest = {"name": "tool-scons", "version": version,
                "description": f"SCons {scons_version} from PyPI, packaged offline by tinyhil"}
    stamp = pkg / ".tinyhil-scons"
    if stamp.exists() and stamp.read_text() == f"{scons_version} {version}" and (pkg / "scons.py").exists():
        return
    if pkg.exists():
        shutil.rmtree(pkg)
    shutil.copytree(Path(SCons.__file__).parent, pkg / "scons-local" / "SCons",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "scons.py").write_text(
        "# Launcher written by tinyhil (harness/pio_setup.py): runs the SCons copied next to it.\n"
        "import os, sys\n"
        "sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scons-local'))\n"
        "import SCons.Script\n"
        "SCons.Script.main()\n")
    (pkg / "package.json").write_text(json.dumps(manifest, indent=1))
    (pkg / ".piopm").write_text(json.dumps(meta))
    stamp.write_text(f"{scons_version} {version}")


def _gcc_package_version(gcc: Path) -> str:
    """PlatformIO's toolchain version scheme: gcc 12.2.1 -> 1.120201.0."""
    out = subprocess.run([str(gcc), "-dumpfullversion"], capture_output=True, text=True, check=False).stdout.strip()
    parts = [int(p) for p in re.findall(r"\d+", out)[:3]] + [0, 0, 0]
    return f"1.{parts[0]}{parts[1]:02d}{parts[2]:02d}.0"


def _write_json_if_changed(path: Path, data: dict) -> None:
    text = json.dumps(data, indent=1)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


if __name__ == "__main__":
    s = ensure_pio()
    print(f"export PLATFORMIO_CORE_DIR={s.core_dir}")
    print("# then: TINYHIL_RECIPE=<build dir>/recipe.json pio run -e stm32f746_twin (build_firmware writes it)")
