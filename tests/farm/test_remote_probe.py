"""Flashing a farm board through pyocd's remote probe server (``remote:HOST:PORT``).

There is no probe here, so ``pyocd server`` cannot run: the flashing path is tested against the fake pyocd API
the flasher tests use (it records which probe ID was opened and which ELF was programmed), and the real pyocd's
remote plugin is exercised up to its TCP connection (refused: a one-line FlashError).  Unverified without a
probe: programming through a live ``pyocd server``."""

from __future__ import annotations

import socket
import struct

import pytest

from harness.boards import load_catalog
from harness.errors import FlashError
from harness.farm.probe import RemotePyocdFlasher
from fake_pyocd import FakePyocd  # tests/fakes

BOARDS = load_catalog()
MINI_ELF = (b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
            + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0, 0, 0, 0, 52, 32, 0, 40, 0, 0))


@pytest.fixture
def elf(tmp_path):
    p = tmp_path / "firmware.elf"
    p.write_bytes(MINI_ELF)
    return p


def test_programs_through_the_remote_probe_id_not_a_local_probe(elf):
    fake = FakePyocd(probes=())  # no local probe at all: the remote one is never in the local list
    RemotePyocdFlasher(BOARDS["nrf52840"], "remote:10.0.0.7:5555", "rfc2217://10.0.0.7:4001", api=fake).load(elf)
    assert [s.unique_id for s in fake.sessions] == ["remote:10.0.0.7:5555"]
    assert fake.programmed and fake.programmed[0][0] == "remote:10.0.0.7:5555"
    assert all(s.closed for s in fake.sessions)


@pytest.mark.parametrize("probe", ["0670FF55", "remote:host", None])
def test_a_probe_that_is_not_remote_is_refused(elf, probe):
    with pytest.raises(FlashError, match="remote:HOST:PORT"):
        RemotePyocdFlasher(BOARDS["nrf52840"], probe, "rfc2217://h:1", api=FakePyocd()).load(elf)


def test_real_pyocd_reaches_for_the_remote_server_and_fails_in_one_line(elf):
    pytest.importorskip("pyocd")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FlashError) as err:
        RemotePyocdFlasher(BOARDS["nrf52840"], f"remote:127.0.0.1:{port}", "rfc2217://h:1", timeout_s=20).load(elf)
    msg = str(err.value)
    assert "\n" not in msg and f"remote:127.0.0.1:{port}" in msg and "refused" in msg.lower(), msg
