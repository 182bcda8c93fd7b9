"""Per-operator profiles in the history database (schema version 3, table ``profiles``): what ``tinyhil
profile`` records, and what reports read back for the runs they draw.

:class:`ProfileRecords` is a mixin of :class:`harness.history.RunStore` (it uses the store's connection
``_db`` and its ``_runs`` reader); :func:`record_profile_file` records a saved profile.json from the CLI.
A profile is keyed by the SHA-256 of its document (recording it again changes nothing) and linked to the
newest run of the same model file, board, target and backend recorded at that time (NULL when none was).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from harness.errors import ResultsError
from harness.rundir import Run, Summary, layer_profile


class ProfileRecords:
    """Profile methods of the history database (mixed into RunStore)."""

    def record_profile(self, document: dict, path: str | Path | None = None) -> tuple[str, str | None]:
        """Record a ``tinyhil profile`` result (the profile.json document: model, board, target, unit,
        operators, optional backend and recorded date) with the run it belongs to; returns (profile id, run id
        or None). Recording the same document again changes nothing. Raises ResultsError when it has no
        operators."""
        if not layer_profile(Summary(profile=document)):
            raise ResultsError(f"{path or 'profile'} has no per-operator counts; rerun `tinyhil profile`")
        text = json.dumps(document, sort_keys=True)
        pid = hashlib.sha256(text.encode()).hexdigest()[:16]
        key = (document.get("model"), document.get("board"), document.get("target"),
               document.get("backend") or "tinyhil")
        runs = [r for r in self._runs("", ()) if (r.manifest.model and r.manifest.model.file, r.board, r.target,
                                                  r.backend) == key]
        run_id = runs[-1].run_id if runs else None
        with self._db:
            self._db.execute("INSERT OR IGNORE INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (pid, run_id, *key, document.get("unit"), document.get("recorded")
                              or datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              None if path is None else str(path), text))
        return pid, run_id

    def import_profiles(self, root: str | Path) -> list[str]:
        """Record every ``<root>/*/profile.json`` (where ``tinyhil profile`` saves) not recorded yet; returns
        the new profile ids. A malformed file is skipped (the report lists what it draws)."""
        new = []
        for f in sorted(Path(root).glob("*/profile.json")) if Path(root).is_dir() else []:
            try:
                doc = json.loads(f.read_text())
                pid = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
                if not self._db.execute("SELECT 1 FROM profiles WHERE profile_id=?", (pid,)).fetchone():
                    new.append(self.record_profile(doc, f)[0])
            except (ValueError, ResultsError):
                continue
        return new

    def profiles_for(self, runs: Iterable[Run]) -> dict[str, list[dict]]:
        """{run id: [{idx, op, count, unit, macs}]}: the newest recorded profile of each run, by run id, else of
        its model file, board, target and backend."""
        rows = self._db.execute("SELECT run_id, model, board, target, backend, document FROM profiles "
                                "ORDER BY recorded_at, profile_id").fetchall()
        by_run = {r[0]: r[5] for r in rows if r[0]}
        by_key = {tuple(r[1:5]): r[5] for r in rows}
        out = {}
        for run in runs:
            key = (run.manifest.model and run.manifest.model.file, run.board, run.target, run.backend)
            doc = by_run.get(run.run_id) or by_key.get(key)
            if doc:
                out[run.run_id] = layer_profile(Summary(profile=json.loads(doc)))
        return out


def record_profile_file(json_path: str | Path, db: str | Path | None = None) -> tuple[str, str | None]:
    """Record ``<out>/<name>/profile.json`` in the history database: ``db``, else ``$TINYHIL_DB``, else
    ``results/history.sqlite`` for the default ``<out>`` = results/profiles (the parent of ``profiles``), else
    ``<out>/history.sqlite``. Returns (profile id, run id or None). Raises ResultsError."""
    json_path = Path(json_path)
    out = json_path.parent.parent  # --out of `tinyhil profile` (default results/profiles)
    db = Path(db or _default_db(out.parent if out.name == "profiles" else out))
    try:
        doc = json.loads(json_path.read_text())
        from harness.history import RunStore  # noqa: PLC0415 (the store imports this module)

        with RunStore(db) as store:
            return store.record_profile(doc, json_path)
    except (OSError, json.JSONDecodeError, sqlite3.Error) as exc:
        raise ResultsError(f"cannot record {json_path} in {db} ({exc}); rerun `tinyhil profile`") from None


def _default_db(results_dir: Path) -> Path:
    from harness.history import default_db  # noqa: PLC0415

    return default_db(results_dir)
