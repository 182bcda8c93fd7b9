"""Model fuzzing, the long run of issue 13: seeded random mutants of ACDNet-20 and the fixture models are
compiled with tinyhil's compiler (reader + verifier + lowering + planner + emitter); prints the counts.

    python benchmarks/fuzz_models.py [--count 10000] [--seed 13] [--hang-s 20] [--tflm-oracle] [--model M.tflite ...]

Targets (issue 13): 0 tracebacks (an exception that is not a one-line TinyhilError), 0 hangs over 20 s,
0 accepted invalid models (an accepted mutant that the independent oracle in tests/fuzz/mutate.py finds
invalid: tensor index out of range, graph input = output, scalar graph tensor, dimension < 1, scale not finite
and positive, zero point outside the dtype; with --tflm-oracle also: TFLM's host interpreter, run in a
subprocess per accepted mutant, cannot load and invoke it — slow, ~0.5 s per accepted mutant).  Also prints, for each targeted mutant class of the issue (scale
0/inf/NaN/negative, zero point 2^62, index -1, output rewired to the input, corrupt vtable, truncation ...),
whether every model refused it.  Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fuzz"))

from harness.codegen.compiler import compile_model  # noqa: E402
from fuzzrun import compile_outcome, fuzz_models  # noqa: E402
from mutate import targeted_mutants  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "models"
SHARED_MODEL = REPO.parent / "shared" / "models" / "acdnet20_esc50_fold4_int8.tflite"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--hang-s", type=float, default=20.0)
    ap.add_argument("--model", type=Path, action="append")
    ap.add_argument("--tflm-oracle", action="store_true", help="also run every accepted mutant on TFLM (slow)")
    args = ap.parse_args()
    paths = args.model or ([SHARED_MODEL] if SHARED_MODEL.exists() else []) + sorted(FIXTURES.glob("*.tflite"))
    models = {p.stem: p.read_bytes() for p in paths}
    work = Path(tempfile.mkdtemp(prefix="tinyhil-fuzz-"))

    classes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name in ([SHARED_MODEL.stem] if SHARED_MODEL.stem in models else []) + ["kws_dscnn_int8", "conv_f32_fc_relu"]:
        if name not in models:
            continue
        for m in targeted_mutants(models[name]):
            path = work / "targeted.tflite"
            path.write_bytes(m.data)
            outcome, msg = compile_outcome(path, compile_model)
            ok = outcome == "refused" and "\n" not in msg
            classes[m.kind]["refused one line" if ok else outcome] += 1

    started = time.monotonic()
    # half the mutants on the two models (ACDNet-20, the keyword spotter), half over every model
    focus = {n: b for n, b in models.items() if n in ("acdnet20_esc50_fold4_int8", "kws_dscnn_int8")} or models
    tally = fuzz_models(focus, args.count // 2, args.seed, work, compile_model, hang_s=args.hang_s,
                        tflm_oracle=args.tflm_oracle)
    rest = fuzz_models(models, args.count - args.count // 2, args.seed + 1, work, compile_model, hang_s=args.hang_s,
                       tflm_oracle=args.tflm_oracle)
    for key in ("tried", "refused", "accepted", "accepted_invalid", "tracebacks", "multiline", "hangs"):
        setattr(tally, key, getattr(tally, key) + getattr(rest, key))
    for what, items in (rest.examples or {}).items():
        for item in items:
            tally.note(what, item)
    elapsed = time.monotonic() - started

    print(f"targeted mutant classes of issue 13 on {', '.join(n for n in models if n in ('acdnet20_esc50_fold4_int8', 'kws_dscnn_int8', 'conv_f32_fc_relu'))}:")
    for kind, counts in sorted(classes.items()):
        print(f"  {kind:24s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"\nrandom mutants: {args.count:,} requested, seed {args.seed}, {args.count // 2:,} on "
          f"{', '.join(sorted(focus))} and the rest over all {len(models)} models, {elapsed:.0f} s")
    print(f"  {'tried':28s} {tally.tried:>8,}")
    print(f"  {'refused (one-line error)':28s} {tally.refused:>8,}")
    print(f"  {'accepted (valid per oracle)':28s} {tally.accepted - tally.accepted_invalid:>8,}")
    oracle = "oracle + TFLM" if args.tflm_oracle else "oracle"
    print(f"  {'accepted INVALID (' + oracle + ')':28s} {tally.accepted_invalid:>8,}   target 0")
    print(f"  {'tracebacks':28s} {tally.tracebacks:>8,}   target 0")
    print(f"  {'hangs > %g s' % args.hang_s:28s} {tally.hangs:>8,}   target 0")
    print(f"  {'multi-line messages':28s} {tally.multiline:>8,}   target 0")
    for what, items in (tally.examples or {}).items():
        print(f"\n{what} (first 10):")
        for line in items[:10]:
            print("  " + line)
    bad_classes = [k for k, c in classes.items() if set(c) != {"refused one line"}]
    missed = tally.accepted_invalid or tally.tracebacks or tally.hangs or tally.multiline or bad_classes
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
