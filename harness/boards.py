"""The board catalog: ``boards.yaml`` loaded into frozen, validated records (data only, no drivers).

Errors: :class:`harness.errors.CatalogError` with a one-line message naming the file, the board and the field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from harness.errors import CatalogError

CATALOG_PATH = Path(__file__).resolve().parent.parent / "boards.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Memory(_Frozen):
    """Where flash and RAM start on the real chip (bytes, as addresses)."""

    flash_origin: int = Field(ge=0)
    ram_origin: int = Field(ge=0)


class Compiler(_Frozen):
    """GCC target flags: -mcpu, -mfpu (``none`` for no FPU), -mfloat-abi."""

    cpu: str
    fpu: str = "none"
    float_abi: Literal["soft", "softfp", "hard"] = "soft"

    def flags(self) -> list[str]:
        """The GCC machine flags, e.g. ['-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-sp-d16', '-mfloat-abi=hard']."""
        out = [f"-mcpu={self.cpu}", "-mthumb"]
        if self.fpu != "none":
            out.append(f"-mfpu={self.fpu}")
        out.append(f"-mfloat-abi={self.float_abi}")
        return out


class Flasher(_Frozen):
    """How the real board is programmed: pyocd target name or esptool chip."""

    kind: Literal["pyocd", "esptool"]
    target: str


class Serial(_Frozen):
    """The DUT's serial link: baud rate and which UART/pins carry it (documentation)."""

    baudrate: int = Field(gt=0)
    uart: str = ""


class Twin(_Frozen):
    """The emulated twin: QEMU machine and CPU, its UART, and its memory origins (bytes, as addresses)."""

    machine: str
    cpu: str
    uart: str
    flash_origin: int = Field(ge=0)
    ram_origin: int = Field(ge=0)
    platformio_env: str


class CpiModel(_Frozen):
    """Average clock cycles per instruction of the core on int8 inference code, and where the number comes from.

    Used only to turn a twin's exact instruction count into an ESTIMATED latency:
    ``latency_us_est = instructions * value / clock_hz * 1e6`` (harness/metrics/latency.py)."""

    value: float = Field(gt=0, lt=10)
    source: str = Field(min_length=10)


class PowerModel(_Frozen):
    """Active supply current (mA) of the MCU running code at ``clock_hz`` from supply ``supply_v`` (V), cited
    from the datasheet in ``source``.  Energy estimate = current * voltage * (estimated) time."""

    active_current_ma: float = Field(gt=0)
    supply_v: float = Field(gt=0, lt=6)
    clock_hz: int = Field(gt=0)
    source: str = Field(min_length=10)

    @property
    def active_power_mw(self) -> float:
        """Active power in mW (mA * V)."""
        return self.active_current_ma * self.supply_v


UsbId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")]  # "VID:PID", hex


class Board(_Frozen):
    """One catalog entry. Sizes in bytes, clock in Hz.  ``cpi`` and ``power`` (optional) feed the latency and
    energy ESTIMATES of twins (and of boards measured without a power monitor)."""

    name: str
    title: str
    mcu: str
    core: str
    arch: str
    clock_hz: int = Field(gt=0)
    flash_bytes: int = Field(gt=0)
    ram_bytes: int = Field(gt=0)
    memory: Memory
    compiler: Compiler
    platformio_env: str
    flasher: Flasher
    serial: Serial
    usb: tuple[UsbId, ...] = ()  # of the board's debug probe / USB-serial bridge
    twin: Twin | None = None
    cpi: CpiModel | None = None
    power: PowerModel | None = None

    @model_validator(mode="after")
    def _power_at_catalog_clock(self) -> "Board":
        if self.power is not None and self.power.clock_hz != self.clock_hz:
            raise ValueError(f"power.clock_hz {self.power.clock_hz} differs from clock_hz {self.clock_hz}: "
                             "cite the active current at the catalog clock")
        return self

    @property
    def has_twin(self) -> bool:
        """True when the catalog names a QEMU twin for this board."""
        return self.twin is not None

    def target(self, emulate: bool, *, probe: str | None = None, port: str | None = None,
               meter: "MeterSpec | str | None" = None, rules: "RunRules | None" = None) -> "Target":
        """This board (``emulate`` False) or its emulated twin as a :class:`~harness.target.Target`: kind,
        PlatformIO environment, port directory, memory origins, flasher, energy meter, timer source, run rules.
        ``probe``/``port``: the real board's probe unique ID and serial port; ``meter``: a power monitor
        (``KIND[:PORT]``).  Raises CatalogError when ``emulate`` and the board has no twin."""
        return make_target(self, emulate, probe=probe, port=port, meter=meter, rules=rules)


from harness.target import MeterSpec, RunRules, Target, make_target  # noqa: E402 (Target refers to Board)

Target.model_rebuild(_types_namespace={"Board": Board})


def load_catalog(path: str | Path | None = None) -> dict[str, Board]:
    """Load and validate a catalog file (default: the repository's boards.yaml).

    Returns {board name: Board}. Raises CatalogError on a missing file, bad YAML or a field that fails
    validation (the message names board and field).
    """
    path = Path(path) if path else CATALOG_PATH
    return _load(path.resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, Board]:
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CatalogError(f"cannot read board catalog {path}: {exc.strerror}; pass --catalog or restore boards.yaml") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise CatalogError(f"{path}{where} is not valid YAML; fix the syntax there") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("boards"), dict):
        raise CatalogError(f"{path} has no top-level 'boards:' mapping; see the repository's boards.yaml")
    boards = {}
    for name, entry in doc["boards"].items():
        if not isinstance(entry, dict):
            raise CatalogError(f"{path}: board {name} is not a mapping of fields")
        try:
            boards[name] = Board(name=name, **entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise CatalogError(f"{path}: board {name}, field {field}: {err['msg']}; fix boards.yaml") from None
        except TypeError as exc:
            raise CatalogError(f"{path}: board {name}: {exc}; fix boards.yaml") from None
    return boards


def assign_per_board(values: list[str] | None, names: list[str], option: str) -> dict[str, str]:
    """Assign ``--probe``/``--port`` values to boards: ``BOARD=VALUE`` pairs, or one bare VALUE for one board.

    Returns {board name: value}.  Raises CatalogError for a bare value with several boards, or a pair naming
    a board not in ``names`` (values that are paths or URLs, e.g. ``socket://h:1``, are never pairs).
    """
    out: dict[str, str] = {}
    for v in values or []:
        name, sep, value = v.partition("=")
        if sep and name in names:
            out[name] = value
        elif sep and name and "/" not in name and ":" not in name:
            raise CatalogError(f"{option} {v}: board {name!r} is not among --board {', '.join(names)}")
        elif len(names) == 1:
            out[names[0]] = v
        else:
            raise CatalogError(f"{option} {v}: with several boards write {option} BOARD={v}")
    return out


def get_board(name: str, path: str | Path | None = None) -> Board:
    """The catalog entry named ``name``. Raises CatalogError listing the known boards."""
    boards = load_catalog(path)
    if name not in boards:
        raise CatalogError(f"unknown board {name!r}; known boards: {', '.join(sorted(boards))}")
    return boards[name]
