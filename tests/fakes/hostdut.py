"""The host DUT: the real firmware protocol code (targets/common) compiled with the host C compiler against
targets/host (a POSIX port over stdin/stdout and a fake model), run as a process behind a real link.

Links, both opened through :class:`harness.transport.serial.SerialTransport` like a board or a QEMU twin:
``socket`` (``socket://127.0.0.1:PORT``, the shape of QEMU's ``-serial tcp:...,server=on``) or ``pty``
(a pseudo-terminal slave, the shape of ``/dev/ttyACM0``).  Used by the protocol tests and benchmarks.
"""

from __future__ import annotations

import os
import pty
import shutil
import signal
import socket
import subprocess
import tty
from pathlib import Path
from typing import Literal

from harness.errors import BuildError
from harness.transport.serial import SerialTransport

TARGETS = Path(__file__).resolve().parents[2] / "targets"  # the repository's, from tests/fakes
SOURCES = ("common/main.c", "common/th_protocol.c", "common/th_lineio.c", "common/th_bulk_load.c",
           "common/th_measure.c", "common/th_crc32.c", "common/th_mlperf.c", "common/th_clip.c", "host/port_host.c",
           "host/model.c")
#: Board identity of the host DUT (targets/common/th_protocol.c requires both).  The board name is not a
#: literal: th_host_board_name() (targets/host/port_host.h, force-included) returns TH_HOST_BOARD from the
#: environment at start, else "host", so one build serves under any name.
IDENTITY_DEFINES: dict[str, int | str] = {"TH_BOARD_NAME": "th_host_board_name()", "TH_TARGET_KIND": '"host"',
                                          "TH_CLIP_BYTES": 262144}  # the clip buffer of `clip load` (th_clip.c)


def build_host_dut(out_dir: str | Path, defines: dict[str, int | str] | None = None, cc: str = "gcc") -> Path:
    """Compile the host DUT into ``out_dir`` and return the executable's path.

    ``defines``: extra ``-D`` macros (e.g. ``{"TH_FAKE_INPUT_BYTES": 1000, "TH_PROFILE_OPS": 1}``); they may
    override :data:`IDENTITY_DEFINES` (e.g. ``{"TH_BOARD_NAME": '"bench"'}`` for a fixed name).
    Raises BuildError with the compiler's first error line."""
    if shutil.which(cc) is None:
        raise BuildError(f"C compiler {cc!r} not found; install gcc (apt-get install gcc) to build the host DUT")
    out = Path(out_dir) / "th_host_dut"
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = [f"-D{k}={v}" for k, v in {**IDENTITY_DEFINES, **(defines or {})}.items()]
    cmd = [cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags,
           "-include", str(TARGETS / "host" / "port_host.h"),
           f"-I{TARGETS / 'host'}", f"-I{TARGETS / 'common'}", f"-I{TARGETS / 'kernels'}",
           "-o", str(out), *(str(TARGETS / s) for s in SOURCES)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr.strip()[:200])
        raise BuildError(f"host DUT build failed: {first}; fix the C source (full command: {' '.join(cmd)})")
    return out


class HostDut:
    """A running host DUT and the :class:`SerialTransport` connected to it (``.transport``).

    Use as a context manager; :meth:`pause` / :meth:`resume` freeze the process (a DUT that stops answering).
    ``env``: extra environment (``TH_HOST_BOARD``, ``TH_HOST_TIMER=ns``)."""

    def __init__(self, binary: str | Path, link: Literal["socket", "pty"] = "socket",
                 env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, **(env or {})}
        if link == "socket":
            with socket.create_server(("127.0.0.1", 0)) as server:
                self.url = f"socket://127.0.0.1:{server.getsockname()[1]}"
                self.transport = SerialTransport(self.url)
                conn, _ = server.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as QEMU's tcp chardev does
            with conn:
                self.process = subprocess.Popen([str(binary)], stdin=conn, stdout=conn, env=full_env)
        elif link == "pty":
            master, slave = pty.openpty()
            tty.setraw(slave)  # no echo or line editing before the host opens the port
            self.url = os.ttyname(slave)
            try:  # open before the DUT starts: pyserial flushes input on open, which would eat m-ready
                self.transport = SerialTransport(self.url)
                self.process = subprocess.Popen([str(binary)], stdin=master, stdout=master, env=full_env)
            finally:
                os.close(master)
                os.close(slave)
        else:
            raise ValueError(f"link must be 'socket' or 'pty', not {link!r}")

    def pause(self) -> None:
        """Freeze the DUT process (SIGSTOP)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Continue a paused DUT process (SIGCONT)."""
        self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Close the link and stop the process."""
        self.transport.close()
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
        self.process.wait(timeout=5)

    def __enter__(self) -> HostDut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fake_model_output(data: bytes, chunks: int = 8) -> bytes:
    """What the fake model of the host port (targets/host/model.c) outputs for input ``data``: Fletcher-16
    (two bytes: sum and sum of sums, mod 255) of each of ``chunks`` slices, the last slice taking the rest."""
    out, size = bytearray(), len(data) // chunks
    for c in range(chunks):
        a = b = 0
        for byte in data[c * size: len(data) if c == chunks - 1 else (c + 1) * size]:
            a = (a + byte) % 255
            b = (b + a) % 255
        out += bytes([a, b])
    return bytes(out)
