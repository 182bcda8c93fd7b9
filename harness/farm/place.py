"""A labgrid place as tinyhil's DUT: acquire it, read its resources, fill the seams, release it.

Place conventions (set with ``labgrid-client -p NAME set-tags board=stm32f746 [target=twin]``):

* tag ``board``: the catalog board (``boards.yaml``); tag ``target=twin``: the place is an emulated twin
  (its firmware counts instructions), else a real board (cycles).
* ``NetworkSerialPort`` (what the exporter makes of a ``RawSerialPort``/``USBSerialPort``: ser2net in RFC 2217
  mode): the DUT's serial link, opened as pyserial's ``rfc2217://HOST:PORT``.
* ``PyocdServer`` (host, port; exported as a plain resource beside the board): pyocd's remote probe server
  (``pyocd server --port PORT`` on the exporter), used as probe ``remote:HOST:PORT`` to flash the board.
* ``NetworkPowerPort`` (labgrid's PDU resource): power cycling when a DUT must be reset (see
  :meth:`PlaceSession.power_cycle`).

Without ``PyocdServer`` the place's firmware is started by whoever runs the place (e.g. a twin the farm
operator starts): tinyhil then checks that the running firmware is the one it built (board, arena, input and
output sizes from the ``profile`` reply) and refuses another one.

The place is held (reserved + acquired) for the ``with`` block and released on every exit path, also on
errors, Ctrl-C and SIGTERM (turned into KeyboardInterrupt while the place is held, in the main thread).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Iterator

from harness.errors import FarmError, FlashError
from harness.farm.client import Coordinator


class PlaceSession:
    """Holds labgrid place ``place`` (a name, or ``board=NAME`` for any place of that board type) for a ``with``
    block.  ``coordinator``: HOST[:PORT] (default $LG_COORDINATOR, else localhost).  ``wait_s``: how long to
    wait for a held place.  After entering: ``name``, ``board`` (catalog Board), ``resources``, ``serial_url``,
    ``probe`` (``remote:HOST:PORT`` or None).  Raises FarmError."""

    def __init__(self, place: str, *, coordinator: str | None = None, catalog: Path | None = None,
                 wait_s: float = 3600.0) -> None:
        self.request, self.catalog, self.wait_s = place, catalog, wait_s
        self.coordinator_address = coordinator
        self.name: str | None = None
        self._client: Coordinator | None = None
        self._token: str | None = None
        self._old_handler = None

    # -- holding the place ---------------------------------------------------------------------------------
    def __enter__(self) -> "PlaceSession":
        from harness.boards import get_board  # noqa: PLC0415

        self._client = Coordinator(self.coordinator_address)
        self._trap_sigterm()
        try:
            key, _, value = self.request.partition("=")
            filters = {key: value} if value else {"name": self.request}
            self._check_exists(filters)
            self.name, self._token = self._client.acquire(filters, wait_s=self.wait_s)
            self.resources = self._client.resources(self.name)
            tags = {p.name: p.tags for p in self._client.places()}[self.name]
            if "board" not in tags:
                raise FarmError(f"place {self.name} has no board tag; run `labgrid-client -p {self.name} set-tags "
                                "board=<catalog name>`")
            self.board = get_board(tags["board"], self.catalog)
            self.is_twin = tags.get("target") == "twin"
            self.serial_url = self._serial_url()
            self.probe = self._probe()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._client is not None:
            if self.name:
                self._client.release(self.name, self._token)
            self._client.close()
            self._client = None
        self.name = None
        if self._old_handler is not None:
            signal.signal(signal.SIGTERM, self._old_handler)
            self._old_handler = None

    def _trap_sigterm(self) -> None:
        if threading.current_thread() is threading.main_thread():
            def interrupt(signum, frame):
                raise KeyboardInterrupt
            self._old_handler = signal.signal(signal.SIGTERM, interrupt)

    def _check_exists(self, filters: dict) -> None:
        places = self._client.places()
        if not any(all({**p.tags, "name": p.name}.get(k) == v for k, v in filters.items()) for p in places):
            known = ", ".join(f"{p.name} ({' '.join(f'{k}={v}' for k, v in p.tags.items())})" for p in places)
            raise FarmError(f"no labgrid place matches {self.request!r} at {self._client.address} (places: "
                            f"{known or 'none'}); create it with labgrid-client or fix --place")

    # -- the seams -----------------------------------------------------------------------------------------
    def _serial_url(self) -> str:
        ports = [r for r in self.resources if r.cls == "NetworkSerialPort"]
        if not ports:
            raise FarmError(f"place {self.name} has no NetworkSerialPort (its exporter exports no serial port, or "
                            "the exporter is down); add a RawSerialPort/USBSerialPort to the exporter config")
        p = ports[0].params
        if p.get("protocol") == "raw":
            return f"socket://{p['host']}:{p['port']}"
        # ign_set_control: ser2net cannot set DTR/RTS on a pty (a twin's bridge) and never acknowledges it;
        # pyserial would wait for that acknowledgement and fail.  A USB port's acknowledgement is not needed.
        return f"rfc2217://{p['host']}:{p['port']}?ign_set_control"

    def _probe(self) -> str | None:
        servers = [r for r in self.resources if r.cls == "PyocdServer"]
        return f"remote:{servers[0].params['host']}:{servers[0].params.get('port', 5555)}" if servers else None

    def target(self, emulate: bool | None = None):
        """The :class:`~harness.target.Target` of the place: the board's twin (tag ``target=twin``) or the board,
        with the place's serial URL (and remote probe).  Raises FarmError when ``emulate`` contradicts it."""
        if emulate is not None and emulate != self.is_twin:
            raise FarmError(f"place {self.name} is {'a twin' if self.is_twin else 'a real board'} but a "
                            f"{'twin' if emulate else 'board'} run was asked for; pick a matching place")
        return self.board.target(self.is_twin, probe=self.probe, port=self.serial_url)

    def connector(self):
        """A replacement for :func:`harness.orchestrate.connect` that reaches the DUT through this place
        (for :class:`harness.bench.BenchConfig`'s ``connector``)."""
        return lambda firmware, target=None, **kw: place_connect(self, firmware, **kw)

    def power_cycle(self, off_s: float = 1.0) -> None:
        """Switch the place's ``NetworkPowerPort`` off and on again through labgrid's NetworkPowerDriver.
        Raises FarmError when the place has no power resource.  (Not exercised by the tests: no PDU here.)"""
        ports = [r for r in self.resources if r.cls == "NetworkPowerPort"]
        if not ports:
            raise FarmError(f"place {self.name} has no NetworkPowerPort; reset the board by hand or add a PDU")
        from labgrid import Target  # noqa: PLC0415
        from labgrid.driver import NetworkPowerDriver  # noqa: PLC0415
        from labgrid.resource import NetworkPowerPort  # noqa: PLC0415

        t = Target(f"{self.name}-power")
        params = {k: v for k, v in ports[0].params.items() if k in ("model", "host", "index")}
        NetworkPowerPort(t, name=None, **params)
        driver = NetworkPowerDriver(t, name=None, delay=off_s)
        t.activate(driver)
        driver.cycle()


@contextlib.contextmanager
def place_connect(session: PlaceSession, firmware, *, run_dir: Path, infer_timeout_s: float = 120.0,
                  boot_timeout_s: float = 20.0) -> Iterator:
    """Like :func:`harness.orchestrate.connect`, through the place: flash ``firmware`` with the place's remote
    probe (if it has one), open its serial link (RFC 2217), wait for ``m-ready`` (pinging: the DUT may have
    booted before the link opened), check the timer unit and, without a probe, that the running firmware is
    ``firmware``.  Yields a :class:`harness.dut.Dut`; the link is closed on every exit path.
    Raises FlashError, TransportError, ProtocolError."""
    from harness.dut import Dut  # noqa: PLC0415
    from harness.errors import ProtocolError  # noqa: PLC0415
    from harness.protocol.client import DeviceClient  # noqa: PLC0415
    from harness.transport.serial import SerialTransport  # noqa: PLC0415

    target = session.target()
    if target.board.name != firmware.target.board.name or target.kind != firmware.target.kind:
        raise FlashError(f"place {session.name} is {target.name}, the firmware was built for {firmware.target.name}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if session.probe is not None:
        from harness.farm.probe import RemotePyocdFlasher  # noqa: PLC0415

        RemotePyocdFlasher(target.board, session.probe, session.serial_url).load(firmware.image)
    client = DeviceClient(SerialTransport(session.serial_url, baudrate=target.board.serial.baudrate),
                          target.board.name, timeout=infer_timeout_s, ack_timeout=5.0,
                          transcript=run_dir / "serial.log")
    try:
        client.wait_ready(boot_timeout_s, ping_interval=1.0)
        info = client.device_info()
        if info.get("timer_unit") != target.timer.value:
            raise ProtocolError(f"place {session.name}: the firmware counts {info.get('timer_unit')!r}, the place "
                                f"is {target.name} ({target.timer.value}); fix the place's target tag or firmware")
        if session.probe is None:
            _check_running_firmware(session, firmware, info)
        yield Dut(client, firmware, run_dir, info)
    finally:
        client.close()


def _check_running_firmware(session: PlaceSession, firmware, info: dict) -> None:
    want = {"board": firmware.target.board.name, "arena_bytes": firmware.arena_bytes,
            "input_bytes": firmware.compiled.input_tensor.nbytes,
            "output_bytes": firmware.compiled.output_tensor.nbytes}
    got = {k: info.get(k) for k in want}
    if got != want:
        raise FlashError(f"place {session.name} runs other firmware ({got}, expected {want}) and has no "
                         "PyocdServer to flash it; load the benchmark firmware on the place first")
