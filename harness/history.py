"""History database of benchmark runs (SQLite), fed from run directories.

A run directory (``harness/rundir.py``: manifest.json, summary.json, inferences.csv, serial.log) stays the
record of a run, read only through :func:`harness.rundir.read_run`; the store is an index over many of them that
tables, plots and regression checks query. Default location: ``<results dir>/history.sqlite`` (``$TINYHIL_DB``
overrides).

Schema (version 2):
- ``configurations``: what was benchmarked where, one row per distinct configuration (model SHA-256, variant,
  board, target twin or board, core, clock, timer source, compiler and flags, preprocessing, data set). Its key
  ``config_id`` (:attr:`harness.rundir.Run.config_id`) is the SHA-256 of those fields, so two runs of the same
  configuration share it (the nightly baseline is the previous run of the same configuration).
- ``runs``: one row per run directory (run id = directory name, date, git commit, path, the manifest and summary
  as JSON as the models dump them, and ``content_sha256`` of the files imported).
- ``metrics``: :func:`harness.rundir.summary_metrics` in long form (name, value, unit, estimate flag, source).
- ``inferences``: the rows of inferences.csv.
- ``layers``: the per-layer profile when the run has one.
- ``tags``: run tags, from the summary (``source='run'``) or added later (``source='user'``).
- ``profiles`` (version 3): per-operator profiles recorded by ``tinyhil profile`` (its profile.json document),
  with the run they belong to (the newest run of the same model file, board, target and backend when recorded;
  NULL when there was none). Reports draw them for the runs they match (:meth:`RunStore.profiles_for`).

Importing is idempotent: a run is keyed by its run id; importing the same directory again changes nothing,
importing a changed directory of the same id replaces that run's rows (user tags are kept). A version-1
database (tinyhil 0.1.0, whose board runs said target "hardware") is migrated when opened: configuration ids,
stored JSON and metrics are recomputed from the stored manifests and summaries; a version-2 database gets the
(empty) ``profiles`` table.
Errors: :class:`harness.errors.ResultsError` (one line naming the directory or database and the fix).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Iterable, Iterator

from harness.errors import ResultsError
from harness.history_profiles import ProfileRecords, record_profile_file  # noqa: F401 (re-exported)
from harness.rundir.progress import is_failed
from harness.rundir import (READ_CONTEXT, RUN_FILES, Manifest, Run, Summary, is_run_dir, layer_profile, read_run,
                            summary_metrics)

SCHEMA_VERSION = 3
DB_NAME = "history.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS configurations (
    config_id TEXT PRIMARY KEY, model_file TEXT, model_sha256 TEXT, variant TEXT, method TEXT, base TEXT,
    board TEXT, target TEXT, core TEXT, clock_hz INTEGER, timer_source TEXT, compiler TEXT, flags TEXT,
    preprocessing TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, config_id TEXT NOT NULL REFERENCES configurations(config_id), date TEXT NOT NULL,
    git_commit TEXT, tinyhil_version TEXT, path TEXT, content_sha256 TEXT NOT NULL, imported_at TEXT NOT NULL,
    manifest TEXT NOT NULL, summary TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_config ON runs (config_id, date);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, name TEXT NOT NULL, value REAL,
    unit TEXT, estimate INTEGER, source TEXT, PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS inferences (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, row INTEGER NOT NULL, input_id TEXT,
    crop INTEGER, label INTEGER, prediction INTEGER, clip_prediction INTEGER, count INTEGER, count_unit TEXT,
    matches_reference INTEGER, output TEXT, PRIMARY KEY (run_id, row));
CREATE TABLE IF NOT EXISTS layers (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, idx INTEGER NOT NULL, op TEXT,
    count REAL, unit TEXT, macs INTEGER, PRIMARY KEY (run_id, idx));
CREATE TABLE IF NOT EXISTS profiles (
    profile_id TEXT PRIMARY KEY, run_id TEXT REFERENCES runs(run_id) ON DELETE SET NULL, model TEXT, board TEXT,
    target TEXT, backend TEXT, unit TEXT, recorded_at TEXT, path TEXT, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, tag TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (run_id, tag));
"""


@dataclass(frozen=True)
class Selection:
    """Which runs a report or listing takes. ``models``: glob patterns (a plain word matches as a substring,
    case-insensitive) against model file, variant name and base; ``boards``: exact board names; ``since`` /
    ``until``: inclusive UTC bounds (a date-only ``until`` covers that whole day); ``tags``: a run must carry
    every one; ``backends``: deployment backend names (tinyhil, tflm, tflm-cmsis-nn); ``run_ids``: ids or parts of ids; ``latest``: keep only the newest N after filtering."""

    models: tuple[str, ...] = ()
    boards: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    tags: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    latest: int | None = None
    backends: tuple[str, ...] = ()

    def matches(self, run: Run) -> bool:
        if self.boards and run.board not in self.boards:
            return False
        if self.backends and run.backend not in self.backends:
            return False
        if self.models:
            names = [run.model, run.variant.name, run.variant.base or ""]
            if not any(_name_matches(p, n) for p in self.models for n in names):
                return False
        if self.since and run.date < self.since:
            return False
        if self.until and run.date > self.until:
            return False
        if self.tags and not set(self.tags) <= set(run.tags):
            return False
        if self.run_ids and not any(r in run.run_id for r in self.run_ids):
            return False
        return True


def _name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower(), name.lower()
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def parse_date(text: str, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time (``2026-11-21``, ``2026-11-21T03:00``) as an aware UTC datetime; with
    ``end_of_day`` a date-only value means 23:59:59.999999 of that day. Raises ResultsError."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ResultsError(f"date {text!r} is not ISO 8601; use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if end_of_day and len(text) <= 10:
        value = datetime.combine(value.date(), time.max)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def default_db(results_dir: str | Path = "results") -> Path:
    """``$TINYHIL_DB`` if set, else ``<results_dir>/history.sqlite``."""
    env = os.environ.get("TINYHIL_DB")
    return Path(env) if env else Path(results_dir) / DB_NAME


# --- the database --------------------------------------------------------------------------------------------

class RunStore(ProfileRecords):
    """The history database. Open with ``RunStore(path)`` (created with its parent directory if absent);
    use as a context manager or call :meth:`close`. Raises ResultsError when the file is not a tinyhil
    database or has a newer schema."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self._db.commit()
            elif int(row[0]) > SCHEMA_VERSION:
                raise ResultsError(f"{self.path} has schema version {row[0]}, newer than this tinyhil "
                                   f"({SCHEMA_VERSION}); upgrade tinyhil or pass another --db")
            elif int(row[0]) < SCHEMA_VERSION:
                self._migrate(int(row[0]))
        except sqlite3.DatabaseError as exc:
            raise ResultsError(f"{self.path} is not a usable SQLite history database ({exc}); "
                               "move it away or pass another --db") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # writing
    def import_run(self, run_dir: str | Path) -> str:
        """Record one run directory; returns "added", "updated" (same run id, changed files) or "unchanged".
        Raises ResultsError for a directory that is not a complete run."""
        path = Path(run_dir)
        if is_failed(path):  # never recorded as valid: resume it, then import the finished run
            raise ResultsError(f"{path} is a failed or interrupted run (manifest status 'failed'); finish it with "
                               f"`tinyhil bench --resume {path}`")
        digest = _content_sha256(path) if is_run_dir(path) else None
        old = self._db.execute("SELECT content_sha256, path FROM runs WHERE run_id=?", (path.name,)).fetchone()
        if old and old[0] == digest:
            if old[1] != str(path.resolve()):
                with self._db:
                    self._db.execute("UPDATE runs SET path=? WHERE run_id=?", (str(path.resolve()), path.name))
            return "unchanged"
        run = read_run(path)
        with self._db:
            self._store(run, _content_sha256(run.path))
        return "updated" if old else "added"

    def _store(self, run: Run, digest: str) -> None:
        self._store_config(run)
        for table in ("metrics", "inferences", "layers"):
            self._db.execute(f"DELETE FROM {table} WHERE run_id=?", (run.run_id,))
        self._db.execute("DELETE FROM tags WHERE run_id=? AND source='run'", (run.run_id,))
        self._db.execute(  # an upsert, not REPLACE: a REPLACE would cascade-delete the user's tags
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET "
            "config_id=excluded.config_id, date=excluded.date, git_commit=excluded.git_commit, "
            "tinyhil_version=excluded.tinyhil_version, path=excluded.path, "
            "content_sha256=excluded.content_sha256, imported_at=excluded.imported_at, "
            "manifest=excluded.manifest, summary=excluded.summary",
            (run.run_id, run.config_id, run.date.isoformat(), run.manifest.git_commit, run.manifest.tinyhil_version,
             str(run.path), digest, datetime.now(timezone.utc).isoformat(timespec="seconds"),
             run.manifest.model_dump_json(), run.summary.model_dump_json()))
        self._store_metrics(run)
        self._db.executemany("INSERT INTO inferences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (run.run_id, i, r.input_id, r.crop, r.label, r.prediction, r.clip_prediction, r.count, r.count_unit,
             None if r.matches_reference is None else int(r.matches_reference), " ".join(map(str, r.output)))
            for i, r in enumerate(run.inferences or ())])
        self._db.executemany("INSERT INTO layers VALUES (?, ?, ?, ?, ?, ?)",
                             [(run.run_id, l["idx"], l["op"], l["count"], l["unit"], l["macs"])
                              for l in layer_profile(run.summary, run.path)])
        self._db.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?, 'run')", [(run.run_id, t) for t in run.tags])

    def _store_config(self, run: Run) -> None:
        self._db.execute("INSERT OR IGNORE INTO configurations VALUES (:config_id, :model_file, :model_sha256, "
                         ":variant, :method, :base, :board, :target, :core, :clock_hz, :timer_source, :compiler, "
                         ":flags, :preprocessing, :data)", {"config_id": run.config_id, **run.config_fields()})

    def _store_metrics(self, run: Run) -> None:
        self._db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
                             [(run.run_id, m.name, m.value, m.unit, None if m.estimate is None else int(m.estimate),
                               m.source) for m in summary_metrics(run.summary)])

    def _migrate(self, version: int) -> None:
        """Version 1 -> 2: recompute every run's configuration id (board runs said "hardware"), its stored
        manifest and summary (as the models dump them) and its metrics, from the stored JSON. Version 2 -> 3:
        the ``profiles`` table (created by the schema script) is all there is to add."""
        with self._db:
            for rid, path, manifest, summary in self._db.execute(
                    "SELECT run_id, path, manifest, summary FROM runs").fetchall() if version < 2 else ():
                run = _stored_run(rid, path, manifest, summary, (), self.path)
                self._store_config(run)
                self._db.execute("UPDATE runs SET config_id=?, manifest=?, summary=? WHERE run_id=?",
                                 (run.config_id, run.manifest.model_dump_json(), run.summary.model_dump_json(), rid))
                self._db.execute("DELETE FROM metrics WHERE run_id=?", (rid,))
                self._store_metrics(run)
            self._db.execute("DELETE FROM configurations WHERE config_id NOT IN (SELECT config_id FROM runs)")
            self._db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

    def import_tree(self, root: str | Path, only_new: bool = False) -> dict[str, str]:
        """Import every complete run directory directly under ``root`` (hidden partial ones are skipped);
        with ``only_new`` runs already recorded are not re-read. Returns {run id: status}."""
        root = Path(root)
        if not root.is_dir():
            return {}
        known = set(self.run_ids()) if only_new else set()
        return {p.name: self.import_run(p) for p in sorted(root.iterdir())
                if is_run_dir(p) and p.name not in known}

    def add_tags(self, run_id: str, tags: Iterable[str]) -> None:
        """Tag a recorded run (kept across re-imports). Raises ResultsError for an unknown run."""
        rid = self.resolve_id(run_id)
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?, 'user')", [(rid, t) for t in tags])

    # reading
    def run_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT run_id FROM runs ORDER BY date, run_id")]

    def resolve_id(self, ref: str) -> str:
        """A run id, a unique prefix of one, or a unique part of one (e.g. "acdnet20" or "nrf52840") -> the run
        id. Raises ResultsError when none or several match."""
        rows: list[str] = []
        for pattern in (_like_prefix(ref), "%" + _like_prefix(ref)):
            rows = [r[0] for r in self._db.execute("SELECT run_id FROM runs WHERE run_id = ? OR run_id LIKE ? "
                                                   "ESCAPE '\\' ORDER BY run_id", (ref, pattern))]
            if ref in rows:
                return ref
            if len(rows) == 1:
                return rows[0]
            if rows:
                break
        if not rows:
            raise ResultsError(f"no run {ref!r} in {self.path}; list runs with `tinyhil runs` "
                               "or pass a run directory")
        raise ResultsError(f"run {ref!r} is ambiguous in {self.path} ({len(rows)} runs: {rows[0]}, "
                           f"{rows[1]}, ...); give more of the id")

    def get(self, ref: str) -> Run:
        """The run with this id (or unique prefix). Raises ResultsError."""
        return next(self._runs("WHERE r.run_id = ?", (self.resolve_id(ref),)))

    def select(self, selection: Selection = Selection()) -> list[Run]:
        """Runs matching ``selection``, oldest first."""
        runs = [r for r in self._runs("", ()) if selection.matches(r)]
        if selection.latest:
            runs = runs[-selection.latest:]
        return runs

    def previous(self, run: Run) -> Run | None:
        """The newest recorded run of the same configuration dated before ``run`` (the nightly baseline)."""
        date = run.date.isoformat()
        rows = list(self._runs("WHERE r.config_id = ? AND (r.date < ? OR (r.date = ? AND r.run_id < ?))",
                               (run.config_id, date, date, run.run_id)))
        return rows[-1] if rows else None

    def metrics(self, run_id: str) -> list[tuple]:
        """(name, value, unit, estimate, source) rows of a recorded run."""
        return self._db.execute("SELECT name, value, unit, estimate, source FROM metrics WHERE run_id=? "
                                "ORDER BY name", (run_id,)).fetchall()

    def inferences(self, run_id: str) -> list[tuple]:
        """Rows of a recorded run's inferences.csv: (input_id, crop, label, prediction, clip_prediction,
        count, count_unit, matches_reference, output)."""
        return self._db.execute("SELECT input_id, crop, label, prediction, clip_prediction, count, count_unit, "
                                "matches_reference, output FROM inferences WHERE run_id=? ORDER BY row",
                                (run_id,)).fetchall()

    def layers(self, run_id: str) -> list[dict]:
        rows = self._db.execute("SELECT idx, op, count, unit, macs FROM layers WHERE run_id=? ORDER BY idx",
                                (run_id,)).fetchall()
        return [dict(zip(("idx", "op", "count", "unit", "macs"), r)) for r in rows]

    def table_counts(self) -> dict[str, int]:
        """Row count of each table (for checks and `tinyhil runs --stats`)."""
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("configurations", "runs", "metrics", "inferences", "layers", "tags", "profiles")}

    def _runs(self, where: str, args: tuple) -> Iterator[Run]:
        tags: dict[str, list[str]] = {}
        for rid, tag in self._db.execute("SELECT run_id, tag FROM tags ORDER BY tag"):
            tags.setdefault(rid, []).append(tag)
        cur = self._db.execute(f"SELECT r.run_id, r.path, r.manifest, r.summary FROM runs r {where} "
                               "ORDER BY r.date, r.run_id", args)
        for rid, path, manifest, summary in cur.fetchall():
            yield _stored_run(rid, path, manifest, summary, tuple(tags.get(rid, ())), self.path)


def _stored_run(rid: str, path: str | None, manifest: str, summary: str, tags: tuple[str, ...], db: Path) -> Run:
    """A Run from its stored JSON (inferences not loaded); ``path`` None when the directory is gone."""
    try:
        m = Manifest.model_validate_json(manifest, context=READ_CONTEXT)
        s = Summary.model_validate_json(summary, context=READ_CONTEXT)
    except ValueError as exc:
        raise ResultsError(f"{db}: stored run {rid} is malformed ({str(exc).splitlines()[0]}); re-import its "
                           "directory with `tinyhil import` or pass another --db") from None
    return Run(rid, Path(path) if path and Path(path).is_dir() else None, m, s, None, tags)


def _content_sha256(path: Path) -> str:
    h = hashlib.sha256()
    for name in (*RUN_FILES, "inferences.csv"):
        f = path / name
        h.update(name.encode())
        h.update(f.read_bytes() if f.is_file() else b"<absent>")
    return h.hexdigest()


def _like_prefix(ref: str) -> str:
    return ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def record_run(run_dir: str | Path, db: str | Path | None = None) -> str:
    """Import one finished run directory into the history database (default: ``history.sqlite`` beside it,
    or ``$TINYHIL_DB``); returns the import status. Raises ResultsError."""
    run_dir = Path(run_dir)
    db = Path(db or default_db(run_dir.parent))
    try:
        with RunStore(db) as store:
            return store.import_run(run_dir)
    except sqlite3.Error as exc:
        raise ResultsError(f"cannot write {db} ({exc}); retry with `tinyhil import {run_dir}`") from None


def resolve_run(ref: str | Path, store: RunStore | None) -> Run:
    """A run directory path, or a run id / unique prefix recorded in ``store`` -> Run. Raises ResultsError."""
    p = Path(ref)
    if p.is_dir():
        return read_run(p)
    if store is None:
        raise ResultsError(f"{ref} is not a run directory and no history database is open; pass a directory")
    return store.get(str(ref))
