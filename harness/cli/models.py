"""Commands about one model: ``ops``, ``compile``, ``variants``, ``profile``, ``inspect``.

Every results table fits the terminal (:mod:`harness.report.fit`; ``--wide`` keeps every column and whole tensor
names) and ``--json`` prints one JSON document instead (:mod:`harness.cli.records`).  Registered on the main
typer app by :func:`register` (called from ``harness/cli/__init__.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console

from harness.cli.history import JsonOpt, WideOpt

console = Console()  # replaced by register() with the CLI's console
CatalogOpt = typer.Option(None, "--catalog", help="Board catalog YAML (default: the repository's boards.yaml).")
BackendOpt = typer.Option(None, "--backend", help="Deployment backend: tinyhil (default), tflm (TFLM reference "
                          "kernels) or tflm-cmsis-nn (TFLM with CMSIS-NN); repeat to compare them")
PLAN_DROP = ["in place of", "steps"]


def register(app: typer.Typer, cli_console: Console, guarded: Callable) -> None:
    """Add ops, compile, variants, profile and inspect to ``app``, printing on ``cli_console``."""
    global console
    console = cli_console
    for fn, name in ((ops, None), (compile_cmd, "compile"), (variants, None), (profile, None),
                     (inspect_cmd, "inspect")):
        app.command(name=name)(guarded(fn))


def _plan_table(title: str, buffers, names: dict, aliases: Callable | None, wide: bool):
    """The tensor-arena plan: offset, size (bytes), steps live, tensor name (whole: it wraps, never cut), and the
    tensor a buffer reuses in place (``aliases``: buffer key -> key or None)."""
    from harness.report.fit import fit_table

    cols = ["offset B", "size B", "steps", "tensor"] + (["in place of"] if aliases else [])
    rows = []
    for b in buffers:
        over = aliases(b.key) if aliases else None
        rows.append([f"{b.offset:,}", f"{b.nbytes:,}", f"{b.first}–{b.last}", b.name]
                    + ([names[over] if over is not None else ""] if aliases else []))
    return fit_table(title, cols, rows, console.width, drop_order=PLAN_DROP, wide=wide, right=["offset B", "size B"])


def ops() -> None:
    """List the TFLite operators the model compiler supports (int8 and float32)."""
    from harness.codegen.ops import supported_operators

    for name in supported_operators():
        console.print(name)


def compile_cmd(model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
                out: Path = typer.Option(Path("build/model"), "--out", "-o", help="Directory for model.c/model.h"),
                json_out: bool = JsonOpt, wide: bool = WideOpt) -> None:
    """Compile a .tflite model to C (model.c, model.h) and print its tensor-arena plan."""
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA
    from harness.codegen.compiler import compile_model

    compiled = compile_model(model)
    compiled.write(out)
    plan = compiled.plan
    if json_out:
        print_json({"schema": SCHEMA, "model": model.name, "out": str(out), "arena_bytes": plan.arena_bytes,
                    "live_peak_bytes": plan.live_peak_bytes(), "weight_bytes": compiled.weight_bytes,
                    "macs": compiled.macs,
                    "steps": [{"index": op.index, "operator": op.opcode} for op in compiled.steps.operators],
                    "buffers": [{"tensor": b.name, "offset_bytes": b.offset, "size_bytes": b.nbytes, "first": b.first,
                                 "last": b.last} for b in plan.buffers]})
        return
    names = {b.key: b.name for b in plan.buffers}
    console.print(_plan_table(f"tensor arena plan of {model.name}", plan.buffers, names, plan.aliases, wide))
    console.print("steps: " + ", ".join(f"{op.index} {op.opcode}" for op in compiled.steps.operators))
    console.print(f"arena peak: {plan.arena_bytes:,} B (live-tensor lower bound {plan.live_peak_bytes():,} B); "
                  f"weights {compiled.weight_bytes:,} B; {compiled.macs:,} MACs per inference; C sources in {out}")


def variants(
    recipe: str = typer.Option(..., "--recipe", "-r", help="Recipe YAML, or a name under models/recipes/"),
    data: Path = typer.Option(..., "--data", "-d", help="Dataset folder: ESC-50 or UrbanSound8K layout"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for the variants "
                                       "(default: variants/<recipe name>)"),
    preset: Optional[str] = typer.Option(None, "--preset", help="A named override set of the recipe, e.g. ci"),
    local: Optional[Path] = typer.Option(None, "--local", help="Local copy of models/ (for zoo: base models)"),
    json_out: bool = JsonOpt, wide: bool = WideOpt,
) -> None:
    """Run a compression recipe: train/distill/prune/quantize, export .tflite variants with model cards."""
    from harness.cli.guard import err_console
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA
    from harness.report.fit import fit_table
    from tinyhil_models.recipes import environment_threads, load_recipe, run_recipe

    environment_threads()
    r, _ = load_recipe(recipe, preset)
    target = out or Path("variants") / r.name
    log = err_console.print if json_out else console.print  # --json: stdout holds the document only
    cards = run_recipe(recipe, data, target, preset=preset, local=local, log=log)
    if json_out:
        print_json({"schema": SCHEMA, "recipe": r.name, "out": str(target), "variants": cards})
        return
    cols = ["variant", "params", "nonzero", "MACs", "size B", "arena B", "val top-1 (float)", "val top-1 (.tflite)"]
    rows = []
    for c in cards:
        fa = c.get("val_accuracy_float")
        rows.append([c["name"], f"{c['params']:,}", f"{c['nonzero_params']:,}", f"{c['macs']:,}",
                     f"{c['size_bytes']:,}", f"{c['arena_bytes']:,}", "—" if fa is None else f"{100 * fa:.1f}%",
                     f"{100 * c['val_accuracy_tflite']:.1f}%"])
    console.print(fit_table(f"variants of {r.name} in {target}", cols, rows, console.width, ids=["variant"],
                            drop_order=["nonzero", "params", "val top-1 (float)", "arena B"], wide=wide,
                            right=cols[1:]))


def profile(
    model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
    board: str = typer.Option("stm32f746", "--board", "-b", help="Board name from boards.yaml"),
    emulate: bool = typer.Option(False, "--emulate", help="Run on the board's emulated twin (QEMU)"),
    port: Optional[str] = typer.Option(None, "--port", help="Serial port or URL of a real board"),
    probe: Optional[str] = typer.Option(None, "--probe", help="Debug probe unique ID of a real board"),
    out: Path = typer.Option(Path("results/profiles"), "--out", "-o", help="Directory for profile.csv/.json"),
    catalog: Optional[Path] = CatalogOpt,
    backend: str = typer.Option("tinyhil", "--backend", help="Deployment backend: tinyhil, tflm, tflm-cmsis-nn"),
    json_out: bool = JsonOpt, wide: bool = WideOpt,
) -> None:
    """Per-operator profile: type, shape, MACs, instructions (twin) or cycles (board), share, MACs per count."""
    import json

    from harness.backends import parse_backend
    from harness.boards import get_board
    from harness.cli.output import print_json
    from harness.history import record_profile_file  # the report draws it for the run it belongs to
    from harness.metrics.profile import run_profile
    from harness.report.fit import fit_table

    backend = parse_backend(backend).value
    s = run_profile(model, get_board(board, catalog).target(emulate, probe=probe, port=port),
                    backend=parse_backend(backend))
    p = s.profile
    name = f"{Path(p.model).stem}-{p.board}-{p.target}" + ("" if backend == "tinyhil" else f"-{backend}")
    csv_path, json_path = p.save(out / name, backend=backend)
    _, run_id = record_profile_file(json_path)
    if json_out:
        print_json({**json.loads(json_path.read_text()), "run_id": run_id, "peak_stack_bytes": s.stack.peak,
                    "stack_bytes": s.stack.size, "arena_bytes": s.arena_bytes,
                    "files": {"csv": str(csv_path), "json": str(json_path)}})
        return
    est = " (latency is an ESTIMATE: instructions x CPI / clock)" if p.estimate else ""
    cols = [c.replace("latency_us_est", "latency µs (ESTIMATE)") for c in p.columns()]
    rows = [[f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in p.table()]
    console.print(fit_table(f"per-operator profile of {p.model} on {p.board} {p.target} ({backend}){est}", cols,
                            rows, console.width, ids=["operator"], wide=wide,
                            drop_order=["shape", cols[6], "macs", cols[7]],
                            right=[c for c in cols if c not in ("operator", "shape")]))
    console.print(f"operators sum to {p.total:,} {p.unit}; whole inference {p.whole:,} ({100 * p.deviation:+.4f}%); "
                  f"peak stack {s.stack.peak:,} B of {s.stack.size:,} B; arena {s.arena_bytes:,} B; saved {csv_path} "
                  f"and profile.json; recorded in the history database (run {run_id or 'none yet'})",
                  highlight=False, soft_wrap=True)


def inspect_cmd(model: Path = typer.Option(..., "--model", "-m", help=".tflite file"),
                catalog: Optional[Path] = CatalogOpt, backend: Optional[list[str]] = BackendOpt,
                json_out: bool = JsonOpt, wide: bool = WideOpt) -> None:
    """Model card: parameters, MACs, operator counts, weight bytes, tensor-arena plan and peak, board fit."""
    from harness.backends import parse_backend
    from harness.boards import load_catalog
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA
    from harness.metrics.model_card import model_card
    from harness.report.fit import fit_table

    backends = tuple(dict.fromkeys(parse_backend(b).value for b in backend or ["tinyhil"]))
    card = model_card(model, load_catalog(catalog), backends)
    if json_out:
        print_json({"schema": SCHEMA, **card.as_dict(),
                    "buffers": [{"tensor": b.name, "offset_bytes": b.offset, "size_bytes": b.nbytes, "first": b.first,
                                 "last": b.last} for b in card.buffers],
                    "board_fit": [{"board": f.board, "backend": f.backend, "ram_needed_bytes": f.ram_needed,
                                   "ram_bytes": f.ram_bytes, "flash_needed_bytes": f.flash_needed,
                                   "flash_bytes": f.flash_bytes, "fits": f.fits} for f in card.fits]})
        return
    console.print(f"[bold]{card.name}[/]  sha256 {card.sha256[:16]}…  input {card.input} -> output {card.output}")
    console.print(f"parameters {card.parameters:,}   MACs {card.macs:,} ({card.macs / 1e6:.2f} M)   "
                  f"weights {card.weight_bytes:,} B   arena peak {card.arena_bytes:,} B "
                  f"(live-tensor lower bound {card.live_peak_bytes:,} B)")
    console.print("operators: " + ", ".join(f"{k} x{v}" for k, v in card.operators.items()))
    console.print(_plan_table("tensor arena plan", card.buffers, {}, None, wide))
    cols = ["board", "backend", "RAM needed B", "RAM B", "flash needed B", "flash B", "fits"]
    rows = [[f.board, f.backend, f"{f.ram_needed:,}", f"{f.ram_bytes:,}", f"{f.flash_needed:,}", f"{f.flash_bytes:,}",
             "yes" if f.fits else "no"] for f in card.fits]
    console.print(fit_table("board fit (arena + stack + heap + runtime vs RAM; weights + code vs flash; the linker "
                            "decides)", cols, rows, console.width, ids=["board"], wide=wide, right=cols[2:6],
                            drop_order=["backend", "flash B", "RAM B"]))
