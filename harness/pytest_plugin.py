"""tinyhil's pytest plugin (auto-loaded through the ``pytest11`` entry point in pyproject.toml).

Options (every name but ``--board`` carries the ``--tinyhil-`` prefix, so the plugin installs beside
pytest-embedded, labgrid's plugin and others that own ``--port``, ``--target`` or ``--probe``)::

    --board NAME (= --tinyhil-board)  a catalog board to run on-device tests on (repeatable: once per board)
    --tinyhil-emulate         use the boards' emulated twins (QEMU) instead of attached hardware
    --tinyhil-probe UID       debug probe unique ID of the board (``UID``, or ``BOARD=UID`` with several boards)
    --tinyhil-port PATH|URL   serial port of the board (``PATH``, or ``BOARD=PATH``); found from the probe if omitted
    --tinyhil-backend NAME    deployment backend (tinyhil, tflm, tflm-cmsis-nn; repeatable: once per backend)
    --tinyhil-energy-meter KIND[:PORT]  power monitor (js220, js110, ppk2, lpm01a) measuring energy
    --tinyhil-place NAME      a labgrid place (``board=NAME`` for any of that type), held for the session: its
                              board tag names the board, its serial port and probe reach the DUT (docs/farm.md)
    --tinyhil-coordinator HOST[:PORT]  the labgrid coordinator (default $LG_COORDINATOR, else localhost)

When another plugin registered ``--board`` first, tinyhil registers only ``--tinyhil-board`` and says so in the
report header.

Fixtures, all prefixed ``tinyhil_`` for the same reason (pytest-embedded has ``dut`` and ``target``, labgrid
``target``): ``tinyhil_board`` (the catalog entry, parametrized over ``--board``), ``tinyhil_backend``,
``tinyhil_target`` (its harness.target.Target), ``tinyhil_firmware`` (``firmware(model) -> Firmware``, built once
per model x target x backend), ``tinyhil_model`` (the .tflite the DUT runs; override it in a conftest),
``tinyhil_dut`` (a flashed, connected harness.dut.Dut with ``infer(tensor) -> (output, Counts)`` and
``check(tensor)`` against the same host reference as ``bench``).  Marker: ``@pytest.mark.board("stm32f746", ...)``
limits a test that uses these fixtures to those boards.  Only tests that use tinyhil's fixtures are parametrized
or skipped: a project's own ``board`` fixture is left alone.  On-device tests are skipped with the reason when no
board is named, when ``--tinyhil-emulate`` asks for a board without a twin, or when neither a probe nor a port
points at hardware: ``pytest --board=stm32f746`` on a machine without the board skips, it does not fail.

Hardware is opt-in (an option plus a skip with a reason), as in MLonMCU's and labgrid's pytest plugins;
the plugin imports nothing heavy until a fixture is used.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


# ---- options ------------------------------------------------------------------------------------------------
def _claimed_options(parser: pytest.Parser) -> set[str]:
    """Option strings other plugins registered before this one (pytest has no public listing)."""
    groups = [parser._anonymous, *parser._groups]  # noqa: SLF001
    return {name for g in groups for opt in g.options for name in opt.names()}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyhil", "tinyhil on-device tests (boards and their emulated twins)")
    board_names = ["--tinyhil-board"] if "--board" in _claimed_options(parser) else ["--board", "--tinyhil-board"]
    group.addoption(*board_names, dest="tinyhil_board", action="append", default=[], metavar="NAME",
                    help="catalog board to run on-device tests on (repeatable)")
    group.addoption("--tinyhil-emulate", action="store_true", default=False,
                    help="run on-device tests on the boards' emulated twins (QEMU)")
    group.addoption("--tinyhil-probe", action="append", default=[], metavar="UID",
                    help="debug probe unique ID (UID, or BOARD=UID when several boards are given)")
    group.addoption("--tinyhil-port", action="append", default=[], metavar="PATH_OR_URL",
                    help="serial port of the board (PATH, or BOARD=PATH when several boards are given)")
    group.addoption("--tinyhil-backend", action="append", default=[], metavar="NAME",
                    help="deployment backend of the firmware: tinyhil (default), tflm, tflm-cmsis-nn (repeatable: "
                         "on-device tests run once per backend)")
    group.addoption("--tinyhil-place", default=None, metavar="NAME",
                    help="labgrid place to run on (a name, or board=NAME for any of that type), held for the session; "
                         "its board tag picks the board (docs/farm.md)")
    group.addoption("--tinyhil-coordinator", default=None, metavar="HOST[:PORT]",
                    help="labgrid coordinator of --tinyhil-place (default: $LG_COORDINATOR, else localhost)")
    group.addoption("--tinyhil-energy-meter", default=None, metavar="KIND[:PORT]",
                    help="power monitor for energy: js220|js110|ppk2|lpm01a[:PORT] (default: datasheet estimate)")
    parser.addini("tinyhil_build_root", "directory for firmware builds (default: .tinyhil/build in the repo)")
    BOARD_OPTION[0] = board_names[0]


BOARD_OPTION = ["--board"]  # the option string the board option got (--tinyhil-board when --board was taken)


def per_board(values: list[str], boards: list[str], what: str) -> dict[str, str]:
    """Map ``--probe``/``--port`` values to boards (harness.boards.assign_per_board); pytest.UsageError if bad."""
    from harness.boards import assign_per_board  # noqa: PLC0415
    from harness.errors import CatalogError  # noqa: PLC0415

    try:
        return assign_per_board(values, boards, f"--tinyhil-{what}")
    except CatalogError as exc:
        raise pytest.UsageError(str(exc)) from None


@dataclass
class TinyhilOptions:
    """The parsed options, kept on the pytest config (``config.stash[OPTIONS]``)."""

    boards: list[str]
    emulate: bool
    probes: dict[str, str]
    ports: dict[str, str]
    build_root: Path
    meter: str | None = None
    backends: list = field(default_factory=list)  # harness.backends.Backend values
    place: object = None                            # harness.farm.held.HeldPlace for the session, or None
    pool: dict = field(default_factory=dict)      # (target name, firmware sha256) -> open Dut
    firmware_cache: dict = field(default_factory=dict)
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def target(self, board_name: str):
        """The harness.target.Target of ``board_name`` under these options.  Raises CatalogError (no twin)."""
        from harness.boards import get_board  # noqa: PLC0415

        if self.place is not None:
            return self.place.target()
        return get_board(board_name).target(self.emulate, probe=self.probes.get(board_name),
                                            port=self.ports.get(board_name), meter=self.meter)

    def hardware_reason(self, board_name: str) -> str | None:
        """Why on-device tests cannot run on ``board_name``, or None when they can."""
        from harness.errors import CatalogError  # noqa: PLC0415

        try:
            self.target(board_name)
        except CatalogError as exc:
            return str(exc)
        if self.emulate or self.place is not None:
            return None
        if board_name not in self.probes and board_name not in self.ports:
            return (f"no probe or serial port given for {board_name}: pass --tinyhil-probe UID and/or "
                    "--tinyhil-port PATH (see `tinyhil probes`), or --tinyhil-emulate for its twin")
        return None


OPTIONS = pytest.StashKey[TinyhilOptions]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board(*names): run this test only on these catalog boards")
    boards = list(dict.fromkeys(config.getoption("tinyhil_board") or []))
    if boards:
        from harness.boards import get_board  # noqa: PLC0415
        from harness.errors import CatalogError  # noqa: PLC0415

        try:
            for b in boards:
                get_board(b)  # an unknown name: one line with a did-you-mean
        except CatalogError as exc:
            raise pytest.UsageError(str(exc)) from None
    root = config.getini("tinyhil_build_root") or os.environ.get("TINYHIL_BUILD_ROOT") or REPO / ".tinyhil" / "build"
    opts = TinyhilOptions(
        boards=boards, emulate=bool(config.getoption("tinyhil_emulate")),
        probes=per_board(config.getoption("tinyhil_probe") or [], boards, "probe"),
        ports=per_board(config.getoption("tinyhil_port") or [], boards, "port"),
        build_root=Path(root), meter=config.getoption("tinyhil_energy_meter"), backends=_backends(config))
    place = config.getoption("tinyhil_place")
    if place:
        _hold_place(opts, place, config.getoption("tinyhil_coordinator"))
    config.stash[OPTIONS] = opts


def _hold_place(opts: TinyhilOptions, place: str, coordinator: str | None) -> None:
    """Acquire the labgrid place for the session (released in pytest_unconfigure, also on errors and SIGTERM)
    and take the board from its tags.  pytest.UsageError when it cannot be held or --board disagrees."""
    from harness.errors import TinyhilError  # noqa: PLC0415
    from harness.farm.held import HeldPlace  # noqa: PLC0415

    try:  # held by a child process: gRPC threads in this one would break plugins that fork (pytest-embedded)
        session = opts.exits.enter_context(HeldPlace(place, coordinator=coordinator))
    except TinyhilError as exc:
        opts.exits.close()
        raise pytest.UsageError(str(exc)) from None
    if opts.boards and opts.boards != [session.board.name]:
        opts.exits.close()
        raise pytest.UsageError(f"--tinyhil-place {place} is a {session.board.name}; drop --board or name that board")
    opts.place, opts.boards, opts.emulate = session, [session.board.name], session.is_twin


def _backends(config: pytest.Config) -> list:
    from harness.backends import parse_backend  # noqa: PLC0415
    from harness.errors import TinyhilError  # noqa: PLC0415

    try:
        return [parse_backend(b) for b in dict.fromkeys(config.getoption("tinyhil_backend") or ["tinyhil"])]
    except TinyhilError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    opts = config.stash.get(OPTIONS, None)
    if opts is not None:
        opts.exits.close()  # stops emulators, closes ports


def pytest_report_header(config: pytest.Config) -> str | None:
    opts = config.stash.get(OPTIONS, None)
    if BOARD_OPTION[0] != "--board":
        return "tinyhil: another plugin owns --board; name tinyhil's boards with --tinyhil-board"
    if not opts or not opts.boards:
        return None
    if opts.place is not None:
        return f"tinyhil: labgrid place {opts.place.name} ({opts.boards[0]}, via {opts.place.serial_url})"
    return f"tinyhil: boards {', '.join(opts.boards)} ({'emulated twins' if opts.emulate else 'hardware'})"


# ---- parametrization and the board marker --------------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize tests that use tinyhil's fixtures over ``--tinyhil-backend`` and ``--board``; others untouched."""
    opts = metafunc.config.stash[OPTIONS]
    if "tinyhil_backend" in metafunc.fixturenames:
        metafunc.parametrize("tinyhil_backend", opts.backends, indirect=True, ids=[b.value for b in opts.backends],
                             scope="session")
    if "tinyhil_board" not in metafunc.fixturenames:
        return
    if opts.boards:
        metafunc.parametrize("tinyhil_board", opts.boards, indirect=True, ids=opts.boards, scope="session")
    else:
        metafunc.parametrize("tinyhil_board", [pytest.param(None, marks=pytest.mark.skip(
            reason=f"on-device test: no {BOARD_OPTION[0]} given (e.g. pytest {BOARD_OPTION[0]}=stm32f746 "
                   "--tinyhil-emulate)"))], indirect=True, ids=["no-board"], scope="session")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("board")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None or "tinyhil_board" not in callspec.params:
        return
    name = callspec.params["tinyhil_board"]
    if name is not None and name not in marker.args:
        pytest.skip(f"only for boards {', '.join(marker.args)} (this run: {name})")


# ---- fixtures ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def tinyhil_options(request: pytest.FixtureRequest) -> TinyhilOptions:
    """The plugin's parsed options (boards, emulate, probes, ports, build root)."""
    return request.config.stash[OPTIONS]


@pytest.fixture(scope="session")
def tinyhil_board(request: pytest.FixtureRequest):
    """The catalog entry (harness.boards.Board) of the board under test; one test per ``--board``."""
    from harness.boards import get_board  # noqa: PLC0415

    return get_board(request.param)


@pytest.fixture(scope="session")
def tinyhil_backend(request: pytest.FixtureRequest):
    """The deployment backend (harness.backends.Backend) the firmware and DUT are built with; one test per
    ``--tinyhil-backend`` (default tinyhil)."""
    return request.param


class FirmwareBuilder:
    """``builder(model) -> Firmware`` for one target and backend (harness.orchestrate.Firmware: compiled model +
    image), cached per model file; ``builder.compiled(model)`` is the CompiledModel behind it."""

    def __init__(self, target, opts: TinyhilOptions, backend=None) -> None:
        from harness.backends import Backend  # noqa: PLC0415

        self.target = target
        self.opts = opts
        self.backend = backend or Backend.TINYHIL

    def compiled(self, model: str | Path):
        """The compiled model (harness.codegen.compiler.CompiledModel), cached per resolved path."""
        from harness.codegen.compiler import compile_model  # noqa: PLC0415

        path = Path(model).resolve()
        key = ("compiled", path)
        if key not in self.opts.firmware_cache:
            self.opts.firmware_cache[key] = compile_model(path)
        return self.opts.firmware_cache[key]

    def __call__(self, model: str | Path):
        from harness.errors import ToolchainMissingError  # noqa: PLC0415
        from harness.orchestrate import BuildOptions, prepare  # noqa: PLC0415

        compiled = self.compiled(model)
        key = ("firmware", compiled.sha256, self.target.name, self.backend)
        if key not in self.opts.firmware_cache:
            try:
                self.opts.firmware_cache[key] = prepare(compiled, self.target, BuildOptions(backend=self.backend),
                                                        build_root=self.opts.build_root)
            except ToolchainMissingError as exc:
                pytest.skip(str(exc))
        return self.opts.firmware_cache[key]


@pytest.fixture(scope="session")
def tinyhil_target(tinyhil_board, tinyhil_options: TinyhilOptions):
    """The harness.target.Target of ``tinyhil_board``: its twin with --tinyhil-emulate, else the board with its
    probe, port and energy meter.  Skips with the reason when it cannot be reached."""
    reason = tinyhil_options.hardware_reason(tinyhil_board.name)
    if reason:
        pytest.skip(reason)
    return tinyhil_options.target(tinyhil_board.name)


@pytest.fixture(scope="session")
def tinyhil_firmware(tinyhil_board, tinyhil_backend, tinyhil_options: TinyhilOptions) -> FirmwareBuilder:
    """``tinyhil_firmware(model) -> Firmware``: ``model`` (a .tflite path) compiled and built for the board (its
    twin with --tinyhil-emulate) and backend, cached per model x target x backend.  Raises MemoryOverflowError
    when the model does not fit; skips when the board's toolchain is not installed (ESP32 without Espressif's
    toolchain) or, with --tinyhil-emulate, when the board has no twin."""
    reason = tinyhil_options.emulate and tinyhil_options.hardware_reason(tinyhil_board.name)
    if reason:
        pytest.skip(reason)
    return FirmwareBuilder(tinyhil_options.target(tinyhil_board.name), tinyhil_options, tinyhil_backend)


@pytest.fixture
def tinyhil_model() -> Path:
    """The .tflite model the ``tinyhil_dut`` runs: the zoo's ACDNet-20 int8 (override this fixture to change it)."""
    from harness.data.fetch import fetch_model  # noqa: PLC0415

    return fetch_model("acdnet20-int8", None)


@pytest.fixture
def tinyhil_dut(request: pytest.FixtureRequest, tinyhil_target, tinyhil_backend, tinyhil_options: TinyhilOptions,
                tmp_path_factory: pytest.TempPathFactory):
    """A flashed, connected harness.dut.Dut running ``tinyhil_model`` (``infer(x) -> (output, Counts)``,
    ``check(x)`` against the same host reference as ``bench``); kept open for the session per target x backend x
    firmware.  Skips (before building anything) when the board is not reachable."""
    model = request.getfixturevalue("tinyhil_model")
    firmware = request.getfixturevalue("tinyhil_firmware")(model)
    key = (tinyhil_target.name, firmware.backend, firmware.image.sha256)
    if key not in tinyhil_options.pool:
        from harness.orchestrate import connect  # noqa: PLC0415

        run_dir = tmp_path_factory.mktemp(f"dut-{tinyhil_target.name}")
        connector = tinyhil_options.place.connector() if tinyhil_options.place is not None else connect
        tinyhil_options.pool[key] = tinyhil_options.exits.enter_context(
            connector(firmware, tinyhil_target, run_dir=run_dir))
    return tinyhil_options.pool[key]
