"""Quarantine within 2x the watchdog, on the host DUT (the real targets/common protocol code) and a virtual clock.

A frozen DUT is simulated without waiting: while the host DUT process is stopped (SIGSTOP) a read first takes
what its socket already holds and then returns at once, advancing the virtual clock by the read's whole
timeout, as if the host had waited it out.  The client, the Dut and the reset hook all measure time on that
clock, so the sequence of attempts and their deadlines is checked exactly and the test takes well under a
second of real time whatever the machine's load (no wall-clock assertion)."""

from __future__ import annotations

import random
import time
from types import SimpleNamespace

import numpy as np
import pytest
from hostdut import HostDut, fake_model_output

import harness.dut as dut_module
from harness.dut import QUARANTINE_WATCHDOGS, Dut
from harness.errors import DutQuarantinedError
from harness.protocol.client import DeviceClient

INPUT_BYTES = 4000
WATCHDOG_S = 60.0  # virtual seconds (the floor of the watchdog, patched: the learned one is far below it)


class VirtualClock:
    """Real monotonic time plus the waits a frozen DUT made the host skip."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped


class FrozenAwareTransport:
    """A host DUT's transport whose reads cost virtual time only while the DUT is frozen; ``thaw_at`` (virtual
    clock seconds) resumes the DUT when the clock passes it."""

    def __init__(self, dut: HostDut, clock: VirtualClock) -> None:
        self.dut, self.inner, self.clock = dut, dut.transport, clock
        self.frozen = False
        self.thaw_at: float | None = None
        self.waits: list[float] = []  #: timeouts of the reads that found the frozen DUT silent (virtual s)

    def freeze(self, thaw_at: float | None = None) -> None:
        self.dut.pause()
        self.frozen, self.thaw_at = True, thaw_at

    def write(self, data: bytes) -> None:
        self.inner.write(data)

    def read(self, n: int, timeout: float) -> bytes:
        if self.frozen and self.thaw_at is not None and self.clock() >= self.thaw_at:
            self.dut.resume()
            self.frozen = False
        if not self.frozen:
            return self.inner.read(n, timeout)
        data = self.inner.read(n, 0.0)  # bytes sent before the freeze
        if not data:
            self.waits.append(timeout)
            self.clock.skipped += max(timeout, 0.0)
        return data

    def close(self) -> None:
        self.inner.close()


class Rig:
    """Host DUTs on one virtual clock; ``start(deadline=...)`` is the reset hook (a fresh process, its boot
    wait ending by the deadline); with ``dead_after_reset`` every restarted DUT freezes right after booting."""

    def __init__(self, exe, tmp_path, dead_after_reset: bool = False) -> None:
        self.exe, self.tmp_path, self.dead = exe, tmp_path, dead_after_reset
        self.clock = VirtualClock()
        self.links: list[FrozenAwareTransport] = []
        self.boots: list[float | None] = []  #: the deadline each boot was given

    def start(self, deadline: float | None = None) -> DeviceClient:
        link = FrozenAwareTransport(HostDut(self.exe, "socket"), self.clock)
        self.links.append(link)
        self.boots.append(deadline)
        client = DeviceClient(link, "host", timeout=2.0, ping_timeout=0.1, stall_s=0.5, retries=2,
                              transcript=self.tmp_path / "serial.log")
        client.clock = self.clock
        with client.watchdog(deadline):
            client.wait_ready(2.0, ping_interval=0.2)
        if self.dead and len(self.links) > 1:
            link.freeze()
        return client

    def close(self) -> None:
        for link in self.links:
            link.dut.close()


def fake_firmware():
    tensor = SimpleNamespace(dtype=np.uint8, shape=(INPUT_BYTES,), nbytes=INPUT_BYTES)
    output = SimpleNamespace(dtype=np.uint8, shape=(16,), nbytes=16)
    board = SimpleNamespace(name="host", clock_hz=1_000_000)
    return SimpleNamespace(compiled=SimpleNamespace(input_tensor=tensor, output_tensor=output),
                           target=SimpleNamespace(board=board))


@pytest.fixture
def watchdog_60s(monkeypatch):
    monkeypatch.setattr(dut_module, "WATCHDOG_FLOOR_S", WATCHDOG_S)


def _ready_dut(rig: Rig, tmp_path) -> tuple[Dut, np.ndarray]:
    dut = Dut(rig.start(), fake_firmware(), tmp_path, device_info={}, reset=rig.start)
    x = np.frombuffer(random.Random(5).randbytes(INPUT_BYTES), np.uint8)
    out, _ = dut.infer(x)  # learns the watchdog (the floor here)
    assert out.tobytes() == fake_model_output(x.tobytes()) and dut.watchdog_s() == WATCHDOG_S
    return dut, x


def test_dead_dut_is_quarantined_within_two_watchdogs(host_dut_exe, tmp_path, watchdog_60s):
    rig = Rig(host_dut_exe, tmp_path, dead_after_reset=True)
    try:
        dut, x = _ready_dut(rig, tmp_path)
        rig.links[0].freeze()  # dead from now on, and so is every restarted DUT
        started = rig.clock()
        with pytest.raises(DutQuarantinedError) as info:
            dut.infer(x)
        elapsed = rig.clock() - started
        kinds = [kind for kind, _, _ in dut.attempts]
        assert kinds == ["infer", "reset", "infer", "reset", "infer"] and dut.resets == 2
        (_, t0, first), (_, t1, d1), (_, _, d1b), (_, t2, d2), (_, _, d2b) = dut.attempts
        # the first attempt had its whole watchdog and used it (nothing cut it short, nothing let it run on)
        assert first == pytest.approx(t0 + WATCHDOG_S, abs=1e-6) and t1 >= first
        # each reset and its retry share one deadline: half of what was left of the budget (< 2 W), then the rest
        end = t0 + QUARANTINE_WATCHDOGS * WATCHDOG_S
        assert QUARANTINE_WATCHDOGS <= 2.0
        assert d1b == d1 and d2b == d2 and d1 == pytest.approx(t1 + (end - t1) / 2, abs=1e-6)
        assert d2 == pytest.approx(end, abs=1e-6) and t2 >= d1
        assert rig.boots[1:] == [d1, d2]  # the restarted DUTs' boot waits ended by the same deadlines
        # virtual time: waits skipped at the frozen DUTs + the real time of the restarts (within the deadlines)
        assert WATCHDOG_S <= elapsed <= 2 * WATCHDOG_S
        assert max(rig.links[0].waits) <= WATCHDOG_S  # no single wait outlived the watchdog
        message = str(info.value)
        assert "quarantined after 3 failed attempt(s) and 2 reset(s)" in message and "watchdog 60.0 s" in message
        assert str(tmp_path / "serial.log") in message and "\n" not in message
    finally:
        rig.close()


def test_dut_paused_shorter_than_its_watchdog_completes_without_reset(host_dut_exe, tmp_path, watchdog_60s):
    """A 30 s stall in the middle of a load (the DUT frozen after the bload command) is waited out: the
    inference completes on the same DUT with the right output, no reset."""
    rig = Rig(host_dut_exe, tmp_path)
    try:
        dut, x = _ready_dut(rig, tmp_path)
        link = rig.links[0]
        write = link.write

        def freeze_after_bload(data: bytes) -> None:
            write(data)
            if b"bload" in data and not link.frozen and link.thaw_at is None:
                link.freeze(thaw_at=rig.clock() + 30.0)

        link.write = freeze_after_bload
        started = rig.clock()
        out, _ = dut.infer(x)
        assert out.tobytes() == fake_model_output(x.tobytes())
        assert dut.resets == 0 and [k for k, _, _ in dut.attempts] == ["infer"]
        assert 30.0 <= rig.clock() - started < WATCHDOG_S
    finally:
        rig.close()


def test_dut_paused_longer_than_its_watchdog_is_reset_and_completes(host_dut_exe, tmp_path, watchdog_60s):
    """Frozen for 90 s (longer than W): the first attempt ends at W, the DUT is restarted (healthy) and the
    inference retried within the second watchdog."""
    rig = Rig(host_dut_exe, tmp_path)
    try:
        dut, x = _ready_dut(rig, tmp_path)
        rig.links[0].freeze(thaw_at=rig.clock() + 90.0)
        started = rig.clock()
        out, _ = dut.infer(x)
        assert out.tobytes() == fake_model_output(x.tobytes())
        assert [k for k, _, _ in dut.attempts] == ["infer", "reset", "infer"] and dut.resets == dut.retries == 1
        assert WATCHDOG_S <= rig.clock() - started < 2 * WATCHDOG_S
    finally:
        rig.close()
