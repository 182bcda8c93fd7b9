"""Measurement math without a device: run rules, count -> µs conversion, map-file components, profile
consistency, the model card of ACDNet-20."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.boards import get_board
from harness.metrics import MeasurementError
from harness.metrics.latency import RunRules, conversion, inferences_per_window, measure_latency, summarize
from harness.metrics.memory import component_of, parse_map
from harness.metrics.profile import build_profile
from harness.protocol.client import Laps
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
needs_acdnet = pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")


def test_twin_latency_is_an_estimate_from_cpi_and_clock():
    board = get_board("stm32f746")
    conv = conversion("instructions", board)
    assert conv.estimate is True and "ESTIMATE" in conv.source
    assert conv.us_per_count == pytest.approx(0.89 / 216)
    hw = conversion("cycles", board)
    assert hw.estimate is False and hw.us_per_count == pytest.approx(1 / 216)
    with pytest.raises(MeasurementError, match="no cpi"):
        conversion("instructions", get_board("esp32"))
    with pytest.raises(MeasurementError, match="cannot be converted"):
        conversion("ticks", board)


def test_median_of_windows_with_min_and_max():
    board = get_board("stm32f746")
    wins = [(2, [216, 216]), (2, [432, 432]), (2, [2160, 0]), (2, [216, 648]), (2, [100, 100])]
    res = summarize(wins, "cycles", board, warmup=1)
    assert (res.median, res.min, res.max) == pytest.approx((2.0, 100 / 216, 5.0))
    assert res.as_dict()["estimate"] is False and res.as_dict()["windows"] == 5


def test_run_rules_need_five_windows_and_size_hardware_windows_by_time():
    with pytest.raises(MeasurementError, match="at least 5"):
        RunRules(windows=3).check()
    board = get_board("stm32f746")
    rules = RunRules(window_s=10.0)
    assert inferences_per_window("cycles", 216_000, board, rules) == 10_000  # 1 ms per inference -> 10 s
    assert inferences_per_window("instructions", 10**8, board, rules) == rules.twin_inferences


class ScriptedClient:
    """Answers infer() with fixed laps and records the commands, to check the run rules' sequence."""

    def __init__(self, unit, count):
        self.unit, self.count, self.calls = unit, count, []

    def infer(self, n, warmup=0, timeout=None):
        self.calls.append(("infer", n, warmup))
        return Laps(self.unit, (self.count,) * n)

    def load_input(self):
        self.calls.append(("load",))


def test_measure_latency_probes_then_runs_windows_with_warmups():
    board = get_board("stm32f746")
    client = ScriptedClient("cycles", 2_160_000)  # 10 ms per inference
    res = measure_latency(client, board.target(False, rules=RunRules(windows=5, warmup=2, window_s=1.0)),
                          reload=client.load_input)
    assert client.calls[:2] == [("load",), ("infer", 1, 2)]
    windows = [c for c in client.calls[2:] if c[0] == "infer"]
    assert windows == [("infer", 100, 2)] * 5 and client.calls.count(("load",)) == 6
    assert res.median == pytest.approx(10_000.0) and res.estimate is False


MAP = """\
Discarded input sections
 .text          0x00000000        0x0 /b/app/main.o

Linker script and memory map

LOAD /b/app/main.o
.text           0x000000c0      0x140
 *(.text .text.*)
 .text.startup.main
                0x000000c0       0x10 /b/app/main.o
                0x000000c0                main
 .text.th_conv2d_s8
                0x000000d0       0x80 /b/kernels/th_conv.o
 .text          0x00000150       0x20 /usr/lib/arm-none-eabi/lib/libc_nano.a(lib_a-memcpy.o)
 *fill*         0x00000170        0x8 
 .rodata.tensor3
                0x00000178       0x40 /b/model/model.o
 .text.Reset_Handler
                0x000001b8        0x8 /b/port/startup.o
.bss            0x20000000      0x110
 .bss.th_arena  0x20000000      0x100 /b/model/model.o
 .bss.s_line    0x20000100       0x10 /b/app/th_protocol.o
"""


def test_map_parser_attributes_each_input_section_to_a_component():
    outputs, inputs = parse_map(MAP)
    assert outputs == {".text": 0x140, ".bss": 0x110}
    got = {(s.name, s.size): component_of(s) for s in inputs}
    assert got == {(".text.startup.main", 0x10): "runtime", (".text.th_conv2d_s8", 0x80): "kernels",
                   (".text", 0x20): "libc", ("*fill*", 8): "other", (".rodata.tensor3", 0x40): "model_weights",
                   (".text.Reset_Handler", 8): "startup_bsp", (".bss.th_arena", 0x100): "tensor_arena",
                   (".bss.s_line", 0x10): "runtime"}


def fake_compiled(macs):
    ops = [SimpleNamespace(index=i, opcode="CONV_2D", outputs=(i,)) for i in range(len(macs))]
    graph = SimpleNamespace(operators=ops, output=lambda op: SimpleNamespace(shape=(1, 4)))
    return SimpleNamespace(graph=graph, calls=[SimpleNamespace(macs=m) for m in macs], path=Path("m.tflite"))


def test_profile_subtracts_timer_reads_and_refuses_a_profile_that_does_not_add_up():
    board = get_board("nrf52840")
    prof = build_profile(fake_compiled([100, 300]), board, "twin", "instructions", (1030, 3030), 30, 4000)
    assert [r.count for r in prof.rows] == [1000, 3000] and prof.deviation == 0
    assert prof.rows[1].share == pytest.approx(0.75) and prof.rows[1].macs_per_count == pytest.approx(0.1)
    assert prof.columns()[-1] == "latency_us_est" and prof.columns()[4] == "instructions"
    with pytest.raises(MeasurementError, match="not trustworthy"):
        build_profile(fake_compiled([100, 300]), board, "twin", "instructions", (1030, 3030), 30, 5000)


@needs_acdnet
def test_acdnet_model_card():
    from harness.boards import load_catalog
    from harness.metrics.model_card import model_card

    card = model_card(ACDNET, load_catalog())
    assert card.parameters == 130_875 and card.macs == 17_466_660
    assert card.operators["CONV_2D"] == 12 and sum(card.operators.values()) == 23
    # conv + pool fusion: 95,520 B (302,144 B unfused); the live-tensor bound counts each shared group once
    assert card.arena_bytes < 100_000 and card.arena_bytes >= card.live_peak_bytes
    assert {f.board: f.fits for f in card.fits} == {"stm32f746": True, "nrf52840": True, "esp32": True,
                                                     "rp2040": True}


@needs_acdnet
def test_inspect_cli_prints_the_card():
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "inspect", "--model", str(ACDNET)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "parameters 130,875" in proc.stdout and "17.47 M" in proc.stdout and "95,520" in proc.stdout
