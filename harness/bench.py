"""The benchmark pipeline, stage by stage: model -> C -> firmware -> DUT -> clips -> metrics -> run directory."""

from __future__ import annotations

import contextlib
import functools
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from harness.data.layouts import data_kind, iter_samples
from harness.data.validate import check_run_inputs
from harness.flash.probes import check_link
from harness.metrics.energy.source import meter_for
from harness.errors import ResultsError, RunInterruptedError, TinyhilError
from harness.data.fetch import SOUNDATA_DATASETS, data_folder, fetch_model
from harness.data.frontends import bench_front_end
from harness.metrics.device import add_measurements, device_measurements
from harness.metrics.accuracy import count_stats, top1_accuracy
from harness.metrics.memory import memory_use
from harness.backends import Backend
from harness.orchestrate import BUILD_ROOT, BuildOptions, connect, prepare
from harness.crops import CropDelivery
from harness.reference.segmented import reference_for
from harness.rundir import Summary, base_manifest, new_run_id, read_run, write_run
from harness.rundir.journal import Journal
from harness.rundir.progress import BOOKKEEPING, mark_failed, read_resume_state, work_folder, write_resume_state
from harness.runner import run_samples
from harness.history import record_run
from harness.progress import RunProgress
from harness.target import Target, TargetKind

if TYPE_CHECKING:
    from harness.audio.playrec import OverTheAir



@dataclass(frozen=True)
class BenchConfig:
    """Options of one ``tinyhil bench`` run on ``target`` (paths may be None: the zoo's demo model and clips;
    the target carries the probe, port and power monitor)."""

    model: Path | None
    data: Path | None
    target: Target
    out: Path = Path("results")
    quantization: str = "model"
    limit: int | None = None
    local: Path | None = None
    build_root: Path = BUILD_ROOT
    tags: tuple[str, ...] = ()
    backend: Backend = Backend.TINYHIL
    over_the_air: OverTheAir | None = None  # play and record the clips first (harness.audio, issue 17)
    connector: object = None  # how the DUT is reached (harness.orchestrate.connect's signature); None: connect
                              # (a labgrid place: harness.farm.PlaceSession.connector())
    url: str | None = None  #: a DUT already running this model's firmware (``--port URL --no-flash``)
    crops: str = "auto"  #: raw-waveform crops cut on the DUT where possible ("auto") or on the host ("host")
    folds: tuple[int, ...] = ()  #: official folds of an ESC-50/UrbanSound8K folder (``--fold``; (): every clip)
    layout: str | None = None  #: ``--data-layout`` esc50|urbansound8k|npy (None: detected)
    front_end: str | None = None  #: ``--front-end`` spec (None: the model card's, else raw crops)


@dataclass(frozen=True)
class RunResult:
    """A finished run: its directory and its summary (as read back from summary.json)."""

    path: Path
    summary: Summary


def qemu_version() -> str:
    try:
        out = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "unknown"
    except OSError:
        return "not installed"


def run_bench(cfg: BenchConfig, console: Console | None = None, *, resume: Path | None = None) -> RunResult:
    """Run one benchmark; returns its run directory and summary.

    Every finished inference is journaled (fsync'd) in the work folder ``<out>/.<run id>.work`` as it
    completes.  On an error or a signal (SIGINT, SIGTERM, SIGHUP) that folder is kept with the transcripts and
    a manifest marked failed, the error names it, and nothing is recorded in the history database;
    ``resume`` (that folder) continues the run after its last journaled inference (use
    :func:`config_from_resume` for its configuration), giving the same records as an uninterrupted run.

    Raises TinyhilError subclasses (ModelError, UnsupportedOperatorError, MemoryOverflowError, BuildError,
    FlashError, TransportError, DutQuarantinedError, DataError, CatalogError, EnergyError,
    RunInterruptedError); nothing is recorded unless the run completes.
    """
    console, target, board = console or Console(), cfg.target, cfg.target.board
    model_path = cfg.model or fetch_model("acdnet20-int8", cfg.local)
    data_dir = data_folder(cfg.data, cfg.local)  # a folder, the demo clips, or esc50/urbansound8k (soundata)
    folds = sorted(set(cfg.folds)) or None
    preprocessing, front_source = bench_front_end(model_path, cfg.front_end, cfg.quantization)
    data_check = check_run_inputs(model_path, data_dir, cfg.limit, console, layout=cfg.layout, folds=folds,
                                  front=preprocessing)  # before any build or boot
    kind = data_kind(data_dir, cfg.layout, folds)  # (as checked; also for a model the checks leave to the compiler)
    check_link(target)
    ota = cfg.over_the_air.record(data_dir, cfg.limit, console) if cfg.over_the_air else None  # issue 17
    data_dir = ota.data_dir if ota else data_dir  # the recordings, run exactly like files
    started = time.monotonic()

    firmware = prepare(model_path, target, BuildOptions(backend=cfg.backend), build_root=cfg.build_root)
    compiled = firmware.compiled
    console.print(f"compiled {model_path.name}: {len(compiled.graph.operators)} operators, "
                  f"{compiled.macs:,} MACs, weights {compiled.weight_bytes:,} B; {cfg.backend.value} arena "
                  f"{firmware.arena_bytes:,} B")
    memory = memory_use(firmware.elf)
    console.print(f"firmware for {target.name}: flash {memory.flash_bytes:,} B of "
                  f"{board.flash_bytes:,}, RAM {memory.ram_bytes:,} B of {board.ram_bytes:,}")

    samples = list(iter_samples(data_dir, compiled.input_tensor, preprocessing, cfg.limit, layout=kind,
                                folds=folds))
    n_inferences = sum(len(s.inputs) for s in samples)
    delivery = CropDelivery.for_run(cfg.crops, preprocessing, data_dir, kind, samples, compiled.input_tensor)
    reference = reference_for(model_path, compiled)  # None: outputs not checked, bit_exact reported null
    if reference is None:
        console.print("[yellow]note:[/] no host reference for this model's binary operators (needs tensorflow); "
                      "bit_exact will be null (not checked)", highlight=False)
    if resume is not None:
        run_id, _ = read_resume_state(resume)
        work = Path(resume)
    else:
        run_id = new_run_id(model_path.name, target.name)
        work = work_folder(cfg.out, run_id)
        write_resume_state(work, run_id, config_to_json(cfg))
    journal = Journal(work)
    done = journal.load()
    if done:
        console.print(f"resuming {run_id}: {len(done)} of {n_inferences} inferences already recorded", highlight=False)
    try:
        with contextlib.ExitStack() as stack, signals_interrupt():
            energy = meter_for(target)
            if energy is not None:
                stack.callback(energy.close)
            connector = cfg.connector or functools.partial(connect, url=cfg.url)
            dut = stack.enter_context(connector(firmware, run_dir=work))
            progress = stack.enter_context(RunProgress(f"{board.name} inferences", n_inferences, start=len(done)))

            def journal_crop(sample_id, crop, out, count, match) -> None:
                journal.append(sample_id, crop, out, count.value, count.unit, match)
                progress.advance()

            records = run_samples(dut, samples, compiled.output_tensor, reference, done=done, on_crop=journal_crop,
                                  infer=delivery.bind(dut))
            unit = dut.timer_unit if dut.timer_unit != "unknown" else _journal_unit(done)
            measured = device_measurements(dut.client, target, samples[-1].inputs[0], compiled.input_tensor.dtype,
                                           energy, reload=delivery.reloader(dut.client, samples[-1]))
            link = {**dut.client.stats.as_dict(), "resets": dut.resets, "retries": dut.retries}
    except BaseException as exc:
        _keep_evidence(work, run_id, exc, journal)
        raise
    wall = time.monotonic() - started
    summary = add_measurements(_summary(cfg, firmware, records, unit, memory, samples, wall), measured,
                               firmware.elf)
    described = {**preprocessing.describe(), "front_end_source": front_source, **data_check.record(),
                 **(ota.describe() if ota else {}), "crop_delivery": delivery.describe()}
    manifest = _manifest(firmware, model_path, unit, ota.played_dir if ota else data_dir, kind, len(samples),
                         described if kind != "npy" else {"kind": "npy tensors"}, folds)
    if any(link.values()):
        console.print(f"link recovered: {link}", highlight=False)
    extra = sorted(f for f in work.iterdir() if f.name not in BOOKKEEPING) + (ota.files if ota else [])
    path = write_run(cfg.out, run_id, manifest, summary, records, extra_files=extra)
    shutil.rmtree(work, ignore_errors=True)
    try:
        record_run(path)
    except ResultsError as exc:
        console.print(f"[yellow]warning:[/] run not recorded in the history database: {exc}; "
                      f"import it later with `tinyhil import {path}`", highlight=False, soft_wrap=True)
    return RunResult(path, read_run(path).summary)  # exactly what was recorded


def _journal_unit(done: dict) -> str:
    units = {entry.unit for entry in done.values()}
    return units.pop() if len(units) == 1 else "unknown"


def _keep_evidence(work: Path, run_id: str, exc: BaseException, journal: Journal) -> None:
    """Mark the work folder failed and name it in the error (TinyhilError messages are one line)."""
    journaled = len(journal.load()) if journal.path.exists() else 0
    mark_failed(work, run_id, str(exc) or type(exc).__name__, journaled)
    if isinstance(exc, TinyhilError) and exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{exc.args[0]}; {journaled} inference(s) kept in {work} (serial.log there): resume with "
                    f"`tinyhil bench --resume {work}`", *exc.args[1:])


@contextlib.contextmanager
def signals_interrupt():
    """SIGTERM and SIGHUP raise RunInterruptedError in the main thread, like Ctrl-C raises KeyboardInterrupt,
    so emulators are stopped and evidence kept on every exit path; the old handlers come back afterwards.
    Outside the main thread (signal handlers cannot be set there) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise RunInterruptedError(f"interrupted by {signal.Signals(signum).name}", signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def config_to_json(cfg: BenchConfig) -> dict:
    """The configuration of a run as JSON (resume.json); :func:`config_from_resume` reads it back."""
    data = str(cfg.data) if str(cfg.data) in SOUNDATA_DATASETS else _path(cfg.data)  # a dataset name stays one
    return {"model": _path(cfg.model), "data": data, "target": cfg.target.model_dump(mode="json"),
            "out": str(cfg.out), "quantization": cfg.quantization, "limit": cfg.limit, "local": _path(cfg.local),
            "build_root": str(cfg.build_root), "tags": list(cfg.tags), "backend": cfg.backend.value, "url": cfg.url,
            "crops": cfg.crops, "folds": list(cfg.folds), "layout": cfg.layout, "front_end": cfg.front_end}


def config_from_resume(folder: str | Path) -> BenchConfig:
    """The BenchConfig of the interrupted run whose work folder is ``folder``.  Raises ResultsError."""
    _, c = read_resume_state(folder)
    opt = lambda v: None if v is None else Path(v)  # noqa: E731
    try:
        return BenchConfig(model=opt(c["model"]), data=opt(c["data"]), target=Target.model_validate(c["target"]),
                           out=Path(c["out"]), quantization=c["quantization"], limit=c["limit"], local=opt(c["local"]),
                           build_root=Path(c["build_root"]), tags=tuple(c["tags"]), backend=Backend(c["backend"]),
                           url=c.get("url"), crops=c.get("crops", "auto"), folds=tuple(c.get("folds") or ()),
                           layout=c.get("layout"), front_end=c.get("front_end"))
    except (KeyError, ValueError) as exc:
        raise ResultsError(f"{folder}/resume.json does not describe a run ({str(exc).splitlines()[0]}); start the "
                           "run again without --resume") from None


def _path(p: Path | None) -> str | None:
    return None if p is None else str(Path(p).resolve())


def _manifest(firmware, model_path: Path, unit: str, data_dir: Path, kind: str, n_samples: int,
              preprocessing: dict, folds: list[int] | None = None) -> dict:
    """The manifest fields of a run (harness.rundir.Manifest): what ran where, built how, on which data."""
    target, board = firmware.target, firmware.target.board
    twin = target.kind is TargetKind.TWIN
    return {
        **base_manifest(),
        "model": {"file": model_path.name, "path": str(model_path), "sha256": firmware.compiled.sha256},
        "board": board.name, "board_title": board.title, "core": board.core, "clock_hz": board.clock_hz,
        "target": target.kind.value,
        "twin": board.twin.model_dump() if twin else None,
        "qemu": qemu_version() if twin else None,
        "firmware": firmware.image.describe(),
        "timer_source": unit,
        "energy_meter": None if target.meter is None else str(target.meter),
        "backend": firmware.backend.value,
        "data": {"path": str(data_dir), "kind": kind, "samples": n_samples, "folds": folds},
        "preprocessing": preprocessing,
    }


def _summary(cfg, firmware, records, unit, memory, samples, wall_s: float) -> dict:
    clip_preds = {r.sample_id: r.clip_prediction for r in records}
    labels = [s.label for s in samples]
    preds = [clip_preds[s.id] for s in samples]
    matches = [r.matches_reference for r in records]
    mismatches = sum(1 for m in matches if m is False)
    compiled = firmware.compiled
    return {
        "model": compiled.path.name,
        "board": cfg.target.board.name,
        "target": cfg.target.kind.value,
        "samples": len(samples),
        "inferences": len(records),
        "accuracy": top1_accuracy(labels, preds),
        "correct": int(sum(1 for l, p in zip(labels, preds) if l is not None and l == p)),
        "counts": count_stats([r.count for r in records], unit).as_dict(),
        "memory": memory.as_dict(),
        "arena_bytes": firmware.arena_bytes,
        "backend": firmware.backend.value,
        "weight_bytes": compiled.weight_bytes,
        "macs": compiled.macs,
        "bit_exact": None if any(m is None for m in matches) else mismatches == 0,
        "mismatches": mismatches,
        "wall_time_s": round(wall_s, 2),
        "predictions": {s.id: int(p) for s, p in zip(samples, preds)},
        "labels": {s.id: (None if s.label is None else int(s.label)) for s in samples},
        **model_card_fields(compiled.path),
        **({"tags": sorted(set(cfg.tags))} if cfg.tags else {}),
    }


def model_card_fields(model_path: Path) -> dict:
    """Summary fields from the model card beside a variant (``<stem>.card.json``, written by
    ``tinyhil variants``): ``variant`` {name, method, base, recipe_hash} and ``params``; {} without a card."""
    import json

    card_path = model_path.with_name(model_path.stem + ".card.json")
    if not card_path.exists():
        return {}
    try:
        card = json.loads(card_path.read_text())
    except (OSError, ValueError):
        return {}
    variant = {k: card.get(k) for k in ("name", "method", "base", "recipe_hash")}
    return {"variant": variant, "params": card.get("params")}
