"""Live and over-the-air audio into the stm32f746 twin, on the virtual sound card (tests/audio/conftest.py).

One file ``bench`` of two real clips (ESC-50 CC0 dog and rooster, resampled to the model's 20 kHz and cut to
5 s) is the reference for both paths:

* ``tinyhil listen`` hears the dog clip through the file-fed virtual microphone with half a window of silence
  on both sides, windows every (length - input)/9 samples: exactly bench's ten crops, so every window's output
  must equal bench's crop output byte for byte, and the clip's prediction bench's; then Ctrl-C stops it cleanly.
* ``bench --over-the-air`` plays both clips into the PulseAudio null sink and records its monitor (a lossless
  loopback): it recovers each clip with the measured delay and gives the file run's outputs bit for bit.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from harness.boards import get_board
from harness.data.preprocess import aggregate, load_waveform
from harness.rundir import read_run

REPO = Path(__file__).resolve().parents[2]
RAW_MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"
CLIPS = ("1-cc0dog-A-0.wav", "1-cc0rooster-A-1.wav")
RATE, N, LENGTH, CROPS = 20000, 100000, 30225, 10  # raw_mini's input: 30,225 samples at 20 kHz
PAD = LENGTH // 2
HOP = (N + 2 * PAD - LENGTH) // (CROPS - 1)  # bench's crop starts linspace(0, 99999, 10) = k * 11111
QUANT = "peak"  # per-crop peak scaling: raw_mini's outputs then depend on the sound (at the tensor scale they
# are a constant -123 for clips this quiet, which would prove nothing)

pytestmark = [pytest.mark.emulator, pytest.mark.needs_shared(*(f"audio/esc50-cc0/audio/{c}" for c in CLIPS))]


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shared_dir) -> Path:
    """An ESC-50 folder of the two clips at 20 kHz, int16, 5 s (no resampling in any later path)."""
    assert (N + 2 * PAD - LENGTH) % (CROPS - 1) == 0
    folder = tmp_path_factory.mktemp("clips20k")
    (folder / "audio").mkdir()
    (folder / "meta").mkdir()
    rows = ["filename,fold,target,category"]
    for name, target in zip(CLIPS, (0, 1)):
        x = load_waveform(shared_dir / "audio" / "esc50-cc0" / "audio" / name, RATE)[:N]
        sf.write(folder / "audio" / name, np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16), RATE,
                 subtype="PCM_16")
        rows.append(f"{name},1,{target},{name.split('-')[1][3:]}")
    (folder / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    return folder


@pytest.fixture(scope="module")
def target():
    return get_board("stm32f746").target(True)


@pytest.fixture(scope="module")
def file_run(clips, target, tmp_path_factory):
    from harness.bench import BenchConfig, run_bench

    return read_run(run_bench(BenchConfig(model=RAW_MINI, data=clips, target=target, quantization=QUANT,
                                          out=tmp_path_factory.mktemp("file-results"))).path)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(c) for c in task.read_text().split()]
    return out


def test_listen_from_the_virtual_microphone_gives_bench_predictions_and_stops_on_ctrl_c(
        virtual_audio, clips, file_run, tmp_path):
    clip = sf.read(clips / "audio" / CLIPS[0], dtype="int16")[0]
    heard = np.concatenate([np.zeros(PAD, np.int16), clip, np.zeros(PAD, np.int16)])
    virtual_audio.set_mic(heard)
    # 12.1 s of audio = 20 windows and a backlog of 20: however slow the twin, none can be dropped; Ctrl-C comes
    # after the tenth prediction, while later windows still wait
    record = tmp_path / "live.wav"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "listen", "--model", str(RAW_MINI), "--board",
                             "stm32f746", "--emulate", "--device", virtual_audio.mic, "--hop", str(HOP / RATE),
                             "--duration", "12.1", "--max-backlog", "20", "--input-quantization", QUANT,
                             "--record", str(record), "--out", str(tmp_path / "listen")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**virtual_audio.env, "COLUMNS": "250"})
    csv_path, deadline, qemu = record.with_suffix(".csv"), time.monotonic() + 600, []
    while time.monotonic() < deadline and proc.poll() is None:
        qemu = qemu or [c for c in _children(proc.pid) if "qemu" in Path(f"/proc/{c}/comm").read_text()]
        if csv_path.exists() and len(csv_path.read_text().splitlines()) > CROPS:
            break
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert "stopped (Ctrl-C)" in stdout and "Traceback" not in stderr
    assert qemu and not any(Path(f"/proc/{q}").exists() for q in qemu)  # the twin was stopped
    assert "instructions (≈" in stdout and "ESTIMATE" in stdout and "dBFS" in stdout and "dropped 0" in stdout

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))[:CROPS]
    assert [int(r["window"]) for r in rows] == list(range(CROPS))
    assert all(f"#{k:<4d}" in stdout and r["top1_label"] in stdout for k, r in enumerate(rows))  # shown live
    assert all(r["dropped"] == "0" for r in rows)
    assert [float(r["start_s"]) for r in rows] == [k * HOP / RATE for k in range(CROPS)]
    bench_rows = sorted((r for r in file_run.inferences if r.input_id == CLIPS[0]), key=lambda r: r.crop)
    live_out = np.array([[int(v) for v in r["output"].split()] for r in rows], np.int8)
    assert np.array_equal(live_out, np.array([r.output for r in bench_rows], np.int8))  # byte for byte
    assert [int(r["top1"]) for r in rows] == [r.prediction for r in bench_rows]
    assert [int(r["count"]) for r in rows] == [r.count for r in bench_rows]  # data-dependent instruction counts
    assert len({r["output"] for r in rows}) > 1  # the outputs follow the sound
    tensor = __import__("harness.codegen.compiler", fromlist=["x"]).compile_model(RAW_MINI).output_tensor
    assert int(np.argmax(aggregate(live_out, tensor))) == file_run.summary.predictions[CLIPS[0]]

    audio, rate = sf.read(record, dtype="int16")
    assert rate == RATE and np.array_equal(audio[:len(heard)], heard)
    log = json.loads(record.with_suffix(".json").read_text())
    assert log["capture"]["capture_rate_hz"] == RATE and log["capture"]["resampled"] is False
    assert log["interrupted"] is True and log["dropped_windows"] == 0


def test_over_the_air_bench_through_the_loopback_matches_the_file_bench_bit_for_bit(
        virtual_audio, clips, target, file_run, tmp_path):
    from harness.audio.compare import file_vs_over_the_air
    from harness.audio.playrec import OverTheAir
    from harness.bench import BenchConfig, run_bench

    ota = OverTheAir(play_device=virtual_audio.loopback, record_device=virtual_audio.loopback, attempts=8)  # shared CPUs
    run = read_run(run_bench(BenchConfig(model=RAW_MINI, data=clips, target=target, out=tmp_path, quantization=QUANT,
                                         over_the_air=ota)).path)
    assert [(r.input_id, r.crop, r.output, r.count) for r in run.inferences] == \
        [(r.input_id, r.crop, r.output, r.count) for r in file_run.inferences]
    assert run.summary.predictions == file_run.summary.predictions
    assert run.summary.accuracy == file_run.summary.accuracy

    assert run.manifest.data.path == str(clips) and run.manifest.data.samples == 2  # what was played
    info = run.manifest.preprocessing["over_the_air"]
    assert info["play_device"] == info["record_device"] == "pulse" and info["sample_rates_hz"] == [RATE]
    assert info["playback_gain"] == 1.0 and "device_gains" in info
    for name in CLIPS:
        clip = info["clips"][name]
        assert clip["delay_samples"] > 0 and clip["delay_ms"] == pytest.approx(1000 * clip["delay_samples"] / RATE)
        assert clip["correlation"] == pytest.approx(1.0) and clip["gain_db"] == 0.0
        recorded = sf.read(run.path / f"ota-{name}", dtype="int16")[0]
        assert np.array_equal(recorded, sf.read(clips / "audio" / name, dtype="int16")[0])
    assert json.loads((run.path / "over_the_air.json").read_text())["clips"] == info["clips"]
    print(f"measured loopback delay: {info['mean_delay_ms']} ms "
          f"({', '.join(str(info['clips'][c]['delay_samples']) for c in CLIPS)} samples at {RATE} Hz)")

    (row,) = file_vs_over_the_air([file_run, run])
    assert row["agree"] == row["clips"] == 2 and row["delta_points"] == 0.0 and row["file_run"] == file_run.run_id
