"""Simulators of the supported power monitors, written from their documentation, for tests and demos.

Each simulator plays the instrument's side of its real interface, so the real driver code runs against it:

* :class:`JoulescopeSim`: the ``joulescope`` v1 device API the driver calls (open, parameter_set, start,
  stop, stream_buffer.sample_id_range / samples_get with ``current``, ``voltage``, ``current_lsb`` = GPI0).
* :class:`Ppk2Sim`: the PPK2's USB-serial wire protocol on a pseudo-terminal, driven by the real
  ``ppk2_api`` package: one-byte opcodes, calibration metadata text ending ``END``, 4-byte samples with ADC
  value, range, 6-bit counter and logic byte.
* :class:`Lpm01aSim`: the LPM01A's text protocol on a pseudo-terminal (``ack``/``error`` replies, ascii_dec
  samples, ``event`` lines for D7 falling edges, ``TimeStamp`` lines, ``Acquisition completed``).

The "analog side" is a trace the test feeds while the monitor records: per-sample DUT current (A) and the
timestamp line level, e.g. from :func:`dut_trace`.  Faults: drop samples (overflow), lose a pulse.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

import numpy as np


def dut_trace(fs: float, inferences: int, t_inference_s: float, i_active_a: float, i_idle_a: float,
              idle_s: float = 0.005, pulse_s: float = 50e-6, lose_pulse: int | None = None):
    """A DUT window sampled at ``fs``: idle, timestamp pulse, ``inferences`` x ``t_inference_s`` at
    ``i_active_a``, pulse, idle.  Returns (current A, timestamp level bool, exact window energy factor
    = active samples / fs).  ``lose_pulse`` = 0 or 1 drops that pulse (a lost trigger)."""
    idle = int(round(idle_s * fs))
    pulse = max(1, int(round(pulse_s * fs)))
    active = int(round(inferences * t_inference_s * fs))
    n = idle + pulse + active + pulse + idle
    current = np.full(n, i_idle_a)
    level = np.ones(n, dtype=bool)
    a = idle + pulse  # the window starts at the first falling edge + pulse (the pulse is idle current)
    current[a:a + active] = i_active_a
    for k, start in enumerate((idle, a + active)):
        if k != lose_pulse:
            level[start:start + pulse] = False
    return current, level


def _pty():
    master, slave = os.openpty()
    tty.setraw(master)
    return master, slave, os.ttyname(slave)


class _PtyDevice:
    """A pseudo-terminal whose master side is the instrument; ``port`` is the path the driver opens."""

    def __init__(self) -> None:
        self.master, self._slave, self.port = _pty()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._queue: list[bytes] = []
        self.streaming = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            _, w, _ = select.select([], [self.master], [], 0.05)
            if w:
                n = os.write(self.master, view[:4096])
                view = view[n:]

    def _run(self) -> None:
        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.01)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    return
                self.handle(data)
            if self.streaming:
                with self._lock:
                    chunk, self._queue = b"".join(self._queue), []
                if chunk:
                    self._write(chunk)

    def emit(self, data: bytes) -> None:
        """Queue bytes for the stream (sent only while streaming)."""
        with self._lock:
            self._queue.append(data)

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued stream bytes were written."""
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)

    def handle(self, data: bytes) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


# ---- Nordic PPK2 ----------------------------------------------------------------------------------------
PPK2_R = (1031.64, 101.65, 10.15, 0.94, 0.043)  # shunt resistances of the five ranges (ppk2_api defaults)
PPK2_ADC_A = 4 * 1.8 / 163840  # amperes x ohms per ADC LSB (ppk2_api: adc * 4 * 1.8 / 163840 / R)
PPK2_ARGS = {0x19: 0, 0x11: 1, 0x0D: 2, 0x0C: 1, 0x06: 0, 0x07: 0, 0x08: 1, 0x02: 1, 0x15: 0, 0x16: 0, 0x20: 0,
             0x25: 4}


class Ppk2Sim(_PtyDevice):
    """A PPK2 on a pseudo-terminal.  ``feed(current, level, channel)`` queues samples; ``drop`` = (index,
    count) skips samples and their counter values (a USB overflow)."""

    def __init__(self) -> None:
        self.counter = 0
        self.commands: list[tuple[int, ...]] = []
        self._pending = b""
        super().__init__()

    def metadata(self) -> bytes:
        rows = ["Calibrated: 0"] + [f"R{i}: {r}" for i, r in enumerate(PPK2_R)]
        for key, value in (("GS", 0), ("GI", 1), ("O", 0), ("S", 0), ("I", 0), ("UG", 1)):
            rows += [f"{key}{i}: {value}" for i in range(5)]
        rows += ["HW: 9173", "mode: 2", "IA: 56", "END"]
        return ("\n".join(rows) + "\n").encode()

    def handle(self, data: bytes) -> None:
        buf = self._pending + data
        while buf:
            op = buf[0]
            need = 1 + PPK2_ARGS.get(op, 0)
            if len(buf) < need:
                break
            cmd, buf = tuple(buf[:need]), buf[need:]
            self.commands.append(cmd)
            if op == 0x19:
                self._write(self.metadata())
            elif op == 0x06:
                self.streaming = True
            elif op == 0x07:
                self.streaming = False
        self._pending = buf

    @staticmethod
    def encode(current_a: float) -> tuple[int, int]:
        """(range, 14-bit ADC value) for a current, lowest range that does not saturate."""
        for r, ohms in enumerate(PPK2_R):
            adc = int(round(current_a * ohms / PPK2_ADC_A))
            if adc <= 0x3FFF:
                return r, max(adc, 0)
        return 4, 0x3FFF

    def feed(self, current_a: np.ndarray, level: np.ndarray, channel: int = 0, drop: tuple[int, int] | None = None):
        words = []
        for k, (i, hi) in enumerate(zip(current_a, level)):
            if drop and drop[0] <= k < drop[0] + drop[1]:
                self.counter = (self.counter + 1) & 0x3F  # sample made but lost on the way
                continue
            r, adc = self.encode(float(i))
            logic = (0xFF if hi else 0xFF & ~(1 << channel))
            words.append(adc | (r << 14) | (self.counter << 18) | (logic << 24))
            self.counter = (self.counter + 1) & 0x3F
        self.emit(np.asarray(words, dtype="<u4").tobytes())


# ---- ST LPM01A ------------------------------------------------------------------------------------------
def lpm_ascii(value: float) -> str:
    """LPM01A ascii_dec number: 4-digit mantissa and signed 2-digit exponent, e.g. 6.409e-4 -> '6409-07'."""
    if value <= 0:
        return "0000+00"
    exp = int(np.floor(np.log10(value))) - 3
    mant = int(round(value / 10.0 ** exp))
    if mant >= 10000:
        mant, exp = mant // 10, exp + 1
    return f"{mant:04d}{'-' if exp < 0 else '+'}{abs(exp):02d}"


class Lpm01aSim(_PtyDevice):
    """An LPM01A on a pseudo-terminal, energy output in ascii_dec.  ``feed(current, level, voltage)`` queues
    samples (energy per sample = I * V / freq), an ``event`` line at each falling edge of ``level`` when
    ``eventsrc d7`` was set; ``overrun_at`` = sample index after which an error line replaces the rest."""

    KNOWN = {"htc", "hrc", "volt", "freq", "acqtime", "output", "format", "trigsrc", "eventsrc", "pwr", "start",
             "stop", "powershield", "version", "status", "lcd", "trigdelay"}

    def __init__(self) -> None:
        self.settings: dict[str, str] = {}
        self._line = b""
        self.events = 0
        super().__init__()

    @property
    def freq(self) -> float:
        f = self.settings.get("freq", "100")
        return float(f[:-1]) * 1000 if f.endswith("k") else float(f)

    def handle(self, data: bytes) -> None:
        self._line += data
        while b"\n" in self._line:
            raw, _, self._line = self._line.partition(b"\n")
            cmd = raw.decode("ascii", "replace").strip()
            if not cmd:
                continue
            name, _, arg = cmd.partition(" ")
            if name not in self.KNOWN:
                self._write(f"PowerShield > error {cmd}\r\nError detail: command unknown\r\n".encode())
                continue
            self.settings[name] = arg
            if name == "stop":
                self.drain_queue()
                self.streaming = False
                self._write(b"PowerShield > ack stop\r\nAcquisition completed\r\n")
                continue
            self._write(f"PowerShield > ack {cmd}\r\n".encode())
            if name == "start":
                self.events = 0
                self.streaming = True

    def drain_queue(self) -> None:
        with self._lock:
            chunk, self._queue = b"".join(self._queue), []
        if chunk:
            self._write(chunk)

    def feed(self, current_a: np.ndarray, level: np.ndarray, voltage_v: float = 3.3, overrun_at: int | None = None):
        out = []
        d7 = self.settings.get("eventsrc", "").startswith("d7")
        prev = True
        for k, (i, hi) in enumerate(zip(current_a, level)):
            if overrun_at is not None and k >= overrun_at:
                out.append("error: acquisition overrun, data lost")
                break
            if d7 and prev and not hi:
                self.events += 1
                out.append(f"event {self.events} fal")
            prev = bool(hi)
            out.append(lpm_ascii(float(i) * voltage_v / self.freq))
            if k % 1000 == 999:
                out.append(f"TimeStamp: {k // 1000:03d}s 000ms, buff 00%")
        self.emit(("\r\n".join(out) + "\r\n").encode())


# ---- Joulescope -----------------------------------------------------------------------------------------
class _SimStreamBuffer:
    def __init__(self, sim: "JoulescopeSim") -> None:
        self.sim = sim
        self.is_duration_max = False

    @property
    def sample_id_range(self) -> tuple[int, int]:
        return self.sim.first_id, self.sim.first_id + len(self.sim.current)

    def samples_get(self, start: int, stop: int, fields=None):
        a, b = start - self.sim.first_id, stop - self.sim.first_id
        sig = {"current": (np.asarray(self.sim.current[a:b], dtype=np.float32), "A"),
               "voltage": (np.asarray(self.sim.voltage[a:b], dtype=np.float32), "V"),
               "current_lsb": (np.asarray(self.sim.gpi[a:b], dtype=np.uint8), "")}
        return {"time": {"sample_id_range": {"value": [start, stop]}},
                "signals": {k: {"value": sig[k][0], "units": sig[k][1]} for k in (fields or sig)}}


class JoulescopeSim:
    """A Joulescope as the ``joulescope`` v1 device API presents it.  ``feed(current, level, voltage,
    missing=(index, count))`` adds samples while streaming; missing samples are NaN (as samples_get returns
    them); ``overflow=True`` marks the stream buffer full (``is_duration_max``)."""

    def __init__(self, sampling_frequency: float = 1_000_000, device_path: str = "sim/JS220-000001") -> None:
        self.sampling_frequency = sampling_frequency
        self.device_path = device_path
        self.parameters: dict[str, object] = {}
        self.is_open = False
        self.streaming = False
        self.first_id = 0
        self.current: list[float] = []
        self.voltage: list[float] = []
        self.gpi: list[int] = []
        self.stream_buffer = _SimStreamBuffer(self)

    def open(self, event_callback_fn=None, mode=None, timeout=None):
        self.is_open = True

    def close(self, timeout=None):
        self.is_open = False

    def parameter_set(self, name: str, value) -> None:
        if name not in ("i_range", "current_lsb", "voltage_lsb", "sensor_power", "sampling_frequency"):
            raise KeyError(name)
        self.parameters[name] = value

    def start(self, stop_fn=None, duration=None, contiguous_duration=None):
        self.first_id += len(self.current)
        self.current, self.voltage, self.gpi = [], [], []
        self.stream_buffer.is_duration_max = False
        self.streaming = True

    def stop(self):
        self.streaming = False
        return True

    def feed(self, current_a, level, voltage_v: float = 3.3, missing: tuple[int, int] | None = None,
             overflow: bool = False) -> None:
        if not self.streaming:
            return
        gpi_on = self.parameters.get("current_lsb") == "gpi0"
        cur = np.asarray(current_a, dtype=np.float64).copy()
        if missing:
            cur[missing[0]:missing[0] + missing[1]] = np.nan
        self.current.extend(cur.tolist())
        self.voltage.extend([voltage_v] * len(cur))
        self.gpi.extend((np.asarray(level, dtype=np.uint8) if gpi_on else np.zeros(len(cur), np.uint8)).tolist())
        self.stream_buffer.is_duration_max = overflow
