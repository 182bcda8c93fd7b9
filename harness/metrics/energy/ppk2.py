"""Nordic Power Profiler Kit II driver over the ``ppk2-api`` package (``pip install tinyhil[energy]``).

Wire protocol (USB CDC serial; as implemented by Nordic's nRF Connect Power Profiler and ``ppk2_api``):
one-byte opcodes with arguments — GET_META_DATA 0x19 (the kit answers calibration text ending ``END``),
SET_POWER_MODE 0x11 (1 = ampere meter, 2 = source meter), REGULATOR_SET 0x0d (source voltage),
DEVICE_RUNNING_SET 0x0c (DUT power), AVERAGE_START 0x06 / AVERAGE_STOP 0x07 (stream on/off).  While streaming
the kit sends 100,000 little-endian 32-bit samples per second: bits 0-13 ADC value, 14-16 current range,
18-23 a 6-bit sample counter, 24-31 the eight logic inputs D0-D7.  ``ppk2_api`` converts ADC and range to
µA and returns the logic byte; this driver also checks the counter, whose gaps are samples the kit or the
USB link dropped (an overflow).  The DUT's timestamp GPIO is wired to logic input ``logic_channel``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from harness.metrics.energy.base import Capture, EnergyError

SAMPLE_RATE_HZ = 100_000
COUNTER_SHIFT, COUNTER_MASK = 18, 0x3F


class Ppk2Meter:
    """EnergyMeter for a PPK2 on serial ``port``, in source-meter mode supplying ``voltage_mv`` to the DUT
    (``source=False``: ampere-meter mode, the DUT powered elsewhere at ``voltage_mv``).  ``logic_channel``:
    D0..D7 input carrying the timestamp.  Raises EnergyError."""

    def __init__(self, port: str, *, voltage_mv: int = 3300, logic_channel: int = 0, source: bool = True,
                 poll_s: float = 0.01) -> None:
        try:
            from ppk2_api.ppk2_api import PPK2_API  # noqa: PLC0415
        except ImportError:
            raise EnergyError("the ppk2-api package is not installed; pip install 'tinyhil[energy]'") from None
        if not 0 <= logic_channel <= 7:
            raise EnergyError(f"PPK2 logic input D{logic_channel} does not exist; use D0..D7")
        try:
            self.ppk = PPK2_API(port, timeout=1)
        except Exception as exc:  # serial.SerialException and OSError
            raise EnergyError(f"PPK2 on {port}: {exc}; check the port (ls /dev/ttyACM*)") from None
        self.name = f"PPK2 {port}"
        if not self.ppk.get_modifiers():
            raise EnergyError(f"{self.name}: no calibration metadata from the kit; is this a PPK2 (not its "
                              "second serial port)?")
        if source:
            self.ppk.use_source_meter()
        else:
            self.ppk.use_ampere_meter()
        self.ppk.set_source_voltage(voltage_mv)
        if source:
            self.ppk.toggle_DUT_power("ON")
        self.voltage_v = voltage_mv / 1000.0
        self.channel = logic_channel
        self.poll_s = poll_s
        self._chunks: list[bytes] = []
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def _reader(self) -> None:
        while self._running.is_set():
            data = self.ppk.get_data()
            if data:
                self._chunks.append(data)
            time.sleep(self.poll_s)

    def start(self) -> None:
        self._chunks = []
        self.ppk.remainder = {"sequence": b"", "len": 0}
        self.ppk.start_measuring()
        self._running.set()
        self._thread = threading.Thread(target=self._reader, name="ppk2-reader", daemon=True)
        self._thread.start()

    def stop(self) -> Capture:
        if not self._running.is_set():
            raise EnergyError(f"{self.name}: stop without a started capture; call start() first")
        self.ppk.stop_measuring()
        time.sleep(3 * self.poll_s)  # let the reader drain what was in flight
        self._running.clear()
        if self._thread:
            self._thread.join(timeout=2)
        tail = self.ppk.get_data()
        raw, self._chunks = b"".join(self._chunks) + (tail or b""), []
        raw = raw[: len(raw) // 4 * 4]
        if not raw:
            raise EnergyError(f"{self.name}: no samples arrived; is the kit streaming (firmware, USB)?")
        words = np.frombuffer(raw, dtype="<u4")
        counter = (words >> COUNTER_SHIFT) & COUNTER_MASK
        gaps = (np.diff(counter.astype(np.int64)) - 1) % (COUNTER_MASK + 1)
        dropped = int(gaps.sum())
        samples_ua, bits = self.ppk.get_samples(raw)
        current = np.asarray(samples_ua, dtype=np.float64) * 1e-6
        level = (np.asarray(bits, dtype=np.int64) >> self.channel) & 1
        if dropped:
            # mark the samples after each gap as missing, so a gap inside the window is an error, not a number
            current = current.copy()
            current[1:][gaps > 0] = np.nan
        return Capture(SAMPLE_RATE_HZ, self.name, current_a=current, voltage_v=self.voltage_v,
                       trigger=level.astype(bool), dropped_samples=dropped)

    def close(self) -> None:
        try:
            self.ppk.toggle_DUT_power("OFF")
        finally:
            self.ppk.ser.close()
