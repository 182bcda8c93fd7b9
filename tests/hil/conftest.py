"""The on-device suite: the same tests on every board and twin (``pytest tests/hil --board=NAME [--tinyhil-emulate]``).

The model under test is ACDNet-20 (the zoo's int8 model) where it fits the board; where the linker says it
does not (nRF52840: 256 KB, RP2040: 264 KB of RAM against a 302 KB tensor arena), the suite records that
refusal (test_memory.py checks its message) and runs tests/fixtures/models/raw_mini_int8.tflite instead, a
small model with ACDNet-20's input and output, so the same clips and checks apply.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import MemoryOverflowError
from tests.conftest import shared_root, shared_skip_reason

REPO = Path(__file__).resolve().parents[2]
SMALL_MODEL = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"


def local_dir() -> Path | None:
    """TINYHIL_LOCAL_DIR, else ../shared beside the repository when present (as the Makefile does), else None
    (the model and clips are then fetched)."""
    env = os.environ.get("TINYHIL_LOCAL_DIR")
    if env:
        return Path(env)
    return shared_root() if shared_skip_reason("models") is None else None


@pytest.fixture(scope="session")
def acdnet20() -> Path:
    from harness.data.fetch import fetch_model

    return fetch_model("acdnet20-int8", local_dir())


@pytest.fixture(scope="session")
def clips() -> Path:
    from harness.data.fetch import fetch_dataset

    return fetch_dataset("esc50-cc0", local_dir())


@pytest.fixture(scope="session")
def acdnet20_build(tinyhil_board, tinyhil_firmware, acdnet20):
    """(Firmware, None) when ACDNet-20 fits the board, else (None, MemoryOverflowError)."""
    try:
        return tinyhil_firmware(acdnet20), None
    except MemoryOverflowError as exc:
        return None, exc


@pytest.fixture
def tinyhil_model(acdnet20_build, acdnet20) -> Path:
    """ACDNet-20 where it fits the board, else the small raw-waveform model."""
    return acdnet20 if acdnet20_build[1] is None else SMALL_MODEL
