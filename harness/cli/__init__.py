"""The ``tinyhil`` command line: thin wrappers that parse options and call the pipeline stages."""

from __future__ import annotations

from itertools import product
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.guard import guarded
from harness.cli.output import make_console

app = typer.Typer(help="tinyhil: benchmark TinyML audio classifiers on microcontrollers and their emulated twins.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  rich_markup_mode=None,  # help text is plain: `[tool.tinyhil.compare]` is not markup
                  context_settings={"help_option_names": ["-h", "--help"]})
console = make_console()
err_console = make_console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            print(f"tinyhil {version('tinyhil')}")
        except PackageNotFoundError:
            print("tinyhil (not installed: run from a source tree)")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print tinyhil's version and exit."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or progress lines; results and errors only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also log each step (builds, flashing, DUT)."),
) -> None:
    """tinyhil: benchmark TinyML audio classifiers on microcontrollers and their emulated twins."""
    import logging  # noqa: PLC0415

    import harness.progress  # noqa: PLC0415

    harness.progress.QUIET = quiet
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")




BackendOpt = typer.Option(None, "--backend", help="Deployment backend: tinyhil (default), tflm (TFLM reference "
                          "kernels) or tflm-cmsis-nn (TFLM with CMSIS-NN); repeat to compare them")
CatalogOpt = typer.Option(None, "--catalog", help="Board catalog YAML (default: the repository's boards.yaml).")


@app.command()
@guarded
def boards(catalog: Optional[Path] = CatalogOpt) -> None:
    """Print the board catalog (sizes in bytes, clock in MHz, twin machine)."""
    from harness.boards import load_catalog

    table = Table(title="tinyhil board catalog")
    for col in ("board", "title", "core", "clock MHz", "flash B", "RAM B", "flasher", "twin"):
        table.add_column(col)
    for b in load_catalog(catalog).values():
        twin = f"{b.twin.machine} ({b.twin.cpu})" if b.twin else "none (no QEMU machine)"
        table.add_row(b.name, b.title, b.core, f"{b.clock_hz / 1e6:g}", f"{b.flash_bytes:,}", f"{b.ram_bytes:,}",
                      f"{b.flasher.kind}:{b.flasher.target}", twin)
    console.print(table)


@app.command()
@guarded
def ops() -> None:
    """List the TFLite operators the model compiler supports (int8 and float32)."""
    from harness.codegen.ops import supported_operators

    for name in supported_operators():
        console.print(name)


@app.command(name="compile")
@guarded
def compile_cmd(model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
                out: Path = typer.Option(Path("build/model"), "--out", "-o", help="Directory for model.c/model.h")) -> None:
    """Compile a .tflite model to C (model.c, model.h) and print its tensor-arena plan."""
    from harness.codegen.compiler import compile_model

    compiled = compile_model(model)
    compiled.write(out)
    table = Table(title=f"tensor arena plan of {model.name}")
    for col in ("offset B", "size B", "steps", "tensor", "in place of"):
        table.add_column(col)
    names = {b.key: b.name for b in compiled.plan.buffers}
    for b in compiled.plan.buffers:
        over = compiled.plan.aliases(b.key)
        table.add_row(f"{b.offset:,}", f"{b.nbytes:,}", f"{b.first}–{b.last}", b.name[:60],
                      names[over][:30] if over is not None else "")
    console.print(table)
    console.print("steps: " + ", ".join(f"{op.index} {op.opcode}" for op in compiled.steps.operators))
    console.print(f"arena peak: {compiled.plan.arena_bytes:,} B (live-tensor lower bound "
                  f"{compiled.plan.live_peak_bytes():,} B); weights {compiled.weight_bytes:,} B; "
                  f"{compiled.macs:,} MACs per inference; C sources in {out}")


@app.command()
@guarded
def bench(
    model: Optional[list[Path]] = typer.Option(None, "--model", "-m", help=".tflite file (default: the zoo's "
                                               "ACDNet-20 int8); repeat to benchmark several variants in one call"),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="ESC-50 or UrbanSound8K folder, folder of "
                                        ".npy tensors, or esc50 / urbansound8k to download the dataset with "
                                        "soundata (a copy in --local/audio/NAME wins) (default: the demo clips)"),
    fold: Optional[list[int]] = typer.Option(None, "--fold", min=1, metavar="K", help="Use only this official fold of an "
                                             "ESC-50 (fold column) or UrbanSound8K (fold1..10) folder; repeatable "
                                             "(default: every clip listed)"),
    data_layout: Optional[str] = typer.Option(None, "--data-layout", metavar="LAYOUT", help="Layout of --data: esc50, "
                                              "urbansound8k or npy (default: detected from the folder)"),
    front_end: Optional[str] = typer.Option(None, "--front-end", metavar="SPEC", help="Clip -> input tensor: raw (ACDNet crops) "
                                            "or logmel (VGGish-style 96x64), with fields, e.g. logmel:sample_rate="
                                            "8000,frames=32,bands=16,fmax=3800.0 (default: the model's card from "
                                            "`tinyhil variants`, else raw)"),
    board: list[str] = typer.Option(["stm32f746"], "--board", "-b", help="Board name from boards.yaml; repeat "
                                    "to run the same model on several boards and compare them"),
    emulate: bool = typer.Option(False, "--emulate", help="Run on the boards' emulated twins (QEMU)"),
    port: Optional[list[str]] = typer.Option(None, "--port", help="Serial port or URL of a real board "
                                             "(BOARD=PORT with several boards)"),
    probe: Optional[list[str]] = typer.Option(None, "--probe", help="Debug probe unique ID of a real board "
                                              "(BOARD=UID with several boards)"),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Directory for run directories"),
    quantization: str = typer.Option("model", "--input-quantization",
                                     help="Crop quantization: 'model' (input tensor scale/zero point) or 'peak'"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N samples"),
    local: Optional[Path] = typer.Option(None, "--local", help="Local copy of models/ and audio/ "
                                         "(default: $TINYHIL_LOCAL_DIR; else download)"),
    catalog: Optional[Path] = CatalogOpt,
    tag: Optional[list[str]] = typer.Option(None, "--tag", "-t", help="Tag the run (repeatable), e.g. nightly"),
    energy_meter: Optional[str] = typer.Option(None, "--energy-meter", help="Power monitor measuring energy: "
                                               "js220|js110|ppk2|lpm01a[:PORT] (default: the board's datasheet "
                                               "power model, labelled an estimate)"),
    backend: Optional[list[str]] = BackendOpt,
    over_the_air: bool = typer.Option(False, "--over-the-air", help="Play each clip through a speaker and "
                                      "benchmark the microphone's recording (delay found by cross-correlation)"),
    play_device: Optional[str] = typer.Option(None, "--play-device", help="Speaker for --over-the-air: index "
                                              "or name from `tinyhil audio-devices` (default output)"),
    record_device: Optional[str] = typer.Option(None, "--record-device", help="Microphone for --over-the-air "
                                                "(default input)"),
    place: Optional[str] = typer.Option(None, "--place", help="labgrid place (name, or board=NAME for any of "
                                        "that type) to run on; its board tag picks the board (docs/farm.md)"),
    coordinator: Optional[str] = typer.Option(None, "--coordinator", help="labgrid coordinator HOST[:PORT] "
                                              "(default: $LG_COORDINATOR, else localhost)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Cells (model x board x backend) at once on twins, "
                             "each with its own QEMU and build directory"),
    no_flash: bool = typer.Option(False, "--no-flash", help="Benchmark the DUT already running at --port URL "
                                  "(serial port, socket://HOST:PORT, rfc2217://...) without flashing it; its firmware "
                                  "must report this model's hash (profile%), else the run is refused"),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted or failed run from its "
                                          "kept folder (<out>/.<run id>.work, named in its error) after its last "
                                          "recorded inference; the other options are taken from that run"),
) -> None:
    """Benchmark a model on a board or its twin: compile, build, flash, stream clips, record results.

    A failed or interrupted run (error, Ctrl-C, SIGTERM, SIGHUP) keeps its folder with the transcripts and the
    inferences finished so far; --resume finishes it.  Exit status: 2 on an error, 128 + the signal number when
    interrupted (130 SIGINT, 143 SIGTERM, 129 SIGHUP).

    With several --model options each model is one run (one run directory each), then one table; a model
    that does not fit the board is reported as such and the others still run (exit status 3 if any did not fit).
    With several --board options the same models run on each board, then one table compares the boards
    (a board without a twin under --emulate is listed as such).
    """
    from harness.boards import assign_per_board, get_board
    from harness.errors import CatalogError, RunInterruptedError
    from harness.backends import parse_backend
    from harness.bench import BenchConfig, config_from_resume, run_bench
    from harness.cli.data_options import data_option
    from harness.target import MeterSpec

    if resume is not None:
        try:
            result = run_bench(config_from_resume(resume), console, resume=resume)
        except RunInterruptedError as exc:
            err_console.print(f"[bold red]interrupted[/]: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(128 + exc.signum) from None
        _print_bench([result], [], [(result.summary, None, "")], n_boards=1)
        return
    boards = [get_board(b, catalog) for b in dict.fromkeys(board)]
    if no_flash and (len(boards) != 1 or not port or len(port) != 1 or "=" in port[0]):
        raise CatalogError("--no-flash needs one --board and one --port URL of the running DUT, e.g. "
                           "--board stm32f746 --emulate --port socket://127.0.0.1:5555 --no-flash")
    names = [b.name for b in boards]
    ports, probes = assign_per_board(port, names, "--port"), assign_per_board(probe, names, "--probe")
    meter = MeterSpec.parse(energy_meter) if energy_meter else None
    backends = [parse_backend(b) for b in dict.fromkeys(backend or ["tinyhil"])]
    data = data_option(data, fold, data_layout, front_end, local, elsewhere=bool(place or jobs > 1),
                       over_the_air=over_the_air)
    results, refused, compared = [], [], []
    if (place or jobs > 1) and over_the_air:
        raise typer.BadParameter("--over-the-air plays through this host's speaker, one run at a time; "
                                 "drop --place/--jobs")
    if place or jobs > 1:  # a labgrid place, or several twins at once: harness.farm / harness.study
        from harness.farm.bench import bench_elsewhere

        results, refused, compared, boards = bench_elsewhere(
            place, coordinator, jobs, model or [None], boards, backends, emulate=emulate, data=data, out=out,
            limit=limit, quantization=quantization, tags=tuple(tag or ()), local=local, catalog=catalog,
            console=console, bench_one=_bench_one)
    for b in boards if not (place or jobs > 1) else ():
        try:
            target = b.target(emulate, probe=probes.get(b.name), port=ports.get(b.name), meter=meter)
        except CatalogError:
            if len(boards) == 1:
                raise
            compared.append((b, None, "no twin (no QEMU machine for this core)"))
            continue
        for one, kind in product(model or [None], backends):
            cfg = BenchConfig(model=one, data=data, target=target, out=out, quantization=quantization, limit=limit,
                              local=local, tags=tuple(tag or ()), backend=kind, url=port[0] if no_flash else None,
                              over_the_air=_over_the_air(over_the_air, play_device, record_device),
                              folds=tuple(fold or ()), layout=data_layout, front_end=front_end)
            try:
                _bench_one(cfg, single=len(model or [None]) * len(backends) == 1 and len(boards) == 1,
                           results=results, refused=refused, compared=compared)
            except RunInterruptedError as exc:
                err_console.print(f"[bold red]interrupted[/]: {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(128 + exc.signum) from None
    _print_bench(results, refused, compared, n_boards=len(boards))
    if refused:
        raise typer.Exit(3)


def _over_the_air(enabled: bool, play_device: Optional[str], record_device: Optional[str]):
    """The --over-the-air set-up (harness.audio.playrec.OverTheAir), or None for a file run."""
    if not enabled:
        if play_device or record_device:
            raise typer.BadParameter("--play-device/--record-device need --over-the-air")
        return None
    from harness.audio.playrec import OverTheAir

    return OverTheAir(play_device=play_device, record_device=record_device)


def _print_bench(results: list, refused: list, compared: list, n_boards: int) -> None:
    """The tables of a bench call: runs, then boards compared (several boards) or variants (several models)."""
    from harness.report import print_runs

    print_runs([r.summary for r in results], console)
    if n_boards > 1:
        from harness.report.console import board_table

        console.print(board_table(compared))
    if len({r.summary.model for r in results}) > 1 and n_boards == 1:  # several variants (not only backends)
        from harness.report.console import variant_table

        console.print(variant_table([r.summary for r in results]))
    for r in results:
        console.print(f"run directory: {r.path}")
    for line in refused:
        console.print(f"not run (does not fit): {line}", highlight=False, soft_wrap=True)


def _bench_one(cfg, *, single: bool, results: list, refused: list, compared: list) -> None:
    """Run one bench; a model that does not fit is listed (and re-raised when it is the only run)."""
    from harness.bench import run_bench
    from harness.errors import MemoryOverflowError

    board = cfg.target.board
    try:
        results.append(run_bench(cfg, console))
        compared.append((board, results[-1].summary, ""))
    except MemoryOverflowError as exc:
        if single:
            raise
        name = (cfg.model.name if cfg.model else "ACDNet-20") + f" ({cfg.backend.value})"
        refused.append(f"{name} on {board.name}: {exc}")
        compared.append((board, None, f"does not fit: {exc.region} overflowed by {exc.overflow_bytes:,} B"))
        err_console.print(f"[bold red]not run:[/] {name} on {board.name}: {exc}", highlight=False, soft_wrap=True)


@app.command()
@guarded
def probes(catalog: Optional[Path] = CatalogOpt) -> None:
    """List attached debug probes (pyocd) and serial ports (pyserial) and the catalog boards each may be."""
    from harness.boards import load_catalog
    from harness.flash.probes import list_ports, list_probes, match

    found, why = list_probes()
    rows = match(found, list_ports(), load_catalog(catalog))
    table = Table(title="attached probes and serial ports")
    for col in ("probe unique ID", "probe", "serial port", "USB VID:PID", "board", "use"):
        table.add_column(col)
    for r in rows:
        probe = r.probe.unique_id if r.probe else "—"
        what = f"{r.probe.vendor} {r.probe.product}".strip() if r.probe else (r.port.description if r.port else "")
        use = " ".join(x for x in (f"--probe {r.probe.unique_id}" if r.probe else "",
                                    f"--port {r.port.device}" if r.port else "") if x)
        table.add_row(probe, what, r.port.device if r.port else "—", r.port.usb_id if r.port else "—",
                      ", ".join(r.boards) or "?", use)
    console.print(table)
    if why:
        console.print(f"pyocd probes not listed: {why}", highlight=False)
    if not rows:
        console.print("nothing attached; twins need no hardware: tinyhil bench --board NAME --emulate")


@app.command()
@guarded
def variants(
    recipe: str = typer.Option(..., "--recipe", "-r", help="Recipe YAML, or a name under models/recipes/"),
    data: Path = typer.Option(..., "--data", "-d", help="Dataset folder: ESC-50 or UrbanSound8K layout"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for the variants "
                                       "(default: variants/<recipe name>)"),
    preset: Optional[str] = typer.Option(None, "--preset", help="A named override set of the recipe, e.g. ci"),
    local: Optional[Path] = typer.Option(None, "--local", help="Local copy of models/ (for zoo: base models)"),
) -> None:
    """Run a compression recipe: train/distill/prune/quantize, export .tflite variants with model cards."""
    from tinyhil_models.recipes import environment_threads, load_recipe, run_recipe

    environment_threads()
    r, _ = load_recipe(recipe, preset)
    target = out or Path("variants") / r.name
    cards = run_recipe(recipe, data, target, preset=preset, local=local, log=console.print)
    table = Table(title=f"variants of {r.name} in {target}")
    for col in ("variant", "params", "nonzero", "MACs", "size B", "arena B", "val top-1 (float)",
                "val top-1 (.tflite)"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for c in cards:
        fa = c.get("val_accuracy_float")
        table.add_row(c["name"], f"{c['params']:,}", f"{c['nonzero_params']:,}", f"{c['macs']:,}",
                      f"{c['size_bytes']:,}", f"{c['arena_bytes']:,}", "—" if fa is None else f"{100 * fa:.1f}%",
                      f"{100 * c['val_accuracy_tflite']:.1f}%")
    console.print(table)


@app.command()
@guarded
def profile(
    model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
    board: str = typer.Option("stm32f746", "--board", "-b", help="Board name from boards.yaml"),
    emulate: bool = typer.Option(False, "--emulate", help="Run on the board's emulated twin (QEMU)"),
    port: Optional[str] = typer.Option(None, "--port", help="Serial port or URL of a real board"),
    probe: Optional[str] = typer.Option(None, "--probe", help="Debug probe unique ID of a real board"),
    out: Path = typer.Option(Path("results/profiles"), "--out", "-o", help="Directory for profile.csv/.json"),
    catalog: Optional[Path] = CatalogOpt,
    backend: str = typer.Option("tinyhil", "--backend", help="Deployment backend: tinyhil, tflm, tflm-cmsis-nn"),
) -> None:
    """Per-operator profile: type, shape, MACs, instructions (twin) or cycles (board), share, MACs per count."""
    from harness.backends import parse_backend
    from harness.boards import get_board
    from harness.metrics.profile import run_profile

    backend = parse_backend(backend).value
    s = run_profile(model, get_board(board, catalog).target(emulate, probe=probe, port=port),
                    backend=parse_backend(backend))
    p = s.profile
    est = " (latency is an ESTIMATE: instructions x CPI / clock)" if p.estimate else ""
    table = Table(title=f"per-operator profile of {p.model} on {p.board} {p.target} ({backend}){est}")
    for col in p.columns():
        table.add_column(col.replace("latency_us_est", "latency µs (ESTIMATE)"), justify="left" if col in (
            "operator", "shape") else "right")
    for row in p.table():
        table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    console.print(table)
    name = f"{Path(p.model).stem}-{p.board}-{p.target}" + ("" if backend == "tinyhil" else f"-{backend}")
    csv_path, _ = p.save(out / name, backend=backend)  # (was out / str + str: a TypeError on every run)
    from harness.history import record_profile_file  # the report draws it for the run it belongs to
    _, run_id = record_profile_file(csv_path.with_name("profile.json"))
    console.print(f"operators sum to {p.total:,} {p.unit}; whole inference {p.whole:,} ({100 * p.deviation:+.4f}%); "
                  f"peak stack {s.stack.peak:,} B of {s.stack.size:,} B; arena {s.arena_bytes:,} B; saved {csv_path} "
                  f"and profile.json; recorded in the history database (run {run_id or 'none yet'})")


@app.command(name="inspect")
@guarded
def inspect_cmd(model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
                catalog: Optional[Path] = CatalogOpt, backend: Optional[list[str]] = BackendOpt) -> None:
    """Model card: parameters, MACs, operator counts, weight bytes, tensor-arena plan and peak, board fit."""
    from harness.backends import parse_backend
    from harness.boards import load_catalog
    from harness.metrics.model_card import model_card

    backends = tuple(dict.fromkeys(parse_backend(b).value for b in backend or ["tinyhil"]))
    card = model_card(model, load_catalog(catalog), backends)
    console.print(f"[bold]{card.name}[/]  sha256 {card.sha256[:16]}…  input {card.input} -> output {card.output}")
    console.print(f"parameters {card.parameters:,}   MACs {card.macs:,} ({card.macs / 1e6:.2f} M)   "
                  f"weights {card.weight_bytes:,} B   arena peak {card.arena_bytes:,} B "
                  f"(live-tensor lower bound {card.live_peak_bytes:,} B)")
    console.print("operators: " + ", ".join(f"{k} x{v}" for k, v in card.operators.items()))
    plan = Table(title="tensor arena plan")
    for col in ("offset B", "size B", "ops", "tensor"):
        plan.add_column(col)
    for b in card.buffers:
        plan.add_row(f"{b.offset:,}", f"{b.nbytes:,}", f"{b.first}–{b.last}", b.name[:60])
    console.print(plan)
    fits = Table(title="board fit (arena + stack + heap + runtime vs RAM; weights + code vs flash; the linker decides)")
    for col in ("board", "backend", "RAM needed B", "RAM B", "flash needed B", "flash B", "fits"):
        fits.add_column(col)
    for f in card.fits:
        fits.add_row(f.board, f.backend, f"{f.ram_needed:,}", f"{f.ram_bytes:,}", f"{f.flash_needed:,}", f"{f.flash_bytes:,}",
                     "yes" if f.fits else "no")
    console.print(fits)


def main() -> None:
    """Console entry point."""
    app()



def _register_result_commands() -> None:
    from harness.cli.history import register

    register(app, console, guarded)


_register_result_commands()  # runs, show, import, tag, report, compare

from harness.cli.audio import register as _register_audio  # noqa: E402

_register_audio(app, console, guarded)  # listen, audio-devices (harness.audio)


if __name__ == "__main__":
    main()


def _register_study_commands() -> None:
    from harness.cli.study import register

    register(app, console, guarded)


_register_study_commands()  # study run, study status
