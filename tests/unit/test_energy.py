"""Energy drivers against simulators of each monitor (written from their documentation): the real driver
code (and for the PPK2 the real ppk2_api package over a pseudo-terminal) integrates power between the two
GPIO timestamp pulses; a lost trigger, spurious pulses and dropped samples are errors, never numbers."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from harness.boards import get_board
from harness.metrics.energy.base import Capture, EnergyError, measure_energy, window_energy
from harness.metrics.energy.joulescope import JoulescopeMeter
from harness.metrics.energy.model import estimate_energy
from harness.metrics.energy.simulators import JoulescopeSim, Lpm01aSim, Ppk2Sim, dut_trace, lpm_ascii

N, T_INF, I_ACT, I_IDLE, VOLT = 4, 0.002, 0.040, 0.005, 3.3
EXPECTED_UJ = I_ACT * VOLT * T_INF * 1e6  # 264 uJ per inference


def expected(fs, tol_samples=2):
    """Expected per-inference energy and the tolerance of +-tol_samples at each edge."""
    return EXPECTED_UJ, tol_samples * 2 * I_ACT * VOLT / fs * 1e6 / N + 1e-9


# ---- the integration itself -----------------------------------------------------------------------------
def test_window_energy_integrates_between_the_two_pulses():
    fs = 100_000
    cur, level = dut_trace(fs, N, T_INF, I_ACT, I_IDLE)
    res = window_energy(Capture(fs, "sim", current_a=cur, voltage_v=VOLT, trigger=level), N)
    want, tol = expected(fs)
    # the window opens at the first falling edge, so the first pulse's idle samples count too
    assert res.per_inference_uj == pytest.approx(want, abs=tol + 5 * I_IDLE * VOLT / fs * 1e6)
    assert res.avg_power_mw == pytest.approx(I_ACT * VOLT * 1e3, rel=0.01)
    assert res.estimate is False and res.as_dict()["unit"] == "uJ"


@pytest.mark.parametrize("lose", [0, 1])
def test_lost_trigger_is_an_error_not_a_number(lose):
    fs = 100_000
    cur, level = dut_trace(fs, N, T_INF, I_ACT, I_IDLE, lose_pulse=lose)
    with pytest.raises(EnergyError, match="lost trigger: 1 timestamp pulse"):
        window_energy(Capture(fs, "sim", current_a=cur, voltage_v=VOLT, trigger=level), N)


def test_spurious_pulse_and_missing_samples_are_errors():
    fs = 100_000
    cur, level = dut_trace(fs, N, T_INF, I_ACT, I_IDLE)
    glitch = level.copy()
    glitch[len(level) // 2] = False
    with pytest.raises(EnergyError, match="3 timestamp pulses"):
        window_energy(Capture(fs, "sim", current_a=cur, voltage_v=VOLT, trigger=glitch), N)
    holes = cur.copy()
    holes[len(cur) // 2: len(cur) // 2 + 10] = np.nan
    with pytest.raises(EnergyError, match="10 sample\\(s\\) missing"):
        window_energy(Capture(fs, "sim", current_a=holes, voltage_v=VOLT, trigger=level), N)


# ---- Joulescope (v1 API simulator) ----------------------------------------------------------------------
class FakeClient:
    """A DUT client whose ``infer`` makes the simulated DUT draw current and pulse the timestamp line."""

    def __init__(self, sim, fs, **fault):
        self.sim, self.fs, self.fault = sim, fs, fault

    def infer(self, n, warmup=0, timeout=None):
        cur, level = dut_trace(self.fs, n, T_INF, I_ACT, I_IDLE, lose_pulse=self.fault.get("lose_pulse"))
        self.sim.feed(cur, level, VOLT, **{k: v for k, v in self.fault.items() if k != "lose_pulse"})


def test_joulescope_driver_measures_a_window():
    sim = JoulescopeSim(sampling_frequency=1_000_000)
    meter = JoulescopeMeter(sim)
    assert sim.parameters == {"i_range": "auto", "current_lsb": "gpi0"} and sim.is_open
    res = measure_energy(FakeClient(sim, sim.sampling_frequency), meter, N)
    want, tol = expected(sim.sampling_frequency)
    assert res.per_inference_uj == pytest.approx(want, abs=tol + 0.1)
    meter.close()
    assert not sim.is_open


@pytest.mark.parametrize("fault, message", [
    ({"lose_pulse": 1}, "lost trigger"),
    ({"missing": (7000, 50)}, "missing inside the inference window"),
    ({"overflow": True}, "filled its"),
])
def test_joulescope_faults_are_errors(fault, message):
    sim = JoulescopeSim(sampling_frequency=1_000_000)
    meter = JoulescopeMeter(sim)
    with pytest.raises(EnergyError, match=message):
        measure_energy(FakeClient(sim, sim.sampling_frequency, **fault), meter, N)


# ---- PPK2 (wire protocol on a pty, real ppk2_api) -------------------------------------------------------
needs_ppk2 = pytest.mark.skipif(importlib.util.find_spec("ppk2_api") is None,
                                reason="ppk2-api not installed (pip install '.[energy]')")


@pytest.fixture
def ppk2():
    sim = Ppk2Sim()
    yield sim
    sim.close()


def run_ppk2(sim, **fault):
    from harness.metrics.energy.ppk2 import SAMPLE_RATE_HZ, Ppk2Meter

    meter = Ppk2Meter(sim.port, voltage_mv=3300, logic_channel=3, poll_s=0.005)
    try:
        meter.start()
        cur, level = dut_trace(SAMPLE_RATE_HZ, N, T_INF, I_ACT, I_IDLE, lose_pulse=fault.get("lose_pulse"))
        sim.feed(cur, level, channel=3, drop=fault.get("drop"))
        sim.drain()
        return window_energy(meter.stop(), N)
    finally:
        meter.close()


@needs_ppk2
def test_ppk2_driver_measures_a_window(ppk2):
    res = run_ppk2(ppk2)
    want, _ = expected(100_000)
    assert res.per_inference_uj == pytest.approx(want, rel=0.01)  # ADC quantisation: 47 uA steps in range 2
    ops = [c[0] for c in ppk2.commands]
    assert ops[:1] == [0x19] and 0x06 in ops and 0x07 in ops  # metadata first, then start and stop streaming
    assert (0x11, 2) in ppk2.commands and (0x0C, 1) in ppk2.commands  # source meter, DUT power on


@needs_ppk2
@pytest.mark.parametrize("fault, message", [({"lose_pulse": 0}, "lost trigger"),
                                            ({"drop": (600, 40)}, "missing inside the inference window")])
def test_ppk2_faults_are_errors(ppk2, fault, message):
    with pytest.raises(EnergyError, match=message):
        run_ppk2(ppk2, **fault)


# ---- LPM01A (text protocol on a pty) --------------------------------------------------------------------
def test_lpm_number_format():
    assert lpm_ascii(640.9e-6) == "6409-07" and float("6409e-07") == pytest.approx(640.9e-6)
    assert lpm_ascii(0.0) == "0000+00"


@pytest.fixture
def lpm():
    sim = Lpm01aSim()
    yield sim
    sim.close()


def run_lpm(sim, **fault):
    from harness.metrics.energy.lpm01a import Lpm01aMeter

    meter = Lpm01aMeter(sim.port, freq="5k", timeout_s=3)
    try:
        assert sim.settings["eventsrc"] == "d7 fal" and sim.settings["output"] == "energy"
        meter.start()
        cur, level = dut_trace(sim.freq, N, T_INF, I_ACT, I_IDLE, idle_s=0.01, pulse_s=400e-6,
                               lose_pulse=fault.get("lose_pulse"))
        sim.feed(cur, level, VOLT, overrun_at=fault.get("overrun_at"))
        sim.drain()
        return window_energy(meter.stop(), N)
    finally:
        meter.close()


def test_lpm01a_driver_measures_a_window(lpm):
    res = run_lpm(lpm)
    want, tol = expected(5000)
    assert res.per_inference_uj == pytest.approx(want, abs=tol + 0.2 * EXPECTED_UJ * 1e-3 + 2 * I_IDLE * VOLT / 5000 * 1e6)


@pytest.mark.parametrize("fault, message", [({"lose_pulse": 1}, "lost trigger"), ({"overrun_at": 60}, "overrun")])
def test_lpm01a_faults_are_errors(lpm, fault, message):
    with pytest.raises(EnergyError, match=message):
        run_lpm(lpm, **fault)


def test_lpm01a_refused_command_is_one_line_error(lpm):
    from harness.metrics.energy.lpm01a import Lpm01aMeter

    meter = Lpm01aMeter(lpm.port, timeout_s=3)
    with pytest.raises(EnergyError, match="refused 'bogus 1'"):
        meter.command("bogus 1")
    meter.close()


# ---- the power-model estimate ---------------------------------------------------------------------------
def test_estimate_from_the_power_model_is_labelled_and_never_zero():
    board = get_board("stm32f746")
    est = estimate_energy(board, 1000.0, "ESTIMATE: test")
    assert est.estimate is True and "ESTIMATE" in est.source and "DS10916" in est.source
    assert est.per_inference_uj == pytest.approx(102 * 3.3 * 1000 / 1000)  # mA * V * us / 1000 = uJ
    assert estimate_energy(get_board("rp2040"), 1000.0, "x") is None  # no power model: not measured, not 0
