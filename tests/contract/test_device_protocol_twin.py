"""The same protocol contract on QEMU twins: targets/common built by the real firmware build (PlatformIO,
arm-none-eabi-gcc) with the host port's fake model, driven over QEMU's serial socket."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest

from harness.boards import get_board
from harness.build import build_firmware
from harness.flash.qemu import QemuTwin
from harness.protocol.client import DeviceClient
from harness.protocol.constants import FRAME_MAGIC, PROTOCOL_VERSION
from harness.transport.faults import FaultInjectingTransport
from hostdut import TARGETS, fake_model_output
from harness.transport.serial import SerialTransport

pytestmark = pytest.mark.emulator

INPUT_BYTES = 3000  # small: the MPS2 UART model moves only a few KB/s
TWINS = ["stm32f746", "rp2040"]  # Cortex-M7 and an ARMv6-M (M0+) build




@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("twin_protocol")
    model = root / "model"
    model.mkdir()
    for name in ("model.h", "model.c"):
        shutil.copy(TARGETS / "host" / name, model / name)
    return {name: build_firmware(get_board(name).target(True), model, build_root=root,
                                 defines={"TH_FAKE_INPUT_BYTES": INPUT_BYTES}) for name in TWINS}


@pytest.mark.parametrize("name", TWINS)
def test_twin_protocol(images, name, tmp_path):
    data = os.urandom(INPUT_BYTES)
    with QemuTwin(get_board(name).target(True), images[name].elf, log_dir=tmp_path) as twin:
        faulty = FaultInjectingTransport(SerialTransport(twin.url))
        faulty.flip_byte(struct.pack("<BHH", FRAME_MAGIC, 1, 1024), 5 + 7)
        client = DeviceClient(faulty, name, timeout=10.0, transcript=tmp_path / "serial.transcript")
        client.wait_ready(10.0)
        assert client.name() == f"{name}-fake"
        facts = client.device_info()
        assert facts["protocol"] == PROTOCOL_VERSION and facts["kind"] == "twin"
        assert facts["timer_unit"] == "instructions" and facts["input_bytes"] == INPUT_BYTES
        output, laps = client.run_inference(data, n=2)
        assert output == fake_model_output(data) and client.resends == 1
        assert laps.unit == "instructions" and laps.counts[0] == laps.counts[1] > INPUT_BYTES  # exact, repeatable
        client.load_input(bytes(reversed(data)), binary=False)
        client.infer(1)
        assert client.results() == fake_model_output(bytes(reversed(data)))
        client.close()
    assert Path(tmp_path / "serial.transcript").stat().st_size > 2 * INPUT_BYTES
