"""listen when the DUT is slower than the hop: windows are dropped oldest first and counted, the backlog never
exceeds its limit. Real microphone stream (the virtual sound card), a fake DUT that takes 0.25 s per window."""

from __future__ import annotations

import contextlib
import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.dut import Counts

REPO = Path(__file__).resolve().parents[2]
RAW_MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"


@dataclass
class _Firmware:
    compiled: object


class _SlowDut:
    """The Dut seam (``infer``, ``board``) without a device: zeros after 0.25 s, a made-up count."""

    def __init__(self, compiled, board) -> None:
        self.compiled, self.board = compiled, board

    def infer(self, x):
        time.sleep(0.25)
        out = self.compiled.output_tensor
        return np.zeros(out.shape, out.dtype), Counts(1000, "instructions")


def test_a_slow_dut_drops_the_oldest_windows_and_counts_them(virtual_audio, monkeypatch, tmp_path):
    import harness.audio.live as live

    compiled = compile_model(RAW_MINI)
    target = get_board("stm32f746").target(True)
    monkeypatch.setattr(live, "prepare", lambda *a, **k: _Firmware(compiled))
    monkeypatch.setattr(live, "connect", lambda fw, run_dir: contextlib.nullcontext(_SlowDut(compiled, target.board)))
    rate = virtual_audio.rate
    t = np.arange(4 * rate) / rate
    virtual_audio.set_mic((0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    cfg = live.ListenConfig(model=RAW_MINI, target=target, device=virtual_audio.mic, hop_s=0.05, duration_s=3.0,
                            max_backlog=3, record=tmp_path / "slow.wav", out=tmp_path)
    result = live.run_listen(cfg, Console(file=open(tmp_path / "console.txt", "w"), width=200))

    with open(tmp_path / "slow.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    windows = (3 * rate - compiled.input_tensor.size) // 1000 + 1  # every window of the 3 s, hop 1000 samples
    assert result.inferences == len(rows) and result.inferences + result.dropped == windows and result.dropped > 0
    assert all(int(r["backlog"]) <= 3 for r in rows)
    dropped = [int(r["dropped"]) for r in rows]
    assert dropped == sorted(dropped) and dropped[-1] <= result.dropped
    indices = [int(r["window"]) for r in rows]
    assert indices[0] == 0 and indices == sorted(indices) and indices[-1] == windows - 1  # the newest is kept
    assert abs(float(rows[0]["level_dbfs"]) - (-9.03)) < 0.05  # the sine at half scale, through the stream
