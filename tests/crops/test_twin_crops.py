"""Clip crops on the stm32f746 twin (issue 12, item 8): `bench` of the small raw-waveform fixture model (ACDNet's
30,225-sample input) on a real clip, once with the crops cut by the DUT from one uploaded clip and once with
host-cut crops: the same outputs and instruction counts (both bit-exact with the host reference), about a third
of the bytes uploaded, and the manifest says where the crops were cut and how big the clip buffer is; a run
interrupted in the middle of a clip and resumed equals the uninterrupted one."""

from __future__ import annotations

import contextlib
import csv
import json
import signal
from pathlib import Path

import pytest

from harness.bench import BenchConfig, config_from_resume, run_bench
from harness.boards import get_board
from harness.errors import RunInterruptedError
from harness.orchestrate import connect
from tests.conftest import shared_path

RAW_MINI = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "raw_mini_int8.tflite"
CLIPS = shared_path("audio", "esc50-cc0")

pytestmark = [pytest.mark.emulator, pytest.mark.needs_shared("audio/esc50-cc0")]


def uploaded_bytes(serial_log: Path) -> int:
    """Bytes the host sent in bulk loads (``bload`` / ``clip load`` and their frames)."""
    total, loading = 0, False
    for line in serial_log.read_text().splitlines():
        if line.startswith("#"):
            continue
        _, direction, data = line.split(" ", 2)
        raw = bytes.fromhex(data)
        if direction == ">" and raw[:1].isalpha():
            loading = raw.startswith((b"bload ", b"clip load "))
        if direction == ">" and loading:
            total += len(raw)
    return total


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("crops")
    target = get_board("stm32f746").target(True)
    done = {}
    for mode in ("auto", "host"):
        cfg = BenchConfig(model=RAW_MINI, data=CLIPS, target=target, out=out / mode, limit=1, crops=mode)
        done[mode] = run_bench(cfg).path
    return done


def records(run: Path) -> list[tuple]:
    with open(run / "inferences.csv") as f:
        return [(r["input_id"], r["crop"], r["count"], r["output"], r["matches_reference"]) for r in csv.DictReader(f)]


def test_device_crops_give_the_host_crops_outputs_and_counts(runs):
    dut, host = records(runs["auto"]), records(runs["host"])
    assert len(dut) == 10 and dut == host
    assert {r[4].lower() for r in dut} == {"true"}  # every output equals the TFLM reference on the host's crop


def test_manifest_and_bytes_moved(runs):
    dut = json.loads((runs["auto"] / "manifest.json").read_text())["preprocessing"]["crop_delivery"]
    host = json.loads((runs["host"] / "manifest.json").read_text())["preprocessing"]["crop_delivery"]
    assert dut["clips_cut_on_dut"] == 1 and dut["mean_clip_upload_bytes"] == 100_000
    assert dut["clip_buffer_bytes"] > 100_000  # the RAM above the stack on a 320 KB board
    assert host["clips_cut_on_dut"] == 0 and host["host_crops_because"] == {"host crops requested": 1}
    auto_bytes, host_bytes = (uploaded_bytes(runs[m] / "serial.log") for m in ("auto", "host"))
    # 100,000 B (the post-run measurements cut from the held clip) vs 10 x 30,225 B + 7 x 30,225 B (measurements)
    assert auto_bytes < 0.4 * host_bytes, (auto_bytes, host_bytes)


@contextlib.contextmanager
def interrupted_after(crops: int, firmware, run_dir):
    """connect(), but the DUT's crop inference number ``crops + 1`` is interrupted as by SIGTERM."""
    with connect(firmware, run_dir=run_dir) as dut:
        real, calls = dut.infer_crop, []

        def infer_crop(plan, k):
            calls.append(k)
            if len(calls) > crops:
                raise RunInterruptedError("interrupted by SIGTERM (test)", signal.SIGTERM)
            return real(plan, k)

        dut.infer_crop = infer_crop
        yield dut


def test_a_run_interrupted_mid_clip_resumes_to_the_same_records(runs, tmp_path):
    target = get_board("stm32f746").target(True)
    cfg = BenchConfig(model=RAW_MINI, data=CLIPS, target=target, out=tmp_path, limit=1, crops="auto",
                      connector=lambda firmware, run_dir: interrupted_after(6, firmware, run_dir))
    with pytest.raises(RunInterruptedError):
        run_bench(cfg)
    work = next(tmp_path.glob(".*.work"))
    resumed = run_bench(config_from_resume(work), resume=work).path  # crops 6..9: the clip uploaded again
    assert records(resumed) == records(runs["auto"])
