"""The data options of ``tinyhil bench`` (``--data``, ``--fold``, ``--data-layout``, ``--front-end``): checked
before any run, so a wrong value is a usage error (exit 2) and not a failure after a build."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def data_option(data: Optional[Path], fold, layout: Optional[str], front_end: Optional[str],
                local: Optional[Path], *, elsewhere: bool, over_the_air: bool) -> Optional[Path]:
    """Check the data options before any run (usage errors, exit 2) and resolve ``--data esc50|urbansound8k``
    to its folder (local copy, cache or soundata download: harness.data.fetch.data_folder)."""
    from harness.data.fetch import SOUNDATA_DATASETS, data_folder
    from harness.data.layouts import LAYOUT_NAMES

    if layout is not None and layout not in LAYOUT_NAMES:
        raise typer.BadParameter(f"--data-layout {layout!r}: use {', '.join(LAYOUT_NAMES)} (or omit it to detect)")
    if front_end is not None:
        from harness.data.frontends import front_end_from_spec

        front_end_from_spec(front_end)  # a bad spec is a one-line DataError now, not after a build
    if elsewhere and (fold or layout or front_end):
        raise typer.BadParameter("--fold, --data-layout and --front-end apply to runs in this process; drop "
                                 "--place/--jobs (or pass a folder holding only the clips to use)")
    if over_the_air and fold:
        raise typer.BadParameter("--over-the-air plays every clip of an ESC-50 folder; drop --fold (or pass a "
                                 "folder of that fold's clips)")
    if data is not None and str(data) in SOUNDATA_DATASETS and not data.is_dir():
        return data_folder(data, local)
    return data
