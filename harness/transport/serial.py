"""The byte link to a DUT: one narrow seam, :class:`Transport`, and its implementations.

* :class:`SerialTransport` — any pyserial URL: a real port (``/dev/ttyACM0``), a pty, or the TCP socket of a
  QEMU twin (``socket://127.0.0.1:PORT``, QEMU started with ``-serial tcp:127.0.0.1:PORT,server=on,wait=on``).
* :class:`SocketTransport` — an already connected socket (a ``socket.socketpair()`` end in tests).
* :class:`ConsoleTransport` — the labgrid seam: wraps any object with labgrid's ``ConsoleProtocol`` methods
  ``read(size, timeout, max_size)`` / ``write(data)``, e.g. ``target.get_driver("SerialDriver")`` of a labgrid
  place.  labgrid is not a dependency; see the class docstring.

Wrappers that are Transports themselves: ``harness.transport.transcript.RecordingTransport`` (raw transcript)
and ``harness.transport.faults.FaultInjectingTransport`` (test fake).  Line handling is not a transport's job:
``harness.protocol.lines.LineReader`` does it on top of ``read``.
"""

from __future__ import annotations

import select
import socket
from typing import Any, Protocol, runtime_checkable

import serial

from harness.errors import TransportError


@runtime_checkable
class Transport(Protocol):
    """A bidirectional byte link to one DUT."""

    def write(self, data: bytes) -> None:
        """Send all of ``data``.  Raises TransportError if the link is gone."""

    def read(self, n: int, timeout: float) -> bytes:
        """Return 1..n bytes as soon as any arrive, or ``b""`` after ``timeout`` seconds of silence.

        Raises TransportError if the link is gone (closed port, peer hung up)."""

    def close(self) -> None:
        """Release the link; idempotent."""


class SerialTransport:
    """A pyserial link opened with ``serial.serial_for_url(url, baudrate=baudrate)``.

    ``url``: ``/dev/ttyACM0``, ``/dev/pts/3``, ``socket://127.0.0.1:5555``, ``rfc2217://host:port``.
    ``baudrate`` is in bit/s and ignored by socket URLs.  Raises TransportError if the port cannot be opened.
    """

    def __init__(self, url: str, baudrate: int = 115200) -> None:
        self.url = url
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open serial link {url}: {exc}; check the port exists and is not in use "
                                 "(a second terminal, or the emulator not yet listening)") from exc
        self._timeout = 0.0

    def write(self, data: bytes) -> None:
        """Send all of ``data`` (blocks until the OS accepted it).  Raises TransportError."""
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"write to {self.url} failed: {exc}; the DUT or emulator went away") from exc

    def read(self, n: int, timeout: float) -> bytes:
        """Return 1..n bytes, or ``b""`` after ``timeout`` s.  Raises TransportError."""
        try:
            if timeout != self._timeout:
                self._port.timeout = self._timeout = timeout
            data = self._port.read(1)
            if data and n > 1:
                waiting = self._port.in_waiting
                if waiting:
                    data += self._port.read(min(waiting, n - 1))
            return data
        except (serial.SerialException, OSError) as exc:
            raise TransportError(f"read from {self.url} failed: {exc}; the DUT or emulator went away") from exc

    def close(self) -> None:
        """Close the port; idempotent."""
        self._port.close()


class SocketTransport:
    """A connected stream socket (``socket.socketpair()`` end, accepted TCP connection).  Owns the socket."""

    def __init__(self, sock: socket.socket, name: str = "socket") -> None:
        self.name = name
        self._sock = sock
        self._sock.setblocking(True)

    def write(self, data: bytes) -> None:
        """Send all of ``data``.  Raises TransportError if the peer is gone."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise TransportError(f"write to {self.name} failed: {exc}; the peer closed the link") from exc

    def read(self, n: int, timeout: float) -> bytes:
        """Return 1..n bytes, or ``b""`` after ``timeout`` s.  Raises TransportError if the peer hung up."""
        try:
            ready, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
            if not ready:
                return b""
            data = self._sock.recv(n)
        except OSError as exc:
            raise TransportError(f"read from {self.name} failed: {exc}; the peer closed the link") from exc
        if not data:
            raise TransportError(f"{self.name}: the peer closed the link; restart the DUT or emulator")
        return data

    def close(self) -> None:
        """Close the socket; idempotent."""
        self._sock.close()


class ConsoleTransport:
    """The labgrid seam: a Transport over a labgrid-style console driver.

    labgrid's ``ConsoleProtocol`` (``labgrid/protocol/consoleprotocol.py``) has ``write(data: bytes)`` and
    ``read(size=1, timeout=0.0, max_size=None)``, which returns at least ``size`` bytes or raises pexpect's
    ``TIMEOUT``.  With labgrid installed, a place's serial console plugs in as::

        target = Environment("lab.yaml").get_target("stm32f746")
        console = target.get_driver("SerialDriver")        # activates RawSerialPort / NetworkSerialPort
        client = DeviceClient(ConsoleTransport(console), board="stm32f746")

    Here labgrid is not imported: any object with those two methods works (tests use a fake).  A console
    exception named ``TIMEOUT`` means "no bytes"; any other exception becomes a TransportError.
    """

    def __init__(self, console: Any, name: str = "console") -> None:
        self.name = name
        self._console = console

    def write(self, data: bytes) -> None:
        """Send all of ``data`` through ``console.write``.  Raises TransportError."""
        try:
            self._console.write(data)
        except Exception as exc:  # noqa: BLE001 - any driver failure is a link failure
            raise TransportError(f"write to {self.name} failed: {exc}; check the labgrid place is acquired") from exc

    def read(self, n: int, timeout: float) -> bytes:
        """Return 1..n bytes, or ``b""`` after ``timeout`` s.  Raises TransportError."""
        try:
            return bytes(self._console.read(size=1, timeout=timeout, max_size=n))
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == "TIMEOUT":
                return b""
            raise TransportError(f"read from {self.name} failed: {exc}; check the labgrid place is acquired") from exc

    def close(self) -> None:
        """Nothing to release: labgrid owns the driver (deactivate it through the target)."""
