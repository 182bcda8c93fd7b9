"""The board catalog: ``boards.yaml`` loaded into frozen, validated records (data only, no drivers).

Strict: integers are integers (``true`` is not 1, ``"64"`` is not 64), strings are strings; RAM and flash
lie between 1 KB and 64 MB, the clock between 1 MHz and 2 GHz; unknown keys (top-level or per board) and
duplicate keys are refused with their line; a twin's QEMU machine must be one the installed
``qemu-system-arm -machine help`` lists; a board needs a port directory under ``targets/boards`` (its own,
or its twin's).  Errors: :class:`harness.errors.CatalogError`, one line naming file, line, board and field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, ValidationError,
                      model_validator)

from harness.errors import CatalogError

CATALOG_PATH = Path(__file__).resolve().parent.parent / "boards.yaml"
PORTS_DIR = Path(__file__).resolve().parent.parent / "targets" / "boards"
KB, MB = 1024, 1024 * 1024
MIN_MEMORY, MAX_MEMORY = 1 * KB, 64 * MB        # bytes, plausible MCU RAM/flash
MIN_CLOCK, MAX_CLOCK = 1_000_000, 2_000_000_000  # Hz


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    return value


Int = Annotated[int, Strict()]                  # YAML true/false or "64" are refused, not read as 1/0/64
Num = Annotated[float, BeforeValidator(_number)]
Str = Annotated[str, Strict()]
Address = Annotated[int, Strict(), Field(ge=0, lt=1 << 32)]
MemorySize = Annotated[int, Strict(), Field(ge=MIN_MEMORY, le=MAX_MEMORY)]
ClockHz = Annotated[int, Strict(), Field(ge=MIN_CLOCK, le=MAX_CLOCK)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Memory(_Frozen):
    """Where flash and RAM start on the real chip (bytes, as addresses)."""

    flash_origin: Address
    ram_origin: Address


class Compiler(_Frozen):
    """GCC target flags: -mcpu, -mfpu (``none`` for no FPU), -mfloat-abi."""

    cpu: Str
    fpu: Str = "none"
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
    target: Str


class Serial(_Frozen):
    """The DUT's serial link: baud rate and which UART/pins carry it (documentation)."""

    baudrate: Annotated[int, Strict(), Field(ge=300, le=20_000_000)]
    uart: Str = ""


class Twin(_Frozen):
    """The emulated twin: QEMU machine and CPU, its UART, and its memory origins (bytes, as addresses)."""

    machine: Str
    cpu: Str
    uart: Str
    flash_origin: Address
    ram_origin: Address
    platformio_env: Str


class CpiModel(_Frozen):
    """Average clock cycles per instruction of the core on int8 inference code, and where the number comes from.

    Used only to turn a twin's exact instruction count into an ESTIMATED latency:
    ``latency_us_est = instructions * value / clock_hz * 1e6`` (harness/metrics/latency.py)."""

    value: Num = Field(gt=0, lt=10)
    source: Str = Field(min_length=10)


class PowerModel(_Frozen):
    """Active supply current (mA) of the MCU running code at ``clock_hz`` from supply ``supply_v`` (V), cited
    from the datasheet in ``source``.  Energy estimate = current * voltage * (estimated) time."""

    active_current_ma: Num = Field(gt=0, lt=10_000)
    supply_v: Num = Field(gt=0, lt=6)
    clock_hz: ClockHz
    source: Str = Field(min_length=10)

    @property
    def active_power_mw(self) -> float:
        """Active power in mW (mA * V)."""
        return self.active_current_ma * self.supply_v


UsbId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")]  # "VID:PID", hex


class Board(_Frozen):
    """One catalog entry. Sizes in bytes, clock in Hz.  ``cpi`` and ``power`` (optional) feed the latency and
    energy ESTIMATES of twins (and of boards measured without a power monitor)."""

    name: Str
    title: Str
    mcu: Str
    core: Str
    arch: Str
    clock_hz: ClockHz
    flash_bytes: MemorySize
    ram_bytes: MemorySize
    memory: Memory
    compiler: Compiler
    platformio_env: Str
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


def _read_yaml(path: Path) -> tuple[object, dict[tuple, int]]:
    """The YAML document and {key path: 1-based line}.  Raises CatalogError for unreadable text, bad YAML or
    a duplicate key (PyYAML keeps the last silently)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise CatalogError(f"cannot read board catalog {path}: {exc.strerror}; pass --catalog or restore boards.yaml") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path} is not UTF-8 text; restore boards.yaml") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise CatalogError(f"{path}{where} is not valid YAML; fix the syntax there") from None
    lines: dict[tuple, int] = {}

    def walk(node, at: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
                line = key.start_mark.line + 1
                if name in seen:
                    where = ".".join(str(x) for x in at[1:] + (name,)) or name
                    raise CatalogError(f"{path} line {line}: duplicate key {where!r} (first at line {seen[name]}); "
                                       "keep one of them")
                seen[name] = line
                lines[at + (name,)] = line
                walk(value, at + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[at + (i,)] = item.start_mark.line + 1
                walk(item, at + (i,))

    walk(root, ())
    return doc, lines


def _line(lines: dict[tuple, int], at: tuple) -> str:
    while at and at not in lines:
        at = at[:-1]
    return f" line {lines[at]}" if at else ""


@lru_cache(maxsize=1)
def qemu_machines() -> tuple[str, ...] | None:
    """Machine names the installed ``qemu-system-arm -machine help`` lists; None when QEMU is not installed."""
    import subprocess  # noqa: PLC0415

    try:
        out = subprocess.run(["qemu-system-arm", "-machine", "help"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.split()[0] for line in out.splitlines()[1:] if line.strip() and not line.startswith(" ")]
    return tuple(names) or None


@lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, Board]:
    from harness.target import board_port_dir, twin_port_dir  # noqa: PLC0415

    doc, lines = _read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("boards"), dict):
        raise CatalogError(f"{path} has no top-level 'boards:' mapping; see the repository's boards.yaml")
    for key in doc:
        if key != "boards":
            raise CatalogError(f"{path} line {lines.get((key,), '?')}: unknown top-level key {key!r}; the catalog "
                               "has only 'boards:' (check the indentation)")
    boards = {}
    for name, entry in doc["boards"].items():
        at = ("boards", name)
        if not isinstance(entry, dict):
            raise CatalogError(f"{path}{_line(lines, at)}: board {name} is not a mapping of fields")
        try:
            board = Board(name=str(name), **{str(k): v for k, v in entry.items()})
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc)
            got = f" (got {err['input']!r})" if not isinstance(err.get("input"), dict) and "input" in err else ""
            raise CatalogError(f"{path}{_line(lines, at + loc)}: board {name}, field {field}: {err['msg']}{got}; "
                               "fix boards.yaml") from None
        except TypeError as exc:
            raise CatalogError(f"{path}{_line(lines, at)}: board {name}: {exc}; fix boards.yaml") from None
        if board.twin is not None:
            machines = qemu_machines()
            where = f"{path}{_line(lines, at + ('twin', 'machine'))}: board {name}, twin.machine"
            if machines is not None and board.twin.machine not in machines:
                arm_m = ", ".join(m for m in machines if m.startswith("mps2")) or ", ".join(machines[:5])
                raise CatalogError(f"{where} {board.twin.machine!r} is not a machine of the installed QEMU; "
                                   f"use one `qemu-system-arm -machine help` lists (e.g. {arm_m})")
            if not twin_port_dir(board.twin.machine).is_dir():
                raise CatalogError(f"{where} {board.twin.machine!r} has no port directory "
                                   f"{twin_port_dir(board.twin.machine)}; write the port or pick an mps2 machine")
        elif not board_port_dir(board.name).is_dir():
            raise CatalogError(f"{path}{_line(lines, at)}: board {name} has neither a twin nor a port directory "
                               f"{board_port_dir(board.name)}; write the port (see targets/boards/stm32f746)")
        boards[board.name] = board
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
        import difflib  # noqa: PLC0415

        close = difflib.get_close_matches(name, list(boards), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise CatalogError(f"unknown board {name!r}; {hint}known boards: {', '.join(sorted(boards))}")
    return boards[name]
