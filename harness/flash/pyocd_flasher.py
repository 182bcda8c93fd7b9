"""Programming a real Arm board through its debug probe with pyocd's Python API (ST-LINK, J-Link, CMSIS-DAP).

Targets come from boards.yaml (``flasher.target``).  pyocd ships nrf52840 and rp2040 built in; stm32f746zg
needs its CMSIS pack (``pyocd pack install stm32f746zg`` once, on a machine with network access), and tinyhil
says so before touching the probe.  The probe is chosen by its unique ID (``--probe``): with several probes
attached and none named, tinyhil refuses rather than guess, so two identical boards are never confused.
A flash that fails or hangs ends within ``timeout_s`` with pyocd's own message in a one-line FlashError.

The pyocd calls sit behind :class:`PyocdApi` (three methods); :class:`PyocdLibrary` is the real one, and
tests substitute fake sessions that raise pyocd's own exception types.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Protocol

from harness.boards import Board
from harness.errors import FlashError
from harness.flash import elf_path

log = logging.getLogger(__name__)

SWD_FREQUENCY_HZ = 4_000_000


@dataclass(frozen=True)
class ProbeInfo:
    """One attached debug probe as pyocd reports it; ``board``/``target`` from pyocd's board ID database."""

    unique_id: str
    vendor: str = ""
    product: str = ""
    board: str | None = None
    target: str | None = None


class PyocdApi(Protocol):
    """The pyocd entry points tinyhil uses (a seam: the real library or a fake in tests)."""

    def list_probes(self) -> list[ProbeInfo]:
        """Probes attached now (never blocks waiting for one)."""

    def open_session(self, unique_id: str, target: str) -> ContextManager[Any]:
        """A pyocd Session on probe ``unique_id`` for ``target``; entering it opens the probe."""

    def program(self, session: Any, elf: Path) -> None:
        """Erase, program and verify ``elf`` (pyocd FileProgrammer), then reset the target."""


class PyocdLibrary:
    """:class:`PyocdApi` on the installed pyocd package (``pip install -e '.[hardware]'``)."""

    def __init__(self) -> None:
        try:
            from pyocd.core.helpers import ConnectHelper  # noqa: PLC0415
        except ImportError:
            raise FlashError("pyocd is not installed; pip install -e '.[hardware]'") from None
        self._helper = ConnectHelper

    def list_probes(self) -> list[ProbeInfo]:
        out = []
        for probe in self._helper.get_all_connected_probes(blocking=False, print_wait_message=False):
            info = getattr(probe, "associated_board_info", None)
            out.append(ProbeInfo(unique_id=probe.unique_id, vendor=probe.vendor_name or "",
                                 product=probe.product_name or "",
                                 board=getattr(info, "name", None), target=getattr(info, "target", None)))
        return out

    def open_session(self, unique_id: str, target: str):
        session = self._helper.session_with_chosen_probe(
            blocking=False, unique_id=unique_id, target_override=target,
            options={"frequency": SWD_FREQUENCY_HZ})
        if session is None:
            raise FlashError(f"debug probe {unique_id} disappeared before it could be opened; reconnect it")
        return session

    def program(self, session, elf: Path) -> None:
        from pyocd.flash.file_programmer import FileProgrammer  # noqa: PLC0415

        FileProgrammer(session).program(str(elf), file_format="elf")
        session.target.reset()


def pyocd_has_target(target: str) -> bool:
    """True if pyocd knows ``target``: built in, or from an installed CMSIS pack."""
    from pyocd.target import TARGET  # noqa: PLC0415

    if target.lower() in TARGET:
        return True
    try:
        from pyocd.target.pack.pack_target import ManagedPacks  # noqa: PLC0415

        return target.lower() in {dev.part_number.lower() for dev in ManagedPacks.get_installed_targets()}
    except Exception:  # noqa: BLE001 (the pack index is optional; a missing one means no packs)
        return False


def choose_probe(board: Board, probes: list[ProbeInfo], unique_id: str | None) -> ProbeInfo:
    """The probe to use: the one with ``unique_id``, or the only one attached.  Raises FlashError otherwise
    (none attached, the named one absent, several attached and none named)."""
    ids = ", ".join(p.unique_id for p in probes) or "none"
    if unique_id is not None:
        for p in probes:
            if p.unique_id == unique_id:
                return p
        raise FlashError(f"no debug probe with unique ID {unique_id} for {board.name} (attached: {ids}); "
                         "check the USB cable or pick another with --probe (see `tinyhil probes`)")
    if not probes:
        raise FlashError(f"no debug probe found for {board.name}; connect the board by USB or use --emulate "
                         "(list probes with `tinyhil probes`)")
    if len(probes) > 1:
        raise FlashError(f"{len(probes)} debug probes attached ({ids}); choose the {board.name} with --probe UID "
                         "(see `tinyhil probes`)")
    return probes[0]


class _LastProbeMessage(logging.Handler):
    """Keeps the last warning/error pyocd logged, to quote it when a flash fails or hangs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage().strip().splitlines()[0][:160] if record.getMessage().strip() else ""


class PyocdFlasher:
    """Flashes ``board`` through probe ``probe`` (unique ID; None = the only one attached); ``port`` is its
    serial link (the flasher does not open it).  ``timeout_s`` bounds connect + program + verify + reset."""

    def __init__(self, board: Board, probe: str | None = None, port: str | None = None, *,
                 timeout_s: float = 120.0, api: PyocdApi | None = None) -> None:
        if board.flasher.kind != "pyocd":
            raise FlashError(f"{board.name} is flashed with {board.flasher.kind}, not pyocd; see boards.yaml")
        self.board = board
        self.probe = probe
        self._url = port
        self.timeout_s = timeout_s
        self._api = api
        self.log = log.getChild(board.name)

    @property
    def url(self) -> str | None:
        """The board's serial port as given (pyocd does not know it), or None."""
        return self._url

    def load(self, image) -> None:
        """Program, verify and reset: ``image`` is a FirmwareImage or an ELF path.  Raises FlashError."""
        elf = elf_path(image)
        api = self._api or PyocdLibrary()
        target = self.board.flasher.target
        if self._api is None and not pyocd_has_target(target):
            raise FlashError(f"pyocd has no CMSIS pack for {target}; run `pyocd pack install {target}` "
                             "on a machine with network access")
        probe = choose_probe(self.board, api.list_probes(), self.probe)
        self._flash(api, probe.unique_id, target, elf)

    def _flash(self, api: PyocdApi, unique_id: str, target: str, elf: Path) -> None:
        last = _LastProbeMessage()
        pyocd_log = logging.getLogger("pyocd")
        pyocd_log.addHandler(last)
        outcome: dict[str, BaseException | None] = {}
        sessions: list[Any] = []

        def work() -> None:
            try:
                session = api.open_session(unique_id, target)
                sessions.append(session)
                with session:
                    self.log.info("programming %s via probe %s", elf.name, unique_id)
                    api.program(session, elf)
                outcome["error"] = None
            except BaseException as exc:  # noqa: BLE001 (re-raised as FlashError in the caller's thread)
                outcome["error"] = exc

        worker = threading.Thread(target=work, name=f"pyocd-{self.board.name}", daemon=True)
        try:
            worker.start()
            worker.join(self.timeout_s)
        finally:
            pyocd_log.removeHandler(last)
        if worker.is_alive():
            for session in sessions:  # unblock the probe if we can; the thread is abandoned (daemon)
                try:
                    session.close()
                except Exception:  # noqa: BLE001
                    pass
            said = f" (probe said: {last.message})" if last.message else ""
            raise FlashError(f"flashing {self.board.name} via probe {unique_id} did not finish within "
                             f"{self.timeout_s:g} s{said}; power-cycle the board and check the SWD wiring")
        if outcome.get("error") is not None:
            raise _as_flash_error(self.board, unique_id, target, outcome["error"]) from None

    def stop(self) -> None:
        """Nothing to release: the session is closed after each load."""


def _as_flash_error(board: Board, unique_id: str, target: str, exc: BaseException) -> FlashError:
    """One-line FlashError naming the problem and the fix for a pyocd (or USB) exception."""
    if isinstance(exc, FlashError):
        return exc
    msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    try:
        from pyocd.core import exceptions as E  # noqa: PLC0415
    except ImportError:
        E = None  # noqa: N806
    if E is not None and isinstance(exc, E.TargetSupportError):
        return FlashError(f"pyocd does not support target {target}: {msg}; run `pyocd pack install {target}`")
    if E is not None and isinstance(exc, E.FlashFailure):
        return FlashError(f"flash verify/program failed on {board.name} via probe {unique_id}: {msg}; "
                          f"erase the chip (`pyocd erase --chip -t {target} -u {unique_id}`) and retry")
    if E is not None and isinstance(exc, (E.ProbeError, E.ProbeDisconnected)) or "busy" in msg.lower() \
            or type(exc).__name__ in ("USBError", "USBTimeoutError"):
        return FlashError(f"debug probe {unique_id} for {board.name} is busy or cannot be opened: {msg}; "
                          "close other debuggers using it (gdbserver, OpenOCD, STM32CubeProgrammer) or replug it")
    if E is not None and isinstance(exc, (E.TransferError, E.TimeoutError)):
        return FlashError(f"probe {unique_id} lost contact with the {board.name} target: {msg}; check power, "
                          "the SWD cable and that the chip is not held in reset or asleep")
    if E is not None and isinstance(exc, E.Error):
        return FlashError(f"flashing {board.name} via probe {unique_id} failed: {msg}; "
                          "check the probe connection and power")
    return FlashError(f"flashing {board.name} via probe {unique_id} failed ({type(exc).__name__}: {msg}); "
                      "check the probe connection and power")
