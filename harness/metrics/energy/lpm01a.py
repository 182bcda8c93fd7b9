"""ST X-NUCLEO-LPM01A (PowerShield) driver: its serial text protocol over pyserial.

Protocol (ST UM2269 "Getting started with PowerShield firmware"; the same command set MLPerf Tiny's energy
runner sends): ASCII commands ending in ``\\n``, each answered ``ack <command> ...`` or ``error ...``
(optionally after the prompt ``PowerShield > ``).  Set-up: ``htc`` (host takes control), ``volt 3300m``,
``freq 1k``, ``acqtime inf``, ``output energy`` (each sample is the energy integrated over one sample
period), ``format ascii_dec`` (a sample reads ``6409-07`` = 6409e-7), ``trigsrc sw``, ``eventsrc d7 fal``
(a falling edge on Arduino pin D7, wired to the DUT's timestamp GPIO, is reported in the data stream as an
``event <n> ...`` line).  ``pwr on``, ``start`` streams sample lines and ``TimeStamp: ...`` lines; ``stop``
ends with ``Acquisition completed``.  A line starting ``error`` or mentioning an overrun during acquisition
means samples were lost.
"""

from __future__ import annotations

import re
import threading
import time

import numpy as np
import serial

from harness.metrics.energy.base import Capture, EnergyError

_SAMPLE = re.compile(r"(\d{4})([+-]\d{2})")
_EVENT = re.compile(r"^event \d+")
PROMPT = "PowerShield > "
FREQS = {"1k": 1000, "2k": 2000, "5k": 5000, "500": 500, "100": 100}


class Lpm01aMeter:
    """EnergyMeter for an LPM01A on serial ``port`` (``serial_for_url`` URLs work too), supplying
    ``voltage_mv`` to the DUT, sampling at ``freq`` (ascii_dec allows up to 5k without limit).  Raises EnergyError."""

    def __init__(self, port: str, *, baudrate: int = 3686400, voltage_mv: int = 3300, freq: str = "1k",
                 timeout_s: float = 2.0) -> None:
        if freq not in FREQS:
            raise EnergyError(f"LPM01A sample rate {freq!r} not supported here; use one of {', '.join(FREQS)}")
        try:
            self.link = serial.serial_for_url(port, baudrate=baudrate, timeout=0.1)
        except (serial.SerialException, OSError) as exc:
            raise EnergyError(f"LPM01A on {port}: {exc}; check the port") from None
        self.name = f"LPM01A {port}"
        self.rate = FREQS[freq]
        self.timeout_s = timeout_s
        self._buf = b""
        for cmd in ("htc", f"volt {voltage_mv}m", f"freq {freq}", "acqtime inf", "output energy", "format ascii_dec",
                    "trigsrc sw", "eventsrc d7 fal", "pwr on"):
            self.command(cmd)
        self._lines: list[str] = []
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def _readline(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                return None
            self._buf += self.link.read(self.link.in_waiting or 1)
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("ascii", "replace").replace(PROMPT, "").strip()

    def command(self, cmd: str) -> str:
        """Send one command; return its ``ack`` line.  Raises EnergyError on ``error`` or silence."""
        self.link.write(cmd.encode("ascii") + b"\n")
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            line = self._readline(deadline - time.monotonic())
            if line is None:
                break
            if line.startswith("ack") and cmd.split()[0] in line:
                return line
            if line.lower().startswith("error"):
                raise EnergyError(f"{self.name} refused {cmd!r}: {line}; check the PowerShield firmware version")
        raise EnergyError(f"{self.name}: no answer to {cmd!r} within {self.timeout_s:g} s; check port and baud rate")

    def _reader(self) -> None:
        while self._running.is_set():
            line = self._readline(0.05)
            if line:
                self._lines.append(line)

    def start(self) -> None:
        self._lines = []
        self.command("start")
        self._running.set()
        self._thread = threading.Thread(target=self._reader, name="lpm01a-reader", daemon=True)
        self._thread.start()

    def stop(self) -> Capture:
        if not self._running.is_set():
            raise EnergyError(f"{self.name}: stop without a started capture; call start() first")
        self._running.clear()
        if self._thread:
            self._thread.join(timeout=2)
        self.link.write(b"stop\n")
        deadline = time.monotonic() + self.timeout_s
        lines, self._lines = self._lines, []
        while time.monotonic() < deadline:
            line = self._readline(deadline - time.monotonic())
            if line is None:
                break
            lines.append(line)
            if "Acquisition completed" in line:
                break
        else:
            raise EnergyError(f"{self.name}: no 'Acquisition completed' after stop; reset the PowerShield")
        energy: list[float] = []
        events: list[int] = []
        for line in lines:
            if _EVENT.match(line):
                events.append(len(energy))
            elif line.lower().startswith("error") or "overrun" in line.lower() or "overflow" in line.lower():
                raise EnergyError(f"{self.name}: {line!r} during acquisition (samples lost); lower freq; "
                                  "no energy was recorded")
            elif not line.startswith(("TimeStamp", "ack", "Acquisition")):
                energy.extend(float(m + "e" + e) for m, e in _SAMPLE.findall(line))
        return Capture(float(self.rate), self.name, energy_j=np.asarray(energy, dtype=np.float64),
                       events=tuple(events))

    def close(self) -> None:
        if not self.link.is_open:
            return
        try:
            self.command("pwr off")
            self.command("hrc")
        except EnergyError:
            pass
        finally:
            self.link.close()
