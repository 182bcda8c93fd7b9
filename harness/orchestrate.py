"""One orchestration for every command: ``prepare`` (model -> C -> firmware for a target) and ``connect``
(firmware -> flashed, connected :class:`~harness.dut.Dut`).

``bench``, ``profile``, ``variants`` and the pytest plugin all go through these two functions; what differs
between a board and its twin is read from the :class:`~harness.target.Target`, never decided here.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from harness.backends import Backend
from harness.build import DEFAULT_HEAP_BYTES, DEFAULT_STACK_BYTES, TARGETS, BackendSources, FirmwareImage, build_firmware
from harness.codegen.compiler import CompiledModel, compile_model
from harness.dut import Dut
from harness.errors import ProtocolError
from harness.flash import flasher_for
from harness.protocol.client import DeviceClient
from harness.target import Target
from harness.transport.serial import SerialTransport

REPO = Path(__file__).resolve().parent.parent
BUILD_ROOT = REPO / ".tinyhil" / "build"
BOOT_TIMEOUT_S = 20.0
#: The firmware reports the first MODEL_SHA_DIGITS hex digits of its model's SHA-256 in ``profile%``
#: (``model_sha``), defined at build time, so a DUT flashed some other way can be checked (``connect(url=...)``).
MODEL_SHA_DEFINE = "TH_MODEL_SHA"
MODEL_SHA_DIGITS = 16
#: Seconds of silence after which the boot wait pings (``%``): a boot line lost under load costs this much.
BOOT_PING_S = 1.0
#: Seconds a silent DUT may pause (a bulk load or a resync waits that long before it resets the DUT).
STALL_S = 40.0


@dataclass(frozen=True)
class BuildOptions:
    """How the firmware is built around the model: the deployment ``backend`` (tinyhil's generated code, TFLM
    with reference kernels, TFLM with CMSIS-NN), extra ``-D`` ``defines`` (e.g. ``{"TH_PROFILE_OPS": None}``
    for per-operator hooks), stack and heap reservations (bytes), and an application directory replacing
    ``targets/common`` (tests only)."""

    backend: Backend = Backend.TINYHIL
    defines: dict = field(default_factory=dict)
    stack_bytes: int = DEFAULT_STACK_BYTES
    heap_bytes: int = DEFAULT_HEAP_BYTES
    app_dir: Path | None = None


@dataclass(frozen=True)
class Firmware:
    """A model built for a target with a backend: the compiled model (tensors, MACs; tinyhil's arena plan), the
    firmware image and the backend's tensor arena (bytes)."""

    target: Target
    compiled: CompiledModel
    image: FirmwareImage
    backend: Backend = Backend.TINYHIL
    arena_bytes: int = 0

    @property
    def elf(self) -> Path:
        return self.image.elf


def prepare(model: str | Path | CompiledModel, target: Target, options: BuildOptions = BuildOptions(), *,
            build_root: Path = BUILD_ROOT) -> Firmware:
    """Compile ``model`` (a .tflite path, or an already compiled model) and build its firmware for ``target``.

    Raises ModelError, UnsupportedOperatorError, BuildError, MemoryOverflowError (the model does not fit the
    board: region and bytes), ToolchainMissingError."""
    compiled = model if isinstance(model, CompiledModel) else compile_model(model)
    model_dir, sources, arena, defines = model_sources(compiled, target, options.backend, build_root)
    defines = {**defines, **options.defines}
    image = build_firmware(target, model_dir, build_root=Path(build_root), defines=defines,
                           app_dir=options.app_dir, stack_bytes=options.stack_bytes, heap_bytes=options.heap_bytes,
                           backend=sources)
    return Firmware(target, compiled, image, options.backend, arena)


def model_sources(compiled: CompiledModel, target: Target, backend: Backend,
                  build_root: Path = BUILD_ROOT) -> tuple[Path, BackendSources | None, int, dict]:
    """What a firmware build of ``compiled`` with ``backend`` needs besides the application: the generated model
    directory, the backend's sources (None: tinyhil's kernels), its arena (bytes) and the defines naming the
    model (``TH_MODEL_SHA``, checked through ``profile%``).  Shared by :func:`prepare` and a plain ``pio run``
    (harness/pio_recipe.py).  Raises UnsupportedOperatorError (an operator TFLM lacks), BuildError."""
    models = Path(build_root) / "models"
    if backend is Backend.TINYHIL:
        model_dir, sources, arena = compiled.write(models / compiled.sha256[:16]), None, compiled.plan.arena_bytes
    else:
        model_dir, sources, arena = _tflm_sources(compiled, target, backend, models)
    return model_dir, sources, arena, {MODEL_SHA_DEFINE: f'"{compiled.sha256[:MODEL_SHA_DIGITS]}"'}


def _tflm_sources(compiled: CompiledModel, target: Target, backend: Backend,
                  models: Path) -> tuple[Path, BackendSources, int]:
    """The TFLM model directory, the TFLM library (built once per core and kernel set for every operator tinyhil
    compiles, :data:`~harness.backends.tflm_lib.FIRMWARE_OPERATORS`) and the arena (bytes).  An operator TFLM
    lacks is refused before anything is built."""
    from harness.backends.tflm_lib import FIRMWARE_OPERATORS, tflm_library  # noqa: PLC0415
    from harness.backends.tflm_model import model_operators, write_tflm_model  # noqa: PLC0415
    from harness.backends.tflm_tree import find_tree  # noqa: PLC0415

    tree = find_tree()
    model_operators(compiled.graph, tree, backend.value)
    ops = {op.opcode for op in compiled.graph.operators}
    lib = tflm_library(target, backend.kernels, tree=tree,
                       operators=FIRMWARE_OPERATORS if ops <= set(FIRMWARE_OPERATORS) else None)
    generated = write_tflm_model(compiled, models / f"{compiled.sha256[:16]}-{backend.value}", lib.tree,
                                 backend.value, cache_dir=models)
    sources = BackendSources(source_dirs={"tflm": str(TARGETS / "tflm")}, include_dirs=lib.include_dirs,
                             cppdefines=dict(lib.defines), cxxflags=lib.cxxflags, libs=(str(lib.archive),))
    return generated.directory, sources, generated.arena_bytes


class _Link:
    """Flasher + serial link + client of one DUT, re-openable: :meth:`reset` restarts the twin (QEMU) or
    re-flashes the board through its probe, then waits for ``m-ready`` again."""

    def __init__(self, firmware: Firmware, target: Target, run_dir: Path, infer_timeout_s: float,
                 url: str | None = None) -> None:
        self.firmware, self.target, self.run_dir, self.infer_timeout_s = firmware, target, run_dir, infer_timeout_s
        self.url = url
        self.flasher = None
        self.client: DeviceClient | None = None

    def open(self, deadline: float | None = None) -> tuple[DeviceClient, dict]:
        """Start/flash, connect, wait for ``m-ready`` and ask ``profile%``; the waits end by ``deadline``
        (time.monotonic seconds; None: BOOT_TIMEOUT_S).  Raises FlashError, TransportError, ProtocolError."""
        target, run_dir = self.target, self.run_dir
        if self.url is None:
            self.flasher = flasher_for(target, log_dir=run_dir)
            self.flasher.load(self.firmware.image)
        transport = SerialTransport(self.url or self.flasher.url, baudrate=target.board.serial.baudrate)
        self.client = DeviceClient(transport, target.board.name, timeout=self.infer_timeout_s,
                                   transcript=run_dir / "serial.log", stall_s=STALL_S)
        with self.client.watchdog(deadline):  # a reset's boot shares the inference's watchdog (harness.dut)
            self.client.wait_ready(BOOT_TIMEOUT_S, ping_interval=BOOT_PING_S)
            info = self.client.device_info()
        if info.get("timer_unit") != target.timer.value:  # e.g. a twin's firmware on a board: counts would lie
            raise ProtocolError(f"{target.name}: the firmware counts {info.get('timer_unit')!r}, this target counts "
                                f"{target.timer.value!r}; it was built for another target: rebuild (see "
                                f"{run_dir / 'serial.log'})")
        if self.url is not None:
            check_model(info, self.firmware, self.url)
        return self.client, info

    def reset(self, deadline: float | None = None) -> DeviceClient:
        """Restart the DUT and return the new client, its boot waits ending by ``deadline`` (time.monotonic
        seconds).  Raises FlashError, TransportError."""
        self.close()
        return self.open(deadline)[0]

    def close(self) -> None:
        client, flasher, self.client, self.flasher = self.client, self.flasher, None, None
        try:
            if client is not None:
                client.close()
        finally:
            if flasher is not None:
                flasher.stop()


def check_model(info: dict, firmware: Firmware, where: str) -> None:
    """Refuse a DUT whose firmware runs another model than ``firmware`` (``model_sha`` of ``profile%``).
    Raises ProtocolError (one line: what runs there, what was asked, the fix)."""
    want = firmware.compiled.sha256[:MODEL_SHA_DIGITS]
    got = info.get("model_sha", "")
    got = str(got).zfill(MODEL_SHA_DIGITS) if isinstance(got, int) else str(got)  # all-decimal digits parse as int
    if got != want:
        runs = f"model {info.get('model')!r} (sha256 {got}...)" if got else f"firmware without a model hash " \
            f"(model {info.get('model')!r})"
        raise ProtocolError(f"the DUT at {where} runs {runs}, not {firmware.compiled.path.name} (sha256 {want}...); "
                            "flash this model's firmware (drop --no-flash) or pass the model that is flashed")


@contextlib.contextmanager
def connect(firmware: Firmware, target: Target | None = None, *, run_dir: Path,
            infer_timeout_s: float = 120.0, url: str | None = None) -> Iterator[Dut]:
    """Flash/start ``firmware`` on ``target`` (default: the one it was built for), open its serial link, wait
    for ``m-ready`` (pinging every BOOT_PING_S s, so a lost boot line costs no more than that) and check that
    the firmware counts in the target's timer unit; yields a :class:`Dut` that can reset the DUT (restart the
    twin, re-flash the board) when it hangs.

    ``run_dir`` receives ``serial.log`` (the transcript, continued across resets) and, on twins, ``qemu.log``.
    ``infer_timeout_s``: the watchdog of the first inference (later ones: from the measured time, see
    :class:`Dut`).  Raises FlashError, TransportError, ProtocolError; the emulator, probe and port are released
    on every exit path.

    ``url``: a DUT that is already running (any pyserial URL: a serial port, ``socket://`` to a twin started by
    hand or behind a proxy, ``rfc2217://``): nothing is flashed, its firmware must report ``firmware``'s model
    hash (else ProtocolError), and a hung DUT cannot be reset (it is quarantined instead)."""
    target = target or firmware.target
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    link = _Link(firmware, target, run_dir, infer_timeout_s, url)
    try:
        started = time.monotonic()
        client, info = link.open()
        yield Dut(client, firmware, run_dir, info, reset=None if url else link.reset,
                  boot_s=time.monotonic() - started)
    finally:
        link.close()
