"""Dut's watchdog, reset and quarantine against the host DUT (real protocol code): a DUT that hangs is reset
(here: a fresh host DUT process, as QEMU is restarted for a twin) and the inference retried; one that keeps
hanging is quarantined with a one-line error naming the transcript."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

import harness.dut as dut_module
from harness.dut import Dut
from harness.errors import DutQuarantinedError
from harness.protocol.client import DeviceClient
from hostdut import HostDut, fake_model_output

INPUT_BYTES = 4000


def fake_firmware():
    tensor = SimpleNamespace(dtype=np.uint8, shape=(INPUT_BYTES,), nbytes=INPUT_BYTES)
    output = SimpleNamespace(dtype=np.uint8, shape=(16,), nbytes=16)
    board = SimpleNamespace(name="host", clock_hz=1_000_000)
    return SimpleNamespace(compiled=SimpleNamespace(input_tensor=tensor, output_tensor=output),
                           target=SimpleNamespace(board=board))


class Rig:
    """Host DUT processes started on demand; ``hang_after_reset`` makes each new one freeze at once."""

    def __init__(self, exe, tmp_path, hang_after_reset: bool = False) -> None:
        self.exe, self.tmp_path, self.hang = exe, tmp_path, hang_after_reset
        self.duts: list[HostDut] = []

    def start(self) -> DeviceClient:
        dut = HostDut(self.exe, "socket")
        self.duts.append(dut)
        client = DeviceClient(dut.transport, "host", timeout=2.0, ping_timeout=0.1, stall_s=0.5, retries=2,
                              transcript=self.tmp_path / "serial.log")
        client.wait_ready(2.0, ping_interval=0.2)
        if self.hang and len(self.duts) > 1:
            dut.pause()
        return client

    def close(self) -> None:
        for dut in self.duts:
            dut.close()


@pytest.fixture
def fast_watchdog(monkeypatch):
    # 2 W must hold one reset (a fresh host DUT process) and a retried inference on a loaded machine
    monkeypatch.setattr(dut_module, "WATCHDOG_FLOOR_S", 1.5)


def test_hung_dut_is_reset_and_the_inference_retried(host_dut_exe, tmp_path, fast_watchdog):
    rig = Rig(host_dut_exe, tmp_path)
    try:
        dut = Dut(rig.start(), fake_firmware(), tmp_path, device_info={}, reset=rig.start)
        x = np.frombuffer(random.Random(2).randbytes(INPUT_BYTES), np.uint8)
        out, counts = dut.infer(x)
        assert dut.watchdog_s() == pytest.approx(1.5, abs=0.5)  # learned from the first inference
        rig.duts[0].pause()  # the board hangs
        out2, counts2 = dut.infer(x)
        assert out2.tobytes() == out.tobytes() == fake_model_output(x.tobytes())
        assert counts2 == counts and dut.resets == 1 and dut.retries == 1
        assert (tmp_path / "serial.log").read_text().count("# tinyhil serial transcript v1") == 2
    finally:
        rig.close()


def test_dut_that_keeps_hanging_is_quarantined(host_dut_exe, tmp_path, fast_watchdog):
    rig = Rig(host_dut_exe, tmp_path, hang_after_reset=True)
    try:
        dut = Dut(rig.start(), fake_firmware(), tmp_path, device_info={}, reset=rig.start)
        x = np.zeros(INPUT_BYTES, np.uint8)
        dut.infer(x)
        rig.duts[0].pause()
        with pytest.raises(DutQuarantinedError) as info:
            dut.infer(x)
        message = str(info.value)
        assert "quarantined after 3 failed attempt(s) and 2 reset(s)" in message
        assert str(tmp_path / "serial.log") in message and "\n" not in message
    finally:
        rig.close()


def test_refusal_is_raised_without_resets(host_dut_exe, tmp_path):
    """A refusal (here: an input larger than the firmware's) is the DUT meaning it: no reset, one line."""
    from harness.errors import DutRefusedError

    rig = Rig(host_dut_exe, tmp_path)
    try:
        firmware = fake_firmware()
        firmware.compiled.input_tensor = SimpleNamespace(dtype=np.uint8, shape=(INPUT_BYTES + 1,),
                                                         nbytes=INPUT_BYTES + 1)
        dut = Dut(rig.start(), firmware, tmp_path, device_info={}, reset=rig.start)
        with pytest.raises(DutRefusedError, match="e-bload-size-max-4000"):
            dut.infer(np.zeros(INPUT_BYTES + 1, np.uint8))
        assert dut.resets == 0 and len(rig.duts) == 1
    finally:
        rig.close()
