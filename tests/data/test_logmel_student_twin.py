"""A log-mel student of the `hinton-kd-urbansound8k` recipe (its `ci` preset, trained here on a tiny dataset in
UrbanSound8K layout) benchmarked directly on WAV files on the STM32F746 twin, as a user runs it:
`tinyhil bench --data urbansound8k --fold 2` with the dataset in the local override, the front end taken from
the student's model card.  One twin run checks the front end, the fold, the manifest and the accuracy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datafolders import urbansound8k_copy
from tests.models.tinydata import make_tiny_esc50

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> tuple[Path, dict, Path]:
    """(student .tflite, its card, the local override folder holding audio/urbansound8k)."""
    pytest.importorskip("torch", reason="the models extra is not installed")
    pytest.importorskip("tensorflow", reason="the models extra is not installed")
    from tinyhil_models.recipes import environment_threads, run_recipe

    environment_threads()
    tmp = tmp_path_factory.mktemp("kd")
    local = tmp / "local"
    us8k = urbansound8k_copy(make_tiny_esc50(tmp / "tiny"), local / "audio" / "urbansound8k")
    cards = run_recipe("hinton-kd-urbansound8k", us8k, tmp / "variants", preset="ci", log=lambda *_: None)
    card = next(c for c in cards if c["name"] == "student-kd-int8")
    return tmp / "variants" / card["file"], card, local


def test_log_mel_student_benchmarks_on_wav_files_of_one_fold(student, tmp_path):
    model, card, local = student
    env = {**os.environ, "TINYHIL_LOCAL_DIR": str(local), "TINYHIL_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "160"}
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--model", str(model), "--data",
                           "urbansound8k", "--fold", "2", "--board", "stm32f746", "--emulate", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    run = next(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    manifest = json.loads((run / "manifest.json").read_text())
    summary = json.loads((run / "summary.json").read_text())
    pre = manifest["preprocessing"]
    assert pre["kind"] == "logmel" and pre["front_end_source"] == "model card"
    assert {k: pre[k] for k in card["frontend"] if k != "kind"} == {k: v for k, v in card["frontend"].items()
                                                                    if k != "kind"}
    assert manifest["data"] == {"path": str((local / "audio" / "urbansound8k").resolve()), "kind": "urbansound8k",
                                "samples": 12, "folds": [2]}
    assert pre["source_rates_hz"] == {"16000": 12} and pre["resampled_clips"] == 12  # 16 kHz clips -> 8 kHz
    # 1.5 s clips at 8 kHz: 148 frames of 10 ms -> 4 patches of 32 frames, each one inference
    assert summary["samples"] == 12 and summary["inferences"] == 48
    assert summary["bit_exact"] is True and summary["mismatches"] == 0
    assert summary["counts"]["unit"] == "instructions" and summary["counts"]["median"] > 0
    # the card's val top-1 is the same front end and fold (val_folds [2]) on the TFLM host interpreter
    assert summary["accuracy"] == pytest.approx(card["val_accuracy_tflite"])
    assert set(summary["labels"]) == {p.name for p in (local / "audio" / "urbansound8k" / "audio" / "fold2").iterdir()}
