"""Measurement on the twins (issue 4): one session per twin, reused by several assertions.

ACDNet-20 on the Cortex-M7 twin: exact instruction counts identical across two boots, per-operator profile
summing to the whole inference within 1%, peak stack and arena; the 256 KB twins run the raw_mini fixture
(ACDNet-20 does not fit them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.metrics.latency import measure_latency
from harness.metrics.profile import demo_input, run_profile
from harness.orchestrate import Firmware, connect
from tests.conftest import shared_path

REPO = Path(__file__).resolve().parents[2]
ACDNET = shared_path("models", "acdnet20_esc50_fold4_int8.tflite")
RAW_MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"

pytestmark = [pytest.mark.emulator, pytest.mark.needs_shared("models/acdnet20_esc50_fold4_int8.tflite")]

MODELS = {"stm32f746": ACDNET, "nrf52840": RAW_MINI, "rp2040": RAW_MINI}


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    root = tmp_path_factory.mktemp("measure")
    return {board: run_profile(model, get_board(board).target(True), log_dir=root / board)
            for board, model in MODELS.items()}


def headline(session, board: str, model) -> Firmware:
    """The headline firmware of a profile session, to boot again."""
    from harness.build import FirmwareImage  # noqa: PLC0415

    target = get_board(board).target(True)
    image = FirmwareImage(session.elf, "", board, target.kind, {}, session.elf, "", ())
    return Firmware(target, compile_model(model), image)


def test_acdnet_instruction_count_is_identical_across_two_boots(sessions, tmp_path):
    """The session booted the headline firmware once; boot it again, same input, same count."""
    s = sessions["stm32f746"]
    fw = headline(s, "stm32f746", ACDNET)
    data = demo_input(fw.compiled.input_tensor).tobytes()
    with connect(fw, run_dir=tmp_path) as dut:
        dut.client.load_input(data)
        again = dut.client.infer(1, 0)
    assert again.unit == "instructions"
    assert again.counts[0] == s.whole_counts[0]
    assert 17_466_660 < again.counts[0] < 20 * 17_466_660


def test_acdnet_profile_sums_to_the_whole_inference(sessions, tmp_path):
    p = sessions["stm32f746"].profile
    # 23 TFLite operators run as 17 steps: each of the 6 conv + max-pool pairs is one fused row
    assert p.unit == "instructions" and p.estimate is True and len(p.rows) == 17
    assert sum(r.operator == "CONV_2D+MAX_POOL_2D" for r in p.rows) == 6
    assert abs(p.total - p.whole) <= 0.01 * p.whole  # done-when: within 1%
    assert sum(r.macs for r in p.rows) == 17_466_660
    top = p.top(5)
    assert top[0].operator.startswith("CONV_2D") and all(r.count > 0 for r in p.rows)
    csv_path, json_path = p.save(tmp_path)
    header = csv_path.read_text().splitlines()[0]
    assert "latency_us_est" in header and "instructions" in header and "cycles" not in header
    doc = json.loads(json_path.read_text())
    assert doc["estimate"] is True and doc["whole"] == p.whole and len(doc["operators"]) == 17


@pytest.mark.parametrize("twin_name", sorted(MODELS))
def test_peak_stack_and_arena_on_each_twin(sessions, twin_name):
    board = twin_name
    s = sessions[board]
    compiled = compile_model(MODELS[board])
    assert s.arena_bytes == compiled.plan.arena_bytes
    assert s.components.ram["tensor_arena"] == compiled.plan.arena_bytes  # the linker placed exactly the plan
    assert 0 < s.stack.base < s.stack.peak < s.stack.size == 8192
    assert s.memory.ram_bytes <= get_board(board).ram_bytes
    # components add up to the section totals, and almost nothing is unattributed
    assert sum(s.components.flash.values()) == s.memory.flash_bytes
    assert sum(s.components.ram.values()) == s.memory.ram_bytes
    assert s.components.flash["other"] < 256 and s.components.flash["model_weights"] >= compiled.weight_bytes
    assert abs(s.profile.total - s.profile.whole) <= 0.01 * s.profile.whole


def test_latency_windows_on_the_twin_are_an_exact_repeatable_estimate(sessions, tmp_path):
    s = sessions["nrf52840"]
    fw = headline(s, "nrf52840", RAW_MINI)
    data = demo_input(fw.compiled.input_tensor).tobytes()
    board = fw.target.board
    with connect(fw, run_dir=tmp_path) as dut:
        lat = measure_latency(dut.client, fw.target, reload=lambda: dut.client.load_input(data))
    assert lat.estimate is True and lat.count_unit == "instructions" and len(lat.windows) == 5
    assert {w.total_count for w in lat.windows} == {s.whole_counts[0]}  # every window: the same exact count
    assert lat.median == pytest.approx(s.whole_counts[0] * board.cpi.value / 64)  # instructions x CPI / MHz
    assert lat.as_dict()["estimate"] is True and "ESTIMATE" in lat.source


def test_firmware_counting_another_unit_than_the_target_is_refused(sessions, tmp_path):
    """connect() checks the firmware's timer unit against the target's: instructions from a twin's firmware must
    never be recorded as a board's cycles."""
    from harness.errors import ProtocolError
    from harness.target import TimerSource

    fw = headline(sessions["nrf52840"], "nrf52840", RAW_MINI)
    wrong = fw.target.model_copy(update={"timer": TimerSource.CYCLES})
    with pytest.raises(ProtocolError, match="counts 'instructions', this target counts 'cycles'"):
        with connect(fw, wrong, run_dir=tmp_path):
            pass
