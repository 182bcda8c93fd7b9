"""The cells of a study and their state on disk.

A cell is one (model, board, backend, repeat) of a study; its configuration hash is the SHA-256 (first 16 hex
digits) of what determines its result: the model file's content hash, the board, twin or real board, the
backend, the data (folder name, fold, limit, input quantization) and the repeat index.  Paths and the place a
cell runs on are not part of it, so a study moved to another folder, or a cell that ran on another place of the
same board type, is still the same cell.

States live in ``<out>/.study/<study>/<hash>.json`` (written atomically: temp file + rename):
``pending`` (no file), ``running`` (pid and host of the worker), ``done`` (the run directory), ``failed``
(one-line reason), ``does-not-fit`` (the linker's reason; deterministic, so not retried).  A cell counts as
done only when its state says so, its run directory is complete (:func:`harness.rundir.is_run_dir`) and the
run is recorded in the history database; a ``running`` state whose worker is gone is stale, i.e. pending.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STATES = ("pending", "running", "done", "failed", "does-not-fit")


@dataclass(frozen=True)
class Cell:
    """One cell: ``model`` (.tflite path), ``model_sha256``, ``board`` (catalog name), ``emulate`` (twin),
    ``backend`` (Backend value), ``repeat`` (0-based), ``data`` (folder; None: the demo clips), ``limit``,
    ``fold``, ``quantization``, ``tags``."""

    model: str
    model_sha256: str
    board: str
    emulate: bool
    backend: str
    repeat: int = 0
    data: str | None = None
    limit: int | None = None
    fold: int | None = None
    quantization: str = "model"
    tags: tuple[str, ...] = ()

    @property
    def config_hash(self) -> str:
        """16 hex digits identifying the cell's configuration (see the module docstring)."""
        key = {"model_sha256": self.model_sha256, "board": self.board, "target": "twin" if self.emulate else "board",
               "backend": self.backend, "repeat": self.repeat, "limit": self.limit, "fold": self.fold,
               "quantization": self.quantization, "data": Path(self.data).name if self.data else None}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """``model on board-twin (backend) #repeat`` for tables and logs."""
        return (f"{Path(self.model).stem} on {self.board}{'-twin' if self.emulate else ''} ({self.backend})"
                + (f" #{self.repeat + 1}" if self.repeat else ""))

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Cell":
        d = json.loads(text)
        return cls(**{**d, "tags": tuple(d.get("tags", ()))})


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class CellStates:
    """The state files of one study (``state_dir``); ``db``: the history database runs are recorded in."""

    def __init__(self, state_dir: Path, db: Path) -> None:
        self.dir = Path(state_dir)
        self.db = Path(db)

    def path(self, cell: Cell) -> Path:
        return self.dir / f"{cell.config_hash}.json"

    def read(self, cell: Cell) -> dict:
        """The cell's state record ({"status": "pending"} without a file); a ``running`` record of a worker that
        no longer runs reads as pending with ``stale`` set."""
        try:
            rec = json.loads(self.path(cell).read_text())
        except (OSError, ValueError):
            return {"status": "pending"}
        if rec.get("status") == "running" and not _alive(rec.get("pid"), rec.get("host")):
            return {"status": "pending", "stale": True, "reason": "the worker stopped (killed?) while running"}
        return rec

    def write(self, cell: Cell, status: str, **fields) -> None:
        """Write the cell's state atomically.  ``status`` one of :data:`STATES`."""
        assert status in STATES, status
        self.dir.mkdir(parents=True, exist_ok=True)
        rec = {"status": status, "cell": json.loads(cell.as_json()), "hash": cell.config_hash,
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
        tmp = self.dir / f".{cell.config_hash}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
        tmp.replace(self.path(cell))

    def finished(self, cell: Cell, recorded: set[str]) -> bool:
        """True when the cell needs no run: done (run directory complete and in ``recorded``, the history's run
        ids) or does-not-fit."""
        from harness.rundir import is_run_dir  # noqa: PLC0415

        rec = self.read(cell)
        if rec["status"] == "does-not-fit":
            return True
        if rec["status"] != "done" or not rec.get("run_dir"):
            return False
        run = Path(rec["run_dir"])
        return is_run_dir(run) and run.name in recorded

    def recorded_runs(self) -> set[str]:
        """Run ids recorded in the history database (empty when it does not exist yet)."""
        if not self.db.exists():
            return set()
        from harness.history import RunStore  # noqa: PLC0415

        with RunStore(self.db) as store:
            return set(store.run_ids())


def _alive(pid, host) -> bool:
    if not pid or host != socket.gethostname():
        return bool(pid) and host != socket.gethostname()  # another host's worker: trust its record
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped: e.g. a container whose init does not reap orphans) is gone
        return Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
