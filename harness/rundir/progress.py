"""The work folder of a run in progress, ``<out>/.<run id>.work``: what ``--resume`` needs and how a failed
run is marked.

* ``resume.json``: the run id and the run's configuration (written when the run starts);
* ``inferences.partial.csv``: the journal (:mod:`harness.rundir.journal`);
* ``serial.log``, ``qemu.log``: transcripts;
* ``manifest.json`` with ``"status": "failed"`` once the run failed or was interrupted: the error, the
  inferences journaled so far and the command that resumes it.  Such a folder is never a valid run: its name is
  hidden, it has no summary, and the history database refuses a manifest marked failed.

On success the run directory is written (:func:`harness.rundir.write_run`) and the work folder removed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import ResultsError

RESUME_NAME = "resume.json"
FAILED = "failed"
#: Work-folder files that are bookkeeping, not evidence to copy into the finished run directory.
BOOKKEEPING = {RESUME_NAME, "manifest.json", "inferences.partial.csv"}


def work_folder(out: str | Path, run_id: str) -> Path:
    """``<out>/.<run id>.work``."""
    return Path(out) / f".{run_id}.work"


def write_resume_state(folder: Path, run_id: str, config: dict) -> None:
    """Record the run id and its configuration (JSON-ready dict) for ``--resume``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESUME_NAME).write_text(json.dumps({"run_id": run_id, "config": config}, indent=2) + "\n")


def read_resume_state(folder: str | Path) -> tuple[str, dict]:
    """(run id, configuration) of an interrupted run's work folder.  Raises ResultsError when ``folder`` is not
    one (no resume.json)."""
    path = Path(folder) / RESUME_NAME
    try:
        state = json.loads(path.read_text())
        return state["run_id"], state["config"]
    except FileNotFoundError:
        raise ResultsError(f"{folder} is not the folder of an interrupted run (no {RESUME_NAME}); pass the "
                           "folder named in the error of the failed run (<out>/.<run id>.work)") from None
    except (ValueError, KeyError):
        raise ResultsError(f"{path} is damaged; start the run again without --resume") from None


def mark_failed(folder: Path, run_id: str, error: str, journaled: int) -> None:
    """Write ``manifest.json`` with status failed (best effort: never masks the run's own error)."""
    doc = {"run_id": run_id, "status": FAILED, "error": error, "inferences_journaled": journaled,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "resume": f"tinyhil bench --resume {folder}"}
    try:
        (folder / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n")
    except OSError:
        pass


def is_failed(folder: str | Path) -> bool:
    """True when ``folder/manifest.json`` marks a failed or interrupted run."""
    try:
        return json.loads((Path(folder) / "manifest.json").read_text()).get("status") == FAILED
    except (OSError, ValueError, AttributeError):
        return False
