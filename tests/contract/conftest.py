"""Fixtures for the protocol and transport contract tests: the host DUT (real targets/common protocol code
compiled with gcc against targets/host) behind a socket or a pty."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.protocol.client import DeviceClient
from hostdut import HostDut, build_host_dut

@pytest.fixture(scope="session")
def host_dut_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed (apt-get install gcc)")
    return build_host_dut(tmp_path_factory.mktemp("host_dut"))


@pytest.fixture(params=["socket", "pty"])
def dut(request: pytest.FixtureRequest, host_dut_exe: Path):
    with HostDut(host_dut_exe, request.param) as running:
        yield running


@pytest.fixture
def client(dut: HostDut) -> DeviceClient:
    c = DeviceClient(dut.transport, board="host", timeout=2.0)
    c.wait_ready(2.0)
    return c
