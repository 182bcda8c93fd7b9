"""The ``tinyhil`` command line: thin wrappers that parse options and call the pipeline stages."""

from __future__ import annotations

from functools import partial
from itertools import product
from pathlib import Path
from typing import Optional

import typer

from harness.cli.bench_output import print_bench
from harness.cli.guard import guarded
from harness.cli.models import BackendOpt, CatalogOpt  # shared with the model commands
from harness.cli.output import ExitStatus, make_console

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


def _register_model_commands() -> None:
    from harness.cli.catalog import register as register_catalog
    from harness.cli.models import register as register_models

    register_catalog(app, console, guarded)  # boards, probes
    register_models(app, console, guarded)  # ops, compile, variants, profile, inspect


_register_model_commands()


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
    json_out: bool = typer.Option(False, "--json", help="Print the runs as JSON on stdout (build and progress "
                                  "messages go to stderr)"),
    wide: bool = typer.Option(False, "--wide", help="Every column and full run ids, even wider than the terminal"),
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

    log = err_console if json_out else console  # --json: stdout holds the document only
    if resume is not None:
        try:
            result = run_bench(config_from_resume(resume), log, resume=resume)
        except RunInterruptedError as exc:
            err_console.print(f"[bold red]interrupted[/]: {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(128 + exc.signum) from None
        print_bench(console, [result], [], [], n_boards=1, out=Path(result.path).parent, wide=wide, json_out=json_out)
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
            console=log, bench_one=partial(_bench_one, log=log))
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
                           results=results, refused=refused, compared=compared, log=log)
            except RunInterruptedError as exc:
                err_console.print(f"[bold red]interrupted[/]: {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(128 + exc.signum) from None
    print_bench(console, results, refused, compared, n_boards=len(boards), out=out, wide=wide, json_out=json_out)
    if any(row[1] is None and str(row[2]).startswith("failed") for row in compared):
        raise typer.Exit(ExitStatus.DUT)  # a cell of --jobs/--place failed (listed with its reason)
    if refused:
        raise typer.Exit(ExitStatus.DOES_NOT_FIT)


def _over_the_air(enabled: bool, play_device: Optional[str], record_device: Optional[str]):
    """The --over-the-air set-up (harness.audio.playrec.OverTheAir), or None for a file run."""
    if not enabled:
        if play_device or record_device:
            raise typer.BadParameter("--play-device/--record-device need --over-the-air")
        return None
    from harness.audio.playrec import OverTheAir

    return OverTheAir(play_device=play_device, record_device=record_device)


def _bench_one(cfg, *, single: bool, results: list, refused: list, compared: list, log=None) -> None:
    """Run one bench (build and progress messages on ``log``, default the CLI's console); a model that does not
    fit is listed (and re-raised when it is the only run)."""
    from harness.bench import run_bench
    from harness.errors import MemoryOverflowError

    board = cfg.target.board
    try:
        results.append(run_bench(cfg, log or console))
        compared.append((board, results[-1].summary, ""))
    except MemoryOverflowError as exc:
        if single:
            raise
        name = (cfg.model.name if cfg.model else "ACDNet-20") + f" ({cfg.backend.value})"
        refused.append(f"{name} on {board.name}: {exc}")
        compared.append((board, None, f"does not fit: {exc.region} overflowed by {exc.overflow_bytes:,} B",
                         Path(cfg.model.name).stem if cfg.model else "acdnet20-int8", cfg.backend.value))
        err_console.print(f"[bold red]not run:[/] {name} on {board.name}: {exc}", highlight=False, soft_wrap=True)


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
