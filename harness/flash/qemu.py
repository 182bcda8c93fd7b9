"""The emulated twin as a flasher: QEMU runs the ELF and exposes the twin's UART as a local TCP socket.

QEMU is started with ``-icount shift=6,sleep=off`` so that virtual time is exactly 64 ns per instruction and
the firmware's FPGAIO-counter timer reads exact, repeatable instruction counts (``sleep=on``, QEMU's default,
lets virtual time jump while the vCPU is considered idle; counts then varied by 1-2 between runs).  The serial
port is a TCP server (``wait=on``: the guest starts when the host connects), never ``-nographic``.
QEMU runs in its own process group and is killed on every exit path (errors, KeyboardInterrupt).
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness.target import Target
from harness.errors import FlashError
from harness.flash import elf_path

log = logging.getLogger(__name__)

ICOUNT = "shift=6,sleep=off"
LISTEN_MARK = "waiting for connection"
EXIT_FAULT = 3  # targets/boards/mps2/semihost.h TH_EXIT_FAULT


class QemuTwin:
    """Context manager running ``elf`` on a twin ``target`` (``target.flasher``: QEMU machine and CPU); ``url``
    is the serial link for serial_for_url.

    ``log_dir`` receives ``qemu.log`` (QEMU's stderr).  Use as ``with QemuTwin(target, elf, log_dir=d) as t:``
    or call :meth:`load` then :meth:`stop`.  Raises FlashError (QEMU missing, not a QEMU target, QEMU exited
    early).
    """

    def __init__(self, target: Target, elf: Path | None = None, *, log_dir: Path | None = None,
                 start_timeout_s: float = 10.0, extra_args: tuple[str, ...] = ()) -> None:
        if target.flasher.kind != "qemu":
            raise FlashError(f"{target.name} is flashed with {target.flasher.kind}, not started in QEMU")
        self.target = target
        self.board = target.board
        self.elf = Path(elf) if elf else None
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="tinyhil-qemu-"))
        self.log_path = self.log_dir / "qemu.log"
        self.start_timeout_s = start_timeout_s
        self.extra_args = tuple(extra_args)
        self._proc: subprocess.Popen | None = None
        self._url: str | None = None
        self.log = log.getChild(target.name)

    @property
    def url(self) -> str | None:
        """``socket://127.0.0.1:PORT`` once started, else None."""
        return self._url

    def command(self, elf: Path, port: int) -> list[str]:
        """The qemu-system-arm command line for ``elf`` with the UART on TCP ``port``."""
        spec = self.target.flasher
        return ["qemu-system-arm", "-M", spec.machine, "-cpu", spec.cpu, "-kernel", str(elf),
                "-display", "none", "-monitor", "none", "-icount", ICOUNT,
                "-semihosting-config", "enable=on,target=native",
                "-serial", f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on", *self.extra_args]

    def load(self, image) -> None:
        """Start QEMU on ``image`` (FirmwareImage or ELF path); returns when the serial socket listens."""
        self.stop()
        if not shutil.which("qemu-system-arm"):
            raise FlashError("qemu-system-arm not found; apt-get install qemu-system-arm")
        elf = elf_path(image)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            port = _free_port()
            cmd = self.command(elf, port)
            self.log.debug("starting %s", " ".join(cmd))
            with open(self.log_path, "wb") as err:
                err.write((" ".join(cmd) + "\n").encode())
                err.flush()
                self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                              start_new_session=True, preexec_fn=_die_with_parent)
            try:
                self._wait_listening()
            except FlashError:
                self.stop()
                if attempt < 2 and "Address already in use" in self._log_text():
                    continue
                raise
            self._url = f"socket://127.0.0.1:{port}"
            return

    def wait(self, timeout_s: float) -> int:
        """Wait for the guest to exit QEMU (semihosting SYS_EXIT); returns QEMU's exit status.

        Raises FlashError on timeout (QEMU keeps running until :meth:`stop`)."""
        if self._proc is None:
            raise FlashError("QEMU is not running; call load() first")
        try:
            return self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise FlashError(f"twin of {self.board.name} did not exit within {timeout_s:.0f} s; "
                             f"see {self.log_path}") from None

    @property
    def returncode(self) -> int | None:
        """QEMU's exit status once it exited (3: the firmware reported a fault), else None."""
        return self._proc.poll() if self._proc else None

    def stop(self) -> None:
        """Kill QEMU's process group (SIGTERM, then SIGKILL after 2 s); idempotent."""
        proc, self._proc, self._url = self._proc, None, None
        if proc is None or proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> "QemuTwin":
        if self.elf is not None:
            try:
                self.load(self.elf)
            except BaseException:
                self.stop()
                raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if LISTEN_MARK in self._log_text():
                return
            code = self._proc.poll()
            if code is not None:
                last = (self._log_text().strip().splitlines() or ["no output"])[-1][:160]
                raise FlashError(f"qemu-system-arm exited with status {code} before the twin started: {last}; "
                                 f"see {self.log_path}")
            time.sleep(0.01)
        raise FlashError(f"qemu-system-arm did not open its serial socket within {self.start_timeout_s:.0f} s; "
                         f"see {self.log_path}")

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGKILL it if tinyhil dies without cleaning up (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
