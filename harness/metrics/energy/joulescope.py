"""Joulescope JS220 / JS110 driver over the ``joulescope`` package's v1 API (``pip install tinyhil[energy]``).

API used (joulescope >= 1.0, ``joulescope.v1``): ``scan_require_one(config='auto')`` -> device;
``device.open()``; ``parameter_set('i_range', 'auto')``; ``parameter_set('current_lsb', 'gpi0')`` routes the
general-purpose input IN0 (wired to the DUT's timestamp GPIO) into the current channel's least significant
bit, so it is sampled with every current sample; ``device.start(duration=...)`` streams into
``device.stream_buffer``; ``device.stop()``; ``stream_buffer.sample_id_range`` and
``stream_buffer.samples_get(start, stop, fields=['current', 'voltage', 'current_lsb'])`` return
``{'signals': {name: {'value': ndarray, 'units': str}}}``; missing samples are NaN; ``device.sampling_frequency``
in Hz.  ``stream_buffer.is_duration_max`` tells the buffer filled before ``stop`` (an overflow).
"""

from __future__ import annotations

import numpy as np

from harness.metrics.energy.base import Capture, EnergyError


class JoulescopeMeter:
    """EnergyMeter for a Joulescope.  ``device``: a v1 device object (default: the one attached, found with
    ``joulescope.scan_require_one``); ``gpi``: the input the timestamp is wired to (0 or 1);
    ``max_duration_s``: the longest capture (the stream buffer's size).  Raises EnergyError."""

    def __init__(self, device=None, *, gpi: int = 0, max_duration_s: float = 60.0) -> None:
        if device is None:
            try:
                import joulescope  # noqa: PLC0415
            except ImportError:
                raise EnergyError("the joulescope package is not installed; pip install 'tinyhil[energy]'") from None
            try:
                device = joulescope.scan_require_one(config="auto")
            except RuntimeError as exc:
                raise EnergyError(f"Joulescope: {exc}; attach exactly one Joulescope (or pass its device)") from None
        if gpi not in (0, 1):
            raise EnergyError(f"Joulescope GPI {gpi} does not exist; wire the timestamp to IN0 or IN1")
        self.device = device
        self.max_duration_s = max_duration_s
        self.device.open()
        self.device.parameter_set("i_range", "auto")
        self.device.parameter_set("current_lsb", f"gpi{gpi}")
        self.name = f"Joulescope {getattr(device, 'device_path', '')}".strip()

    def start(self) -> None:
        self.device.start(duration=self.max_duration_s)
        self._running = True

    def stop(self) -> Capture:
        if not getattr(self, "_running", False):
            raise EnergyError(f"{self.name}: stop without a started capture; call start() first")
        self._running = False
        self.device.stop()
        buf = self.device.stream_buffer
        if getattr(buf, "is_duration_max", False):
            raise EnergyError(f"{self.name}: the capture filled its {self.max_duration_s:g} s buffer before the window "
                              "ended (overflow); use shorter windows or a larger max_duration_s")
        start, stop = buf.sample_id_range
        data = buf.samples_get(start, stop, fields=["current", "voltage", "current_lsb"])["signals"]
        current = np.asarray(data["current"]["value"], dtype=np.float64)
        lsb = np.asarray(data["current_lsb"]["value"])
        trigger = np.where(np.isfinite(lsb.astype(np.float64)), lsb, 1).astype(bool)  # missing samples: idle level
        return Capture(float(self.device.sampling_frequency), self.name, current_a=current,
                       voltage_v=np.asarray(data["voltage"]["value"], dtype=np.float64), trigger=trigger)

    def close(self) -> None:
        self.device.close()
