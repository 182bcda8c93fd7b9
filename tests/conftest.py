"""Suite-wide test policy, each rule written once.

* ``@pytest.mark.emulator`` (declared in pyproject.toml): the test runs firmware on a QEMU twin.  Such tests
  are skipped, with the reason, when ``qemu-system-arm`` or ``arm-none-eabi-gcc`` is not installed.
  ``@pytest.mark.arm_toolchain``: the test only builds Arm firmware (no QEMU), skipped without
  ``arm-none-eabi-gcc``.  Nothing else in the suite checks for those tools.
* The shared data folder ``../shared`` (the demo model ACDNet-20 and the ESC-50 clips, beside the repository;
  ``TINYHIL_SHARED_DIR`` points elsewhere): tests that read it are skipped, with the reason, when it or the
  file they need is absent, never errored.  Use the ``shared_dir`` fixture (the folder), the marker
  ``@pytest.mark.needs_shared("models/x.tflite", ...)`` (paths relative to the folder), or
  :func:`require_shared` inside a fixture; module-level constants use :func:`shared_path`, which only names
  the path.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EMULATOR_TOOLS = ("qemu-system-arm", "arm-none-eabi-gcc")
ARM_TOOLCHAIN = ("arm-none-eabi-gcc",)
SHARED_ENV = "TINYHIL_SHARED_DIR"


# ---- the emulator skip ------------------------------------------------------------------------------------
def tools_skip_reason(tools: tuple[str, ...] = EMULATOR_TOOLS) -> str | None:
    """Why tests needing ``tools`` cannot run here (the missing ones named), or None when they can."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if not missing:
        return None
    return f"needs {' and '.join(tools)}: {', '.join(missing)} not found (scripts/setup.sh installs them)"


def emulator_skip_reason() -> str | None:
    """Why twin runs cannot happen here (a missing tool named), or None when they can."""
    return tools_skip_reason(EMULATOR_TOOLS)


# ---- the shared data folder ------------------------------------------------------------------------------
def shared_root() -> Path:
    """The shared data folder: $TINYHIL_SHARED_DIR, else ``../shared`` beside the repository (may not exist)."""
    env = os.environ.get(SHARED_ENV)
    return Path(env) if env else REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside the shared data folder; it is not checked (see :func:`require_shared`)."""
    return shared_root().joinpath(*parts)


def shared_skip_reason(*parts: str) -> str | None:
    """Why a test needing ``parts`` (relative paths; none = the folder itself) cannot run, or None."""
    root = shared_root()
    if not root.is_dir():
        return (f"../shared not found: {root} does not exist (check out the shared data folder beside the "
                f"repository or set {SHARED_ENV})")
    missing = [p for p in parts if not (root / p).exists()]
    if missing:
        return f"../shared incomplete: {', '.join(str(root / p) for p in missing)} not found"
    return None


def require_shared(*parts: str) -> Path:
    """The shared data folder (``parts`` joined when given); skips the calling test when anything is absent."""
    reason = shared_skip_reason(*parts)
    if reason:
        pytest.skip(reason)
    return shared_path(*parts)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder; the test is skipped (with the reason) when it is absent."""
    return require_shared()


# ---- hooks ------------------------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "arm_toolchain: builds Arm firmware (no QEMU); needs arm-none-eabi-gcc")
    config.addinivalue_line("markers", "needs_shared(*paths): reads these paths (relative to ../shared); "
                                       "skipped with the reason when they are absent")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tool_reasons = {"emulator": emulator_skip_reason(), "arm_toolchain": tools_skip_reason(ARM_TOOLCHAIN)}
    for item in items:
        for marker, reason in tool_reasons.items():
            if reason and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
                break
        for mark in item.iter_markers("needs_shared"):
            reason = shared_skip_reason(*mark.args)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
                break
