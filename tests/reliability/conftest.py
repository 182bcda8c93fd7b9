"""Fixtures of the reliability tests: the host DUT (the real targets/common protocol code built with gcc)
behind a socket, the shape of a QEMU twin's UART."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hostdut import HostDut, build_host_dut


@pytest.fixture(scope="session")
def host_dut_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed (apt-get install gcc)")
    return build_host_dut(tmp_path_factory.mktemp("host_dut_reliab"), {"TH_FAKE_INPUT_BYTES": 4000})


@pytest.fixture
def dut(host_dut_exe: Path):
    with HostDut(host_dut_exe, "socket") as running:
        yield running
