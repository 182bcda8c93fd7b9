"""A 400-clip ESC-50 fold on one twin (issue 12, item 8; target <= 25 min): ACDNet-20 on the stm32f746 twin with
the demo's settings (10 raw-waveform crops per clip, ``crops="auto"``: each clip uploaded once, compressed, and
cut on the DUT), printing the clips, wall seconds (and the firmware build, timed apart), seconds per clip, where
the serial time went (uploads, inferences, the rest: from the run's serial.log, as ``benchmarks/crops.py``), the
bytes moved to the DUT per clip, the load average at the start and the end, and the verdict against 25 min.

    python benchmarks/fold.py --data /path/to/ESC-50-master --fold 1    # a real ESC-50 fold (400 clips)
    python benchmarks/fold.py                                           # the derived fold below (400 clips)
    python benchmarks/fold.py --limit 10                                # 10 clips + extrapolation to 400

Without ``--data`` the fold is **derived** from the seven CC0 ESC-50 clips of the demo (``esc50-cc0``, the only
ESC-50-style clips on an offline machine) into a temporary folder in ESC-50 layout (``audio/*.wav`` +
``meta/esc50.csv``, fold 1, 400 clips: 50 classes x 8 clips, as each official ESC-50 fold): clip ``i`` is CC0
clip ``i % 7`` circularly shifted by a seeded offset, and every odd ``i`` is mixed with another shifted CC0 clip,
both at 0.7 gain, clipped to [-1, 1]; 5 s mono 16-bit PCM at 44.1 kHz like ESC-50.  Mixing fills the clips'
silence, so for the upload (clips travel compressed: a quiet stretch is mostly the zero point) the derived fold
is harder than the seven demo clips; real ESC-50 clips are zero-padded to 5 s often.  The labels are arbitrary
(the timing does not depend on them; the accuracy of such a run means nothing).  The derived clips live only in
the temporary folder.

Twin wall times depend on the host's load (QEMU's UART hands over one byte per main-loop turn), hence the load
averages.  With ``--limit L`` the 400-clip time is extrapolated, and labelled so: the fixed part (build, boot,
the final measurement windows) plus 400 x the seconds per clip, which are the serial time from the first clip's
upload to the last clip's last result (:func:`clip_span`) plus the host's time outside the serial transcript
(data checks, preprocessing, QEMU start, writing the run), all of it counted per clip (so the estimate errs high).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console

from benchmarks.crops import LOADS, serial_phases
from harness.bench import BenchConfig, run_bench
from harness.boards import get_board
from harness.data.fetch import CLIP_RATE, CLIP_SECONDS, fetch_dataset, fetch_model
from harness.errors import TinyhilError

TARGET_S = 25 * 60  #: issue 12: a 400-clip ESC-50 fold on one twin <= 25 min
FOLD_CLIPS = 400  #: clips in one official ESC-50 fold (2,000 clips in 5 folds)
ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
GAIN = 0.7  #: gain of each of the two shifted clips in a mixed derived clip


def derive_fold(out: Path, source: Path, clips: int = FOLD_CLIPS, classes: int = 50, *, fold: int = 1,
                seconds: float = CLIP_SECONDS, seed: int = 12) -> Path:
    """Write a derived ESC-50 fold into ``out`` (created): ``clips`` WAV files (mono 16-bit PCM, ``CLIP_RATE``
    = 44,100 Hz, ``seconds`` long) in ``out/audio`` and ``out/meta/esc50.csv`` (the ESC-50 columns, fold
    ``fold``, targets ``i % classes``, file names ``<fold>-derived<i>-A-<target>.wav`` as ESC-50's
    ``<fold>-<source>-<take>-<target>.wav``).  Clip ``i`` is the ``i % n``-th clip of the ESC-50-layout folder
    ``source`` (n clips, mono-mixed, cut or tiled to length) circularly shifted by a seeded offset; odd ``i`` add
    another shifted source clip, both at ``GAIN``, clipped to [-1, 1].  Same ``seed``, same files.  Returns ``out``.
    Raises DatasetError (a DataError) when ``source`` is not an ESC-50-layout folder with clips, DataError for a
    clip at another rate than 44,100 Hz or an unreadable one."""
    import soundfile as sf

    from harness.data.datasets import esc50
    from harness.errors import DataError

    length = round(seconds * CLIP_RATE)
    waves = []
    for clip in esc50(source):
        try:
            data, rate = sf.read(str(clip.path), dtype="float32", always_2d=True)
        except Exception as exc:  # noqa: BLE001 - soundfile raises LibsndfileError/RuntimeError
            why = " ".join(str(exc).split())[:100]
            raise DataError(f"cannot decode {clip.path} ({why}); restore the clip") from None
        if rate != CLIP_RATE:
            raise DataError(f"{clip.path} is sampled at {rate} Hz, not {CLIP_RATE}; use ESC-50 clips (44.1 kHz)")
        mono = data.mean(axis=1)
        waves.append(np.resize(mono, length) if len(mono) else np.zeros(length, np.float32))
    rng = np.random.default_rng(seed)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "meta").mkdir(exist_ok=True)
    rows = []
    n = len(waves)
    for i in range(clips):
        x = np.roll(waves[i % n], int(rng.integers(length)))
        mixed = i % 2 == 1 and n > 1
        if mixed:
            other = (i % n + 1 + int(rng.integers(n - 1))) % n  # any source clip but the first
            x = np.clip(GAIN * x + GAIN * np.roll(waves[other], int(rng.integers(length))), -1.0, 1.0)
        target = i % classes
        name = f"{fold}-derived{i:03d}-A-{target}.wav"
        sf.write(str(out / "audio" / name), x, CLIP_RATE, subtype="PCM_16")
        rows.append((name, fold, target, f"derived-{target:02d}", "False", f"derived{i:03d}", "A"))
    with open(out / "meta" / "esc50.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ESC50_COLUMNS)
        writer.writerows(rows)
    return out


def clip_span(log: Path) -> tuple[float, float]:
    """(first, last) serial.log times (s) of the clips' traffic: from the first input upload (a ``LOADS`` command)
    to the first command after the last ``results`` (its reply read: the last clip's last inference done); the
    final measurement windows that follow send no ``results``.  (0, 0) when the log has neither."""
    commands = []
    for line in log.read_text().splitlines():
        if line.startswith("#"):
            continue
        t, direction, data = line.split(" ", 2)
        text = bytes.fromhex(data).split(b"*")[0]
        if direction == ">" and text[:1].isalpha():
            words = text.decode(errors="replace").split(" ")
            commands.append((float(t), " ".join(words[: 2 if words[0] == "clip" else 1])))
    loads = [t for t, c in commands if c in LOADS]
    last = max((i for i, (_, c) in enumerate(commands) if c == "results"), default=None)
    if not loads or last is None or last + 1 >= len(commands):
        return 0.0, 0.0
    return loads[0], commands[last + 1][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="an ESC-50 root (audio/ + meta/esc50.csv); "
                        "default: a fold derived from the seven CC0 clips")
    parser.add_argument("--fold", type=int, default=1, help="the official fold to run (default 1)")
    parser.add_argument("--limit", type=int, default=None, help="clips (default: the whole fold)")
    parser.add_argument("--board", default="stm32f746", help="the twin (default stm32f746)")
    parser.add_argument("--out", type=Path, default=None, help="keep the run directory here (default: a temp dir)")
    parser.add_argument("--progress", action="store_true", help="show tinyhil's progress on stderr")
    parser.add_argument("--fresh-build", action="store_true", help="build the firmware anew (default: reuse "
                        "tinyhil's build cache; the build column then shows the cache lookup)")
    args = parser.parse_args()
    local = Path(os.environ.get("TINYHIL_LOCAL_DIR", REPO.parent / "shared"))
    local = local if local.is_dir() else None
    console = Console(stderr=True, quiet=not args.progress)
    try:
        with tempfile.TemporaryDirectory(prefix="tinyhil-fold-") as tmp:
            run(args, local, console, Path(tmp))
    except TinyhilError as exc:
        sys.exit(f"error: {exc}")


def run(args, local: Path | None, console: Console, tmp: Path) -> None:
    from harness.data.fetch import data_folder
    from harness.data.layouts import data_kind
    from harness.data.metadata import dataset_rows
    from harness.orchestrate import BuildOptions, prepare

    if args.data is None:
        cc0 = fetch_dataset("esc50-cc0", local)
        data = derive_fold(tmp / "esc50-derived", cc0, fold=args.fold)
        print(f"data: derived fold {args.fold} ({FOLD_CLIPS} clips from the 7 CC0 clips of {cc0}, odd clips "
              f"mixed) in {data}")
    else:
        data = data_folder(args.data, local)  # a folder, or esc50: the local copy or soundata's
        print(f"data: ESC-50 fold {args.fold} of {data}")
    dataset_rows(data, data_kind(data, "esc50", [args.fold]), [args.fold])  # a wrong folder or fold: before a build
    target = get_board(args.board).target(True)
    model = fetch_model("acdnet20-int8", local)
    build_root = tmp / "build" if args.fresh_build else REPO / ".tinyhil" / "build"
    started = time.monotonic()
    prepare(model, target, BuildOptions(), build_root=build_root)  # timed apart; the run finds it cached
    build = time.monotonic() - started
    load_start = os.getloadavg()[0]
    started = time.monotonic()
    cfg = BenchConfig(model=model, data=data, target=target, limit=args.limit, out=args.out or tmp / "runs",
                      local=local, crops="auto", build_root=build_root, folds=(args.fold,), layout="esc50")
    result = run_bench(cfg, console)
    wall = time.monotonic() - started
    load_end = os.getloadavg()[0]
    log = result.path / "serial.log"
    phases = serial_phases(log)
    clips = result.summary.samples
    uploads = sum(phases.get(name, 0.0) for name in LOADS)
    infer = phases.get("infer", 0.0)
    first, last = clip_span(log)
    serial_end = max(float(line.split(" ", 1)[0]) for line in log.read_text().splitlines() if line[:1] != "#")
    print(f"model ACDNet-20 on the {args.board} twin, crops auto, {result.summary.inferences} inferences, "
          f"bit-exact {result.summary.bit_exact}")
    print(f"{'clips':>5} {'build s':>7} {'wall s':>7} {'s/clip':>6} {'upload s':>8} {'infer s':>7} {'other s':>7} "
          f"{'to DUT B/clip':>13} {'load start':>10} {'load end':>8}")
    print(f"{clips:5} {build:7.1f} {wall:7.1f} {wall / clips:6.2f} {uploads:8.1f} {infer:7.1f} "
          f"{wall - uploads - infer:7.1f} {phases['to_dut_bytes'] / clips:13,.0f} {load_start:10.2f} {load_end:8.2f}")
    print("      serial s by command: " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()
                                                       if not k.endswith("_bytes")))
    total = build + wall
    if clips >= FOLD_CLIPS:
        built = "fresh" if args.fresh_build else "cached"
        print(f"{clips} clips: {total / 60:.1f} min with the build ({built}; target <= {TARGET_S // 60} min): "
              f"{'PASS' if total <= TARGET_S else 'FAIL'}")
    elif last > first:
        host = max(wall - serial_end, 0.0)  # checks, preprocessing, QEMU start, run directory: taken as per clip
        fixed = build + serial_end - (last - first)  # build, boot, final measurement windows
        per_clip = (last - first + host) / clips
        estimate = fixed + per_clip * FOLD_CLIPS
        print(f"EXTRAPOLATION to {FOLD_CLIPS} clips (from {clips}; not measured): {fixed:.1f} s fixed (build, boot, "
              f"final measurement) + {FOLD_CLIPS} x {per_clip:.2f} s per clip ({(last - first) / clips:.2f} serial, "
              f"{host / clips:.2f} host) = {estimate / 60:.1f} min (target <= {TARGET_S // 60} min): "
              f"{'PASS' if estimate <= TARGET_S else 'FAIL'}")
    else:
        print(f"no extrapolation: {log} has no clip upload or no results")


if __name__ == "__main__":
    main()
