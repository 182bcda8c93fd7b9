"""The microphone: a PortAudio input stream (``sounddevice.InputStream``) whose blocks the caller drains.

The PortAudio callback only copies each block into a queue; the caller drains it between inferences, so the
queue holds at most the audio of one inference (seconds), and windows are cut and dropped by the caller
(:mod:`harness.audio.windows`). Input overflows that PortAudio reports are counted.
"""

from __future__ import annotations

import queue
from dataclasses import dataclass

import numpy as np

from harness.audio.devices import AudioDevice, check_rate, pick_device, require_rate, sounddevice
from harness.errors import AudioError


@dataclass(frozen=True)
class CapturePlan:
    """How a device is captured for a model: the device, the capture rate (Hz), the model rate (Hz) and whether
    windows are resampled (``scipy.signal.resample_poly``) from one to the other."""

    device: AudioDevice
    capture_rate: int
    model_rate: int

    @property
    def resampled(self) -> bool:
        return self.capture_rate != self.model_rate

    def describe(self) -> dict:
        return {"device": self.device.name, "device_index": self.device.index, "hostapi": self.device.hostapi,
                "capture_rate_hz": self.capture_rate, "model_rate_hz": self.model_rate,
                "resampled": self.resampled,
                "resampler": "scipy.signal.resample_poly per window" if self.resampled else None}


def plan_capture(device: str | None, model_rate: int, capture_rate: int | None = None) -> CapturePlan:
    """Pick the input ``device`` and a rate: ``capture_rate`` when given (AudioError if the device refuses it),
    else the model's rate when the device supports it, else the device's default rate (then resampled)."""
    dev = pick_device(device, "input")
    if capture_rate is not None:
        require_rate(dev, capture_rate, "input")
        return CapturePlan(dev, int(capture_rate), model_rate)
    if check_rate(dev, model_rate, "input"):
        return CapturePlan(dev, model_rate, model_rate)
    fallback = int(round(dev.default_rate))
    require_rate(dev, fallback, "input")
    return CapturePlan(dev, fallback, model_rate)


class Microphone:
    """A running mono int16 input stream of ``plan`` (context manager). ``drain()`` returns the blocks captured
    since the last call (int16 arrays, in order); ``overflows`` counts the blocks PortAudio flagged as lost.
    Raises AudioError when the stream cannot be opened."""

    def __init__(self, plan: CapturePlan, blocksize: int = 0) -> None:
        self.plan = plan
        self.overflows = 0
        self._blocks: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        sd = sounddevice()
        try:
            self._stream = sd.InputStream(device=plan.device.index, samplerate=plan.capture_rate, channels=1,
                                          dtype="int16", blocksize=blocksize, latency="high", callback=self._callback)
        except Exception as exc:  # noqa: BLE001 - sounddevice.PortAudioError: the device refused the stream
            raise AudioError(f"cannot open {plan.device.name!r} at {plan.capture_rate} Hz ({exc}); pick another "
                             "device or rate from `tinyhil audio-devices`") from None

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio's thread: copy and return
        if status.input_overflow:
            self.overflows += 1
        self._blocks.put(indata[:, 0].copy())

    def drain(self, timeout: float | None = None) -> list[np.ndarray]:
        """The blocks captured since the last call; with ``timeout`` (s) waits that long for the first one."""
        out = []
        try:
            out.append(self._blocks.get(timeout=timeout) if timeout else self._blocks.get_nowait())
            while True:
                out.append(self._blocks.get_nowait())
        except queue.Empty:
            pass
        return out

    def __enter__(self) -> "Microphone":
        self._stream.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stream.close()
