"""Where ``tinyhil bench --out DIR`` wrote its runs, remembered so that a plain ``tinyhil runs`` (which reads
``results/``) can name those folders when it finds nothing.

The list is ``$XDG_CACHE_HOME/tinyhil/results-dirs.txt`` (``~/.cache/tinyhil/...``): absolute paths, newest first,
at most :data:`KEEP`.  Failing to read or write it never fails a command (it is only a hint).
"""

from __future__ import annotations

import os
from pathlib import Path

KEEP = 5


def _file() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tinyhil" / "results-dirs.txt"


def remember_results_dir(path: Path) -> None:
    """Put ``path`` (made absolute) first in the list of recent results folders."""
    entry = str(Path(path).resolve())
    try:
        dirs = [entry] + [d for d in recent_results_dirs() if d != entry]
        _file().parent.mkdir(parents=True, exist_ok=True)
        _file().write_text("\n".join(dirs[:KEEP]) + "\n")
    except OSError:
        pass


def recent_results_dirs() -> list[str]:
    """The remembered results folders that still exist, newest first."""
    try:
        lines = _file().read_text().splitlines()
    except OSError:
        return []
    return [d for d in lines if d and Path(d).is_dir()]


def empty_history_hint(results: Path) -> str:
    """One line for a listing that found no run under ``results``: where ``bench --out`` wrote runs lately and
    the option that reads them (``--results DIR``)."""
    here = Path(results).resolve()
    others = [d for d in recent_results_dirs() if Path(d) != here]
    if others:
        return (f"no runs recorded under {results}; `tinyhil bench --out DIR` wrote runs to {', '.join(others[:3])}: "
                f"pass --results DIR, e.g. `tinyhil runs --results {others[0]}`")
    return (f"no runs recorded under {results}; `tinyhil bench --out DIR` records its runs in DIR: pass --results DIR "
            "(or --db FILE for a history database elsewhere)")
