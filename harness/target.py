"""What a run runs on, as data: a board or its emulated twin (:class:`Target`), made only by
:meth:`harness.boards.Board.target`.

Everything that differs between a real board and its twin lives in one frozen record: the kind, the
PlatformIO environment and board-port directory, the memory origins, how firmware gets onto it (flasher spec),
how energy is measured (energy-meter spec), which timer the firmware counts with, and the latency run rules.
Code downstream reads these fields; it never asks "is this a twin?" itself.  No drivers here.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import CatalogError

if TYPE_CHECKING:  # pragma: no cover
    from harness.boards import Board

PORTS_DIR = Path(__file__).resolve().parent.parent / "targets" / "boards"
MIN_WINDOWS = 5  # MLPerf Tiny run rules (EEMBC EnergyRunner performance mode): at least 5 windows


class TargetKind(str, Enum):
    """A real ``board`` on a probe and serial port, or its emulated ``twin`` (QEMU)."""

    BOARD = "board"
    TWIN = "twin"


class TimerSource(str, Enum):
    """What the firmware's timer counts: clock ``cycles`` (hardware), retired ``instructions`` (twins, exact
    with ``-icount``), ``ns`` (the host test port), or timer ``ticks`` of a fixed rate."""

    CYCLES = "cycles"
    INSTRUCTIONS = "instructions"
    NS = "ns"
    TICKS = "ticks"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RunRules(_Frozen):
    """How latency (and energy) windows are run (MLPerf Tiny run rules).  ``windows`` >= 5; ``warmup`` untimed
    inferences before each window; ``window_s`` minimum seconds per window on hardware; ``twin_inferences``
    inferences per window on twins (their counts are exact, so no minimum duration is needed)."""

    windows: int = MIN_WINDOWS
    warmup: int = 1
    window_s: float = 10.0
    twin_inferences: int = 2

    def check(self) -> "RunRules":
        """Returns self; raises MeasurementError for fewer than 5 windows or non-positive sizes."""
        from harness.metrics import MeasurementError  # noqa: PLC0415

        if self.windows < MIN_WINDOWS:
            raise MeasurementError(f"{self.windows} latency windows requested; the MLPerf Tiny run rules need at "
                                   f"least {MIN_WINDOWS}: raise --windows")
        if self.warmup < 0 or self.window_s <= 0 or self.twin_inferences < 1:
            raise MeasurementError("latency run rules need warmup >= 0, window_s > 0 and twin_inferences >= 1")
        return self


BOARD_RULES = RunRules()
TWIN_RULES = RunRules(warmup=0, twin_inferences=1)  # deterministic: one reloaded inference per window


class FlasherSpec(_Frozen):
    """How firmware reaches the target.  ``kind``: ``qemu`` (twin: ``machine``/``cpu``/``uart``), ``pyocd``
    (``target`` = pyocd target name, ``probe`` = probe unique ID or None for the only one attached) or
    ``esptool`` (``target`` = chip).  ``port``: serial port path or pyserial URL of the DUT (None: found from
    the probe, or QEMU's socket for twins)."""

    kind: Literal["qemu", "pyocd", "esptool"]
    target: str
    machine: str | None = None
    cpu: str | None = None
    uart: str | None = None
    probe: str | None = None
    port: str | None = None


METER_KINDS = ("js220", "js110", "ppk2", "lpm01a")


class MeterSpec(_Frozen):
    """A power monitor: ``kind`` one of js220, js110, ppk2, lpm01a; ``port``: its serial port (PPK2, LPM01A)
    or device path (Joulescope; None = the only one attached).  Parse ``--energy-meter`` with :meth:`parse`."""

    kind: Literal["js220", "js110", "ppk2", "lpm01a"]
    port: str | None = None

    @classmethod
    def parse(cls, text: str) -> "MeterSpec":
        """``KIND[:PORT]`` -> MeterSpec, e.g. ``ppk2:/dev/ttyACM1``.  Raises CatalogError naming the kinds."""
        kind, _, port = text.strip().partition(":")
        if kind.lower() not in METER_KINDS:
            raise CatalogError(f"--energy-meter {text!r}: unknown power monitor {kind!r}; use one of "
                               f"{', '.join(METER_KINDS)}, optionally with :PORT (e.g. ppk2:/dev/ttyACM1)")
        if kind.lower() in ("ppk2", "lpm01a") and not port:
            raise CatalogError(f"--energy-meter {text!r}: the {kind} needs its serial port, e.g. {kind}:/dev/ttyACM1")
        return cls(kind=kind.lower(), port=port or None)

    def __str__(self) -> str:
        return self.kind + (f":{self.port}" if self.port else "")


class Target(_Frozen):
    """One board or its twin, everything a run needs to know about where it runs.

    ``board``: the catalog entry (clock, sizes, compiler flags, CPI and power models).  ``platformio_env``:
    the PlatformIO environment that builds for it; ``port_dir``: the board-port directory under
    ``targets/boards``; ``flash_origin``/``ram_origin``: addresses (bytes) of the memories the linker script
    places code and data in (the lengths are the board's own sizes on both kinds); ``flasher``; ``meter``
    (None: no monitor, energy is the board's labelled power-model estimate or not measured); ``timer``;
    ``rules``: latency run rules."""

    board: "Board"
    kind: TargetKind
    platformio_env: str
    port_dir: str
    flash_origin: int = Field(ge=0)
    ram_origin: int = Field(ge=0)
    flasher: FlasherSpec
    meter: MeterSpec | None = None
    timer: TimerSource
    rules: RunRules

    @property
    def name(self) -> str:
        """``<board>`` or ``<board>-twin``: the name used in run ids and build directories."""
        return self.board.name + ("-twin" if self.kind is TargetKind.TWIN else "")


def twin_port_dir(machine: str) -> Path:
    """The board-port directory of a QEMU machine: ``targets/boards/<family>`` (``mps2-an386`` -> ``mps2``)."""
    return PORTS_DIR / machine.split("-")[0]


def board_port_dir(name: str) -> Path:
    """The board-port directory of a real board: ``targets/boards/<board name>``."""
    return PORTS_DIR / name


def make_target(board: "Board", emulate: bool, *, probe: str | None = None, port: str | None = None,
                meter: MeterSpec | str | None = None, rules: RunRules | None = None) -> Target:
    """The :class:`Target` of ``board`` (its twin when ``emulate``).  The one place where a twin and a board
    differ; :meth:`Board.target` calls it.  Raises CatalogError for a twin-less board asked for its twin, or a real board without a
    port directory (``targets/boards/<name>``)."""
    meter = MeterSpec.parse(meter) if isinstance(meter, str) else meter
    if emulate:
        twin = board.twin
        if twin is None:
            raise CatalogError(f"{board.name} has no emulated twin (no QEMU machine for {board.core}); "
                               "drop --emulate and attach the board (--probe/--port)")
        return Target(board=board, kind=TargetKind.TWIN, platformio_env=twin.platformio_env,
                      port_dir=twin_port_dir(twin.machine).name, flash_origin=twin.flash_origin,
                      ram_origin=twin.ram_origin, meter=meter, timer=TimerSource.INSTRUCTIONS,
                      flasher=FlasherSpec(kind="qemu", target=twin.machine, machine=twin.machine, cpu=twin.cpu,
                                          uart=twin.uart, port=port),
                      rules=rules or TWIN_RULES)
    if not board_port_dir(board.name).is_dir():
        raise CatalogError(f"{board.name} has no board port ({board_port_dir(board.name)} is missing), so only its "
                           "twin runs: add --emulate, or write the port (see targets/boards/stm32f746)")
    return Target(board=board, kind=TargetKind.BOARD, platformio_env=board.platformio_env, port_dir=board.name,
                  flash_origin=board.memory.flash_origin, ram_origin=board.memory.ram_origin, meter=meter,
                  timer=TimerSource.CYCLES,
                  flasher=FlasherSpec(kind=board.flasher.kind, target=board.flasher.target, probe=probe, port=port),
                  rules=rules or BOARD_RULES)
