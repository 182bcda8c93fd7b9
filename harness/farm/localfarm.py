"""A labgrid farm on this machine: coordinator, exporter (which runs ser2net), and QEMU twins whose UARTs are
bridged to pseudo-terminals by socat, one place per twin.  The tests, ``benchmarks/study.py`` and anyone
trying the farm mode without boards use it; nothing in it is a fake: the processes are labgrid's, ser2net's,
socat's and QEMU's own.

Wiring of one place::

    QEMU twin (firmware running, UART on TCP 127.0.0.1:P, -icount)  <-socat->  /dev/tinyhil-farm-<tmp>-<n> (pty)
      <- labgrid-exporter RawSerialPort -> ser2net (RFC 2217 on a free port) -> NetworkSerialPort
      -> place <name> (tags board=<board>, target=twin) -> tinyhil bench --place <name>

The pty link lives under ``/dev`` because labgrid's exporter only exports serial ports whose path starts with
``/dev/`` (needs root, as in CI).  The farm keeps the pty's slave side open itself (never reading it): when
ser2net closes the port at the end of a client's connection the pty is not hung up, so socat, the link and the
running firmware stay for the next client.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import FarmError
from harness.farm.client import Coordinator

TOOLS = ("labgrid-coordinator", "labgrid-exporter", "ser2net", "socat", "qemu-system-arm")


def missing_tools() -> list[str]:
    """The tools of a local farm that are not installed (labgrid's two from PyPI; ser2net, socat, QEMU: apt)."""
    return [t for t in TOOLS if not (shutil.which(t) or (t == "ser2net" and Path("/usr/sbin/ser2net").exists()))]


@dataclass
class TwinPlace:
    """A place of the local farm: ``name``, ``board``, the QEMU twin running its firmware, the socat loop."""

    name: str
    board: str
    twin: object
    link: Path
    bridge: subprocess.Popen | None = None
    holder: int | None = None


@dataclass
class LocalFarm:
    """Start with :meth:`start` (or as a context manager), add places with :meth:`add_twin_place`, stop with
    :meth:`stop` (every process killed, the /dev links removed).  ``address``: the coordinator's HOST:PORT."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tinyhil-farm-")))
    exporter_name: str = "tinyhil-local"
    address: str = ""
    places: list[TwinPlace] = field(default_factory=list)
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _exporter: subprocess.Popen | None = None

    def __enter__(self) -> "LocalFarm":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Start the coordinator on a free localhost port.  Raises FarmError (tools missing, did not start)."""
        if missing_tools():
            raise FarmError(f"a local farm needs {', '.join(missing_tools())}; run scripts/setup.sh "
                            "(apt: ser2net socat qemu-system-arm; pip: labgrid)")
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        proc = self._spawn(["labgrid-coordinator", "--listen", self.address], "coordinator.log")
        _wait_port(port, proc, self.workdir / "coordinator.log")

    def add_twin_place(self, name: str, target, elf: Path) -> TwinPlace:
        """Start ``elf`` on a twin of ``target`` (a twin Target), bridge its UART to a pty with socat and make
        place ``name`` (tags board, target=twin) of it; the exporter is (re)started to export every pty."""
        from harness.flash.qemu import QemuTwin  # noqa: PLC0415

        twin = QemuTwin(target, log_dir=self.workdir / name)
        twin.load(elf)
        link = Path(f"/dev/{self.workdir.name}-{len(self.places)}")  # unique per farm (mkdtemp), also in one process
        place = TwinPlace(name, target.board.name, twin, link)
        place.bridge = self._spawn(["socat", f"pty,link={link},raw,echo=0", f"tcp:{twin.url.split('//')[1]}"],
                                   f"{name}-socat.log")
        self.places.append(place)
        deadline = time.monotonic() + 10
        while not link.exists():
            if time.monotonic() > deadline:
                raise FarmError(f"socat did not create {link}; see {self.workdir}/{name}-socat.log")
            time.sleep(0.05)
        place.holder = os.open(link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self._restart_exporter()
        with Coordinator(self.address) as c:
            _create_place(c, name, f"{self.exporter_name}/{name}/NetworkSerialPort/*",
                          {"board": place.board, "target": "twin"})
        return place

    def stop(self) -> None:
        """Stop every process of the farm (exporter, socat loops, twins, coordinator); idempotent."""
        for proc in reversed(self._procs):
            _kill(proc)
        self._procs.clear()
        for p in self.places:
            if p.holder is not None:
                os.close(p.holder)
            p.twin.stop()
            p.link.unlink(missing_ok=True)
        self.places.clear()

    def _restart_exporter(self) -> None:
        if self._exporter is not None:
            _kill(self._exporter)
            self._procs.remove(self._exporter)
        config = self.workdir / "exporter.yaml"
        config.write_text("".join(f"{p.name}:\n  RawSerialPort:\n    port: {p.link}\n    speed: 115200\n"
                                  for p in self.places))
        self._exporter = self._spawn(["labgrid-exporter", "--coordinator", self.address, "--name",
                                      self.exporter_name, "--hostname", "127.0.0.1", str(config)], "exporter.log")
        deadline = time.monotonic() + 30
        with Coordinator(self.address) as c:
            while True:
                got = c._session.resources.get(self.exporter_name, {})
                if all(p.name in got for p in self.places):
                    return
                if self._exporter.poll() is not None or time.monotonic() > deadline:
                    raise FarmError("labgrid-exporter did not export the twins' ports; see "
                                    f"{self.workdir}/exporter.log")
                time.sleep(0.1)
                c._sync()

    def _spawn(self, cmd: list[str], log_name: str) -> subprocess.Popen:
        from harness.flash.qemu import _die_with_parent  # noqa: PLC0415

        log = open(self.workdir / log_name, "ab")
        proc = subprocess.Popen(cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        self._procs.append(proc)
        return proc


def _create_place(c: Coordinator, name: str, match: str, tags: dict) -> None:
    pb = c._pb
    stub = c._session.stub
    c._call(stub.AddPlace(pb.AddPlaceRequest(name=name)), f"create place {name}")
    c._call(stub.AddPlaceMatch(pb.AddPlaceMatchRequest(placename=name, pattern=match)), f"match {match}")
    c._call(stub.SetPlaceTags(pb.SetPlaceTagsRequest(placename=name, tags=tags)), f"tag {name}")
    c._sync()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, log: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FarmError(f"labgrid-coordinator exited with status {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise FarmError(f"labgrid-coordinator did not listen on port {port} within {timeout_s:.0f} s; see {log}")


def _kill(proc: subprocess.Popen) -> None:
    """Stop ``proc``'s whole process group (the exporter's ser2net children too): SIGTERM, then SIGKILL for
    whatever is left after 3 s; returns when the group is gone (or after 6 s)."""
    pgid = proc.pid  # started with start_new_session: the group id is its pid
    deadline = time.monotonic() + 3.0
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                proc.wait()
                return
            time.sleep(0.05)
        deadline = time.monotonic() + 3.0
    proc.wait(1.0)
