#!/usr/bin/env python3
"""Regenerate the example report under docs/report-example/ (committed, so a reader sees tinyhil's figures and
tables without running anything).

The runs are the realistic selection of issue 15 (tests/report/realistic.py: five models × the three twins, a
model that does not fit, a board without an energy model; synthetic-but-plausible numbers written by the
pipeline's own run-directory writer) plus one recorded `tinyhil profile` result. They are written to a fixed
scratch folder (default /tmp/tinyhil-report-example) and reported with `tinyhil report`, exactly as a user would.

Usage (from the repository root):  python scripts/make_report_examples.py [--scratch DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "report-example"
sys.path[:0] = [str(REPO), str(REPO / "tests" / "report")]

from harness.history import record_profile_file  # noqa: E402
from realistic import profile_document, write_selection  # noqa: E402

KEEP_PDF = {"tradeoffs", "board_cost", "memory", "layer_profile", "accuracy_vs_energy"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/tinyhil-report-example"))
    args = ap.parse_args()
    results = args.scratch / "results"
    shutil.rmtree(args.scratch, ignore_errors=True)
    runs = write_selection(results)
    m7 = next(p for p in runs if "acdnet20-int8-stm32f746" in p.name)
    saved = results / "profiles" / "acdnet20-int8-stm32f746-twin" / "profile.json"
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps(profile_document(m7), indent=1))
    record_profile_file(saved)
    out = args.scratch / "report"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "report", "--results", str(results), "--out",
                           str(out)], cwd=REPO, capture_output=True, text=True, env={"COLUMNS": "250",
                                                                                     "PATH": "/usr/bin:/bin"})
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    shutil.rmtree(DOCS, ignore_errors=True)
    (DOCS / "plots").mkdir(parents=True)
    for name in ("tradeoffs.md", "tradeoffs.csv", "tradeoffs.tex", "runs.csv", "profiles.csv", "report.html"):
        shutil.copy(out / name, DOCS / name)
    for png in sorted((out / "plots").glob("*.png")):
        shutil.copy(png, DOCS / "plots" / png.name)
        if png.stem in KEEP_PDF:
            shutil.copy(png.with_suffix(".pdf"), DOCS / "plots" / png.with_suffix(".pdf").name)
    first_confusion = sorted((out / "plots" / "confusion").glob("*.png"))[0]
    shutil.copy(first_confusion, DOCS / "plots" / "confusion_example.png")
    print(f"wrote {DOCS.relative_to(REPO)} ({sum(f.stat().st_size for f in DOCS.rglob('*') if f.is_file()):,} B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
