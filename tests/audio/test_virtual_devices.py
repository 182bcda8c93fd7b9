"""Devices and their errors on the virtual sound card (real sounddevice + PortAudio, no DUT)."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.audio.devices import list_devices, pick_device, require_rate
from harness.audio.playrec import OverTheAir
from harness.errors import AudioError



REPO = Path(__file__).resolve().parents[2]


def test_audio_devices_lists_the_virtual_microphone_and_loopback(virtual_audio):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "audio-devices"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env={**virtual_audio.env, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    assert virtual_audio.mic in proc.stdout and "pulse" in proc.stdout and "ALSA" in proc.stdout
    names = {d.name for d in list_devices()}
    assert {virtual_audio.mic, virtual_audio.loopback} <= names


def test_unknown_device_and_unsupported_rate_are_one_line_errors(virtual_audio):
    with pytest.raises(AudioError, match="no audio device named 'no-such-mic'.*tinyhil audio-devices"):
        pick_device("no-such-mic", "input")
    mic = pick_device(virtual_audio.mic, "input")
    with pytest.raises(AudioError, match="does not support 3000000 Hz.*tinyhil audio-devices"):
        require_rate(mic, 3_000_000, "input")


def test_no_input_device_names_the_fix():
    """Without a sound server (PULSE_SERVER pointing nowhere) and without a sound card PortAudio has no device:
    listen says so in one line, before any firmware is built."""
    if Path("/proc/asound/cards").exists() and "no soundcards" not in Path("/proc/asound/cards").read_text():
        pytest.skip("this machine has a sound card, so PortAudio always has a device")
    env = {**os.environ, "PULSE_SERVER": "unix:/nonexistent", "COLUMNS": "300"}
    env.pop("ALSA_CONFIG_PATH", None)
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "listen", "--model", "m.tflite", "--emulate"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = " ".join(proc.stderr.split())
    assert "no audio microphone/input device found" in err and "tinyhil audio-devices" in err
    assert "Traceback" not in proc.stderr


def test_missing_portaudio_library_names_the_debian_package(monkeypatch):
    """sounddevice's own import with the library not found (its OSError) becomes one line naming libportaudio2."""
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if "portaudio" in name else real(name))
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    from harness.audio.devices import sounddevice

    try:
        with pytest.raises(AudioError, match="PortAudio library not found; .*apt-get install libportaudio2"):
            sounddevice()
    finally:
        sys.modules.pop("sounddevice", None)  # the next import finds the real library again


def test_loopback_recovers_the_clip_with_the_measured_delay(virtual_audio):
    """play -> null sink -> monitor -> record: the clip comes back sample for sample, after a delay > 0."""
    rng = np.random.default_rng(7)
    rate = virtual_audio.rate
    clip = (rng.standard_normal(rate) * 3000).astype(np.int16)
    take = OverTheAir(play_device=virtual_audio.loopback, record_device=virtual_audio.loopback, attempts=8).take(clip, rate)
    assert np.array_equal(take.recovered, clip)
    assert take.correlation == pytest.approx(1.0)
    assert 0 < take.delay_samples < rate // 2 and take.gain_db == 0.0


def test_play_and_record_devices_need_over_the_air():
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--emulate", "--play-device", "3"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2 and "need --over-the-air" in proc.stderr and "Traceback" not in proc.stderr


def test_a_capture_rate_other_than_the_model_rate_is_resampled_per_window(virtual_audio):
    from harness.audio.capture import plan_capture
    from harness.audio.live import _FrontEnd
    from harness.audio.windows import WindowCutter
    from harness.codegen.compiler import compile_model
    from harness.data.preprocess import RawCrops

    plan = plan_capture(virtual_audio.mic, 20000, capture_rate=44100)
    assert plan.resampled and plan.describe()["resampler"].startswith("scipy.signal.resample_poly")
    tensor = compile_model(REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite").input_tensor
    front = _FrontEnd(RawCrops(), tensor, plan, tensor.size)
    t = np.arange(80000) / 44100
    (window,) = WindowCutter(int(np.ceil(tensor.size * 44100 / 20000)), 10**6).push(
        (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    x = front.waveform(window)
    expected = 0.5 * np.sin(2 * np.pi * 440 * np.arange(tensor.size) / 20000)
    assert x.shape == (tensor.size,) and np.max(np.abs(x[500:-500] - expected[500:-500])) < 1e-3
    assert front.quantize(window).shape == tuple(tensor.shape)
