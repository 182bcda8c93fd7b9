"""History database of benchmark runs (SQLite), fed from run directories.

A run directory (``harness/results.py``: manifest.json, summary.json, inferences.csv, serial.log) stays the
record of a run; the store is an index over many of them that tables, plots and regression checks query.
Default location: ``<results dir>/history.sqlite`` (``$TINYHIL_DB`` overrides).

Schema (version 1):
- ``configurations``: what was benchmarked where, one row per distinct configuration (model SHA-256, variant,
  board, twin or hardware, core, clock, timer source, compiler and flags, preprocessing, data set). Its key
  ``config_id`` is the SHA-256 of those fields, so two runs of the same configuration share it (the nightly
  baseline is the previous run of the same configuration).
- ``runs``: one row per run directory (run id = directory name, date, git commit, path, the full manifest and
  summary as JSON, and ``content_sha256`` of the files imported).
- ``metrics``: the summary's scalar metrics in long form (name, value, unit, estimate flag, source).
- ``inferences``: the rows of inferences.csv.
- ``layers``: the per-layer profile when the run has one.
- ``tags``: run tags, from the summary (``source='run'``) or added later (``source='user'``).

Importing is idempotent: a run is keyed by its run id; importing the same directory again changes nothing,
importing a changed directory of the same id replaces that run's rows (user tags are kept).
Errors: :class:`harness.errors.ResultsError` (one line naming the directory or database and the fix).
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Iterable, Iterator

from harness.errors import ResultsError

SCHEMA_VERSION = 1
DB_NAME = "history.sqlite"
RUN_FILES = ("manifest.json", "summary.json")

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
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, tag TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (run_id, tag));
"""


@dataclass(frozen=True)
class Variant:
    """Which variant of a model a run benchmarked: ``name`` (default: the model file's stem), compression
    ``method`` ("none" for an unmodified model) and ``base`` model name (None when unknown)."""

    name: str
    method: str = "none"
    base: str | None = None


@dataclass(frozen=True)
class Run:
    """One run as the store (or a run directory) knows it. ``summary`` and ``manifest`` are the parsed JSON
    files; ``path`` is the run directory (None if it no longer exists); ``date`` is the manifest's UTC date."""

    run_id: str
    path: Path | None
    date: datetime
    config_id: str
    variant: Variant
    summary: dict
    manifest: dict
    tags: tuple[str, ...] = field(default=())

    @property
    def board(self) -> str:
        return str(self.summary.get("board") or self.manifest.get("board") or "?")

    @property
    def target(self) -> str:
        return str(self.summary.get("target") or self.manifest.get("target") or "?")

    @property
    def model(self) -> str:
        return str(self.summary.get("model") or self.manifest.get("model", {}).get("file") or "?")


@dataclass(frozen=True)
class Selection:
    """Which runs a report or listing takes. ``models``: glob patterns (a plain word matches as a substring,
    case-insensitive) against model file, variant name and base; ``boards``: exact board names; ``since`` /
    ``until``: inclusive UTC bounds (a date-only ``until`` covers that whole day); ``tags``: a run must carry
    every one; ``run_ids``: ids or parts of ids; ``latest``: keep only the newest N after filtering."""

    models: tuple[str, ...] = ()
    boards: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    tags: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    latest: int | None = None

    def matches(self, run: Run) -> bool:
        if self.boards and run.board not in self.boards:
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


# --- reading run directories -------------------------------------------------------------------------------

def is_run_dir(path: Path) -> bool:
    """A complete run directory: not a hidden partial/work directory, with manifest.json and summary.json."""
    return path.is_dir() and not path.name.startswith(".") and all((path / f).is_file() for f in RUN_FILES)


def read_run_dir(path: str | Path) -> Run:
    """Read a run directory into a :class:`Run` (tags from the summary). Raises ResultsError when the
    directory is missing, incomplete or its JSON is malformed."""
    path = Path(path)
    if not path.is_dir():
        raise ResultsError(f"run directory {path} does not exist; pass a directory written by `tinyhil bench`")
    if path.name.startswith("."):
        raise ResultsError(f"{path} is an unfinished run (hidden partial directory); rerun the benchmark")
    docs = {}
    for name in RUN_FILES:
        try:
            docs[name] = json.loads((path / name).read_text())
        except FileNotFoundError:
            raise ResultsError(f"{path} has no {name}: not a complete run directory; rerun `tinyhil bench`") from None
        except json.JSONDecodeError as exc:
            raise ResultsError(f"{path / name} is not valid JSON (line {exc.lineno}); the run directory is "
                               "damaged, rerun the benchmark") from None
    manifest, summary = docs["manifest.json"], docs["summary.json"]
    if not isinstance(summary, dict) or not isinstance(manifest, dict) or "board" not in summary:
        raise ResultsError(f"{path}/summary.json has no 'board': not a tinyhil run summary")
    return Run(run_id=path.name, path=path.resolve(), date=_run_date(manifest, path), config_id=config_id(manifest, summary),
               variant=variant_of(manifest, summary), summary=summary, manifest=manifest,
               tags=tuple(sorted(set(summary.get("tags") or ()))))


def _run_date(manifest: dict, path: Path) -> datetime:
    text = manifest.get("date")
    if not text:
        raise ResultsError(f"{path}/manifest.json has no 'date'; not a tinyhil run manifest")
    return parse_date(text)


def variant_of(manifest: dict, summary: dict) -> Variant:
    """The run's variant: ``summary['variant']`` (or the manifest's) when present, else the model file's stem
    with method "none"."""
    v = summary.get("variant") or manifest.get("variant") or {}
    model = summary.get("model") or manifest.get("model", {}).get("file") or "?"
    return Variant(name=str(v.get("name") or Path(model).stem), method=str(v.get("method") or "none"),
                   base=v.get("base"))


def _config_fields(manifest: dict, summary: dict) -> dict:
    fw = manifest.get("firmware") or {}
    data = manifest.get("data") or {}
    v = variant_of(manifest, summary)
    return {
        "model_file": (manifest.get("model") or {}).get("file") or summary.get("model"),
        "model_sha256": (manifest.get("model") or {}).get("sha256"),
        "variant": v.name, "method": v.method, "base": v.base,
        "board": summary.get("board") or manifest.get("board"),
        "target": summary.get("target") or manifest.get("target"),
        "core": manifest.get("core"), "clock_hz": manifest.get("clock_hz"),
        "timer_source": manifest.get("timer_source") or (summary.get("counts") or {}).get("unit"),
        "compiler": fw.get("compiler"), "flags": json.dumps(fw.get("flags") or []),
        "preprocessing": json.dumps(manifest.get("preprocessing") or {}, sort_keys=True),
        "data": json.dumps({"name": Path(str(data.get("path", ""))).name, "kind": data.get("kind"),
                            "samples": data.get("samples")}, sort_keys=True),
    }


def config_id(manifest: dict, summary: dict) -> str:
    """SHA-256 (hex, first 16 digits) of the configuration fields (model hash, variant, board, target, core,
    clock, timer source, compiler, flags, preprocessing, data set name/kind/size)."""
    blob = json.dumps(_config_fields(manifest, summary), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _content_sha256(path: Path) -> str:
    h = hashlib.sha256()
    for name in (*RUN_FILES, "inferences.csv"):
        f = path / name
        h.update(name.encode())
        h.update(f.read_bytes() if f.is_file() else b"<absent>")
    return h.hexdigest()


def summary_metrics(summary: dict) -> list[tuple[str, float | None, str | None, bool | None, str | None]]:
    """The summary's scalar metrics as (name, value, unit, estimate, source) rows. Names: accuracy,
    correct, samples, inferences, count_median/min/max (unit instructions|cycles), latency_median/min/max
    (µs), energy_per_inference (µJ), avg_power (mW), flash_bytes, ram_bytes, peak_stack_bytes, arena_bytes,
    weight_bytes, macs, bit_exact (1/0), mismatches, wall_time_s, and memory.section.<name> /
    memory.component.<name> (bytes). Absent or null metrics are omitted (never recorded as 0)."""
    rows: list = []

    def add(name, value, unit=None, estimate=None, source=None):
        if value is None or isinstance(value, (dict, list)):
            return
        rows.append((name, float(value), unit, estimate, source))

    add("accuracy", summary.get("accuracy"), "fraction")
    for key in ("correct", "samples", "inferences", "mismatches"):
        add(key, summary.get(key), "count")
    counts = summary.get("counts") or {}
    for stat in ("median", "min", "max"):
        add(f"count_{stat}", counts.get(stat), counts.get("unit"))
    lat = summary.get("latency") or {}
    for stat in ("median", "min", "max"):
        add(f"latency_{stat}", lat.get(stat), lat.get("unit", "us"), lat.get("estimate"), lat.get("source"))
    en = summary.get("energy") or {}
    add("energy_per_inference", en.get("per_inference"), en.get("unit", "uJ"), en.get("estimate"), en.get("source"))
    add("avg_power", en.get("avg_power_mw"), "mW", en.get("estimate"), en.get("source"))
    mem = summary.get("memory") or {}
    for key in ("flash_bytes", "ram_bytes", "peak_stack_bytes"):
        add(key, mem.get(key, summary.get(key)), "bytes")
    for group in ("sections", "components"):
        for name, value in (mem.get(group) or {}).items():
            add(f"memory.{group[:-1]}.{name}", value if not isinstance(value, dict) else value.get("bytes"), "bytes")
    for key in ("arena_bytes", "weight_bytes"):
        add(key, summary.get(key), "bytes")
    add("macs", summary.get("macs"), "MACs")
    if summary.get("bit_exact") is not None:
        add("bit_exact", int(bool(summary["bit_exact"])), "bool")
    add("wall_time_s", summary.get("wall_time_s"), "s")
    return rows


def layer_profile(summary: dict, run_dir: Path | None = None) -> list[dict]:
    """The per-layer profile of a run as [{idx, op, count, unit, macs}] in operator order, or [] when the run
    has none. Read from ``summary['profile']`` (a list of per-operator records, or a mapping with a
    ``operators``/``layers`` list, as ``tinyhil profile`` writes profile.json) or from ``profile.json`` in the run
    directory; the operator type from ``operator`` (or ``op``), the count from the first of ``instructions``,
    ``cycles``, ``count`` present."""
    prof = summary.get("profile")
    if prof is None and run_dir is not None and (run_dir / "profile.json").is_file():
        try:
            prof = json.loads((run_dir / "profile.json").read_text())
        except json.JSONDecodeError:
            raise ResultsError(f"{run_dir}/profile.json is not valid JSON; rerun `tinyhil profile`") from None
    if isinstance(prof, dict):
        unit = prof.get("unit")
        layers = prof.get("operators") or prof.get("layers") or []
    else:
        unit, layers = None, prof or []
    out = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            continue
        key = next((k for k in ("instructions", "cycles", "count") if layer.get(k) is not None), None)
        if key is None:
            continue
        out.append({"idx": int(layer.get("index", layer.get("idx", i))),
                    "op": str(layer.get("operator") or layer.get("op") or layer.get("type") or "?"),
                    "count": float(layer[key]),
                    "unit": layer.get("unit") or unit or (key if key != "count" else None),
                    "macs": layer.get("macs")})
    return out


# --- the database --------------------------------------------------------------------------------------------

class RunStore:
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
        run = read_run_dir(run_dir)
        digest = _content_sha256(run.path)
        old = self._db.execute("SELECT content_sha256 FROM runs WHERE run_id=?", (run.run_id,)).fetchone()
        if old and old[0] == digest:
            if self._db.execute("SELECT path FROM runs WHERE run_id=?", (run.run_id,)).fetchone()[0] != str(run.path):
                with self._db:
                    self._db.execute("UPDATE runs SET path=? WHERE run_id=?", (str(run.path), run.run_id))
            return "unchanged"
        cfg = _config_fields(run.manifest, run.summary)
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO configurations VALUES (:config_id, :model_file, :model_sha256, :variant, "
                ":method, :base, :board, :target, :core, :clock_hz, :timer_source, :compiler, :flags, "
                ":preprocessing, :data)", {"config_id": run.config_id, **cfg})
            for table in ("metrics", "inferences", "layers"):
                self._db.execute(f"DELETE FROM {table} WHERE run_id=?", (run.run_id,))
            self._db.execute("DELETE FROM tags WHERE run_id=? AND source='run'", (run.run_id,))
            self._db.execute(  # an upsert, not REPLACE: a REPLACE would cascade-delete the user's tags
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET "
                "config_id=excluded.config_id, date=excluded.date, git_commit=excluded.git_commit, "
                "tinyhil_version=excluded.tinyhil_version, path=excluded.path, "
                "content_sha256=excluded.content_sha256, imported_at=excluded.imported_at, "
                "manifest=excluded.manifest, summary=excluded.summary",
                (run.run_id, run.config_id, run.date.isoformat(), run.manifest.get("git_commit"),
                 run.manifest.get("tinyhil_version"), str(run.path), digest,
                 datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 json.dumps(run.manifest, sort_keys=True), json.dumps(run.summary, sort_keys=True)))
            self._db.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)",
                                 [(run.run_id, n, v, u, None if e is None else int(bool(e)), s)
                                  for n, v, u, e, s in summary_metrics(run.summary)])
            self._db.executemany("INSERT INTO inferences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 [(run.run_id, i, *row) for i, row in enumerate(_inference_rows(run.path))])
            self._db.executemany("INSERT INTO layers VALUES (?, ?, ?, ?, ?, ?)",
                                 [(run.run_id, l["idx"], l["op"], l["count"], l["unit"], l["macs"])
                                  for l in layer_profile(run.summary, run.path)])
            self._db.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?, 'run')",
                                 [(run.run_id, t) for t in run.tags])
        return "updated" if old else "added"

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
                for t in ("configurations", "runs", "metrics", "inferences", "layers", "tags")}

    def _runs(self, where: str, args: tuple) -> Iterator[Run]:
        tags: dict[str, list[str]] = {}
        for rid, tag in self._db.execute("SELECT run_id, tag FROM tags ORDER BY tag"):
            tags.setdefault(rid, []).append(tag)
        cur = self._db.execute(f"SELECT r.run_id, r.path, r.date, r.config_id, r.manifest, r.summary FROM runs r "
                               f"{where} ORDER BY r.date, r.run_id", args)
        for rid, path, date, cid, manifest, summary in cur.fetchall():
            manifest, summary = json.loads(manifest), json.loads(summary)
            p = Path(path) if path and Path(path).is_dir() else None
            yield Run(rid, p, datetime.fromisoformat(date), cid, variant_of(manifest, summary), summary, manifest,
                      tuple(tags.get(rid, ())))


def _like_prefix(ref: str) -> str:
    return ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _inference_rows(run_dir: Path) -> list[tuple]:
    f = run_dir / "inferences.csv"
    if not f.is_file():
        return []

    def num(v):
        return None if v in ("", None) else int(v)

    rows = []
    with open(f, newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                match = {"true": 1, "false": 0}.get((r.get("matches_reference") or "").lower())
                rows.append((r["input_id"], num(r["crop"]), num(r["label"]), num(r["prediction"]),
                             num(r["clip_prediction"]), num(r["count"]), r.get("count_unit"), match, r.get("output")))
            except (KeyError, ValueError) as exc:
                raise ResultsError(f"{f} row {len(rows) + 2} is malformed ({exc}); the run directory is damaged, "
                                   "rerun the benchmark") from None
    return rows


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
        return read_run_dir(p)
    if store is None:
        raise ResultsError(f"{ref} is not a run directory and no history database is open; pass a directory")
    return store.get(str(ref))
