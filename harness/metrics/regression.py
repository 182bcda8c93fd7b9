"""Regression check of one run against a baseline run (the nightly question: did anything get worse?).

Per metric: baseline, current, change, the threshold, and a verdict. A run regresses when (defaults):
- top-1 accuracy drops by more than 0.5 percentage points;
- the median instruction or cycle count per inference rises by more than 2 % (compared only in the same unit);
- the median latency rises by more than 2 % (estimated or measured alike, compared only when both runs have it);
- flash or RAM use rises by more than 1,024 bytes;
- the run loses bit-exactness (baseline bit-exact, current not, or not checked).
Energy per inference and the tensor arena are reported and only fail when a threshold is configured.

Thresholds come from ``[tool.tinyhil.compare]`` in the nearest ``pyproject.toml`` (searched from the current
directory upwards) or a file given explicitly; keys are the fields of :class:`Thresholds`, e.g.::

    [tool.tinyhil.compare]
    accuracy_drop_points = 0.5
    count_increase_pct = 2.0
    flash_increase_bytes = 1024
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ResultsError
from harness.rundir import Counts, Energy, Latency, Memory, Run, energy_uj, latency_us

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Thresholds(BaseModel):
    """Regression thresholds; None disables a check (the metric is still reported). Units in the names:
    percentage points, percent, bytes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accuracy_drop_points: float | None = Field(0.5, ge=0)
    count_increase_pct: float | None = Field(2.0, ge=0)
    latency_increase_pct: float | None = Field(2.0, ge=0)
    energy_increase_pct: float | None = Field(None, ge=0)
    flash_increase_bytes: int | None = Field(1024, ge=0)
    ram_increase_bytes: int | None = Field(1024, ge=0)
    arena_increase_bytes: int | None = Field(None, ge=0)
    bit_exact: bool = True


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` (default: the current directory), or None."""
    start = (start or Path.cwd()).resolve()
    for d in (start, *start.parents):
        if (d / "pyproject.toml").is_file():
            return d / "pyproject.toml"
    return None


def load_thresholds(path: Path | None = None) -> tuple[Thresholds, Path | None]:
    """Thresholds from ``[tool.tinyhil.compare]`` of ``path`` (default: :func:`find_pyproject`), defaults for
    keys it leaves out; returns them with the file they came from (None: all defaults). Raises ResultsError
    for unreadable TOML or an unknown/invalid key."""
    path = path or find_pyproject()
    if path is None:
        return Thresholds(), None
    try:
        doc = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ResultsError(f"cannot read {path}: {exc.strerror}; pass an existing --config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ResultsError(f"{path} is not valid TOML ({exc}); fix it") from None
    section = doc.get("tool", {}).get("tinyhil", {}).get("compare")
    if section is None:
        return Thresholds(), None
    try:
        return Thresholds(**section), Path(path)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ResultsError(f"{path} [tool.tinyhil.compare] {key}: {err['msg']}; valid keys: "
                           f"{', '.join(Thresholds.model_fields)}") from None


@dataclass(frozen=True)
class Change:
    """One compared metric. ``delta`` is current − baseline in the metric's unit; ``pct`` the relative change
    (%); ``status``: "ok", "REGRESSION", "improved", "unchanged", or "n/a" (missing or not comparable)."""

    metric: str
    unit: str
    baseline: float | bool | None
    current: float | bool | None
    delta: float | None
    pct: float | None
    limit: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """All changes between two runs, and the configuration fields in which they differ."""

    baseline: Run
    current: Run
    changes: list[Change]
    config_differences: list[str]
    thresholds_file: Path | None = None

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.status == "REGRESSION"]


def _verdict(delta: float, limit: float | None, worse_if_up: bool = True) -> str:
    worse = delta if worse_if_up else -delta
    if delta == 0:
        return "unchanged"
    if limit is not None and worse > limit:
        return "REGRESSION"
    return "improved" if worse < 0 else "ok"


def _relative(metric: str, unit: str, b, c, limit_pct: float | None, note: str = "") -> Change:
    if b is None or c is None:
        return Change(metric, unit, b, c, None, None, _pct_text(limit_pct), "n/a",
                      note or "not in both runs")
    delta = float(c) - float(b)
    pct = 100.0 * delta / float(b) if b else None
    status = _verdict(pct if pct is not None else delta, limit_pct)
    return Change(metric, unit, b, c, delta, pct, _pct_text(limit_pct), status, note)


def _absolute(metric: str, unit: str, b, c, limit: float | None, worse_if_up: bool = True, scale: float = 1.0,
              limit_text: str | None = None) -> Change:
    if b is None or c is None:
        return Change(metric, unit, b, c, None, None, limit_text or "—", "n/a", "not in both runs")
    delta = (float(c) - float(b)) * scale
    pct = 100.0 * (float(c) - float(b)) / float(b) if b else None
    text = limit_text or ("report only" if limit is None else f"{'+' if worse_if_up else '−'}{limit:g} {unit}")
    return Change(metric, unit, b, c, delta, pct, text, _verdict(delta, limit, worse_if_up))


def _pct_text(limit: float | None) -> str:
    return "report only" if limit is None else f"+{limit:g} %"


def compare_runs(baseline: Run, current: Run, thresholds: Thresholds = Thresholds(),
                 thresholds_file: Path | None = None) -> Comparison:
    """Compare ``current`` with ``baseline`` metric by metric (see the module docstring for the rules). A metric
    missing from either run is reported "n/a" (never compared as 0)."""
    bs, cs = baseline.summary, current.summary
    changes: list[Change] = []
    changes.append(_absolute("accuracy", "points", _pct(bs.accuracy), _pct(cs.accuracy),
                             thresholds.accuracy_drop_points, worse_if_up=False,
                             limit_text=None if thresholds.accuracy_drop_points is None
                             else f"−{thresholds.accuracy_drop_points:g} points"))
    bc, cc = bs.counts or Counts(), cs.counts or Counts()
    if bc.unit == cc.unit:
        changes.append(_relative(f"{bc.unit or 'count'} (median)", bc.unit or "", bc.median, cc.median,
                                 thresholds.count_increase_pct))
    else:
        changes.append(Change("instructions/cycles (median)", "", bc.median, cc.median, None, None,
                              _pct_text(thresholds.count_increase_pct), "n/a",
                              f"not comparable: {bc.unit or 'not measured'} vs {cc.unit or 'not measured'}"))
    bl, cl = bs.latency or Latency(), cs.latency or Latency()
    est = " (est.)" if bl.estimate or cl.estimate else ""
    changes.append(_relative(f"latency{est} (median)", "µs", latency_us(bs), latency_us(cs),
                             thresholds.latency_increase_pct))
    be, ce = bs.energy or Energy(), cs.energy or Energy()
    est = " (est.)" if be.estimate or ce.estimate else ""
    changes.append(_relative(f"energy{est} per inference", "µJ", energy_uj(bs), energy_uj(cs),
                             thresholds.energy_increase_pct))
    bm, cm = bs.memory or Memory(), cs.memory or Memory()
    changes.append(_absolute("flash", "B", bm.flash_bytes, cm.flash_bytes, thresholds.flash_increase_bytes))
    changes.append(_absolute("RAM", "B", bm.ram_bytes, cm.ram_bytes, thresholds.ram_increase_bytes))
    changes.append(_absolute("tensor arena", "B", bs.arena_bytes, cs.arena_bytes, thresholds.arena_increase_bytes))
    changes.append(_bit_exact(bs.bit_exact, cs.bit_exact, cs.mismatches, thresholds.bit_exact))
    return Comparison(baseline, current, changes, config_differences(baseline, current), thresholds_file)


def _pct(v):
    return None if v is None else 100.0 * float(v)


def _bit_exact(b, c, mismatches, check: bool) -> Change:
    lost = b is True and c is not True
    status = "REGRESSION" if lost and check else ("unchanged" if b == c else ("improved" if c is True else "ok"))
    note = ""
    if c is False:
        note = f"{'?' if mismatches is None else mismatches} inferences differ from the reference"
    elif c is None:
        note = "not checked in the current run"
    return Change("bit-exact vs reference", "", b, c, None, None, "no loss" if check else "report only", status, note)


def config_differences(a: Run, b: Run) -> list[str]:
    """Names of configuration fields that differ (model hash, variant, board, target, flags, data...)."""
    if a.config_id == b.config_id:
        return []
    fa, fb = a.config_fields(), b.config_fields()
    return [k for k in fa if fa[k] != fb[k]]


def comparison_table(cmp: Comparison, *, width: int | None = None, wide: bool = False):
    """A rich Table of the changes (the run ids are printed above it by the caller, whole): metric, baseline,
    current, change, threshold, verdict, note; fitted to
    ``width`` console columns by :func:`harness.report.fit.fit_table` (the note and the threshold are dropped
    first, then the change is shown in % only, then the baseline is dropped; ``None``: every column)."""
    from rich.text import Text

    from harness.report.fit import fit_table

    style = {"REGRESSION": "bold red", "improved": "green"}
    rows = [[c.metric, _show(c.baseline, c.unit), _show(c.current, c.unit), _delta(c), c.limit,
             Text(c.status, style=style.get(c.status, "")), c.note] for c in cmp.changes]
    return fit_table("current vs baseline",
                     ["metric", "baseline", "current", "change", "threshold", "verdict", "note"], rows,
                     width or 1_000_000, ids=["metric"], drop_order=["note", "threshold", "change", "baseline"],
                     wide=wide, right=["baseline", "current", "change", "threshold"],
                     short={"change": [f"{c.pct:+.2f} %" if c.pct is not None and c.unit != "points" else _delta(c)
                                       for c in cmp.changes]})


def _show(v, unit: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if unit == "points":
        return f"{v:.1f} %"
    return f"{v:,.0f} {unit}".strip() if float(v).is_integer() or abs(v) >= 100 else f"{v:,.2f} {unit}".strip()


def _delta(c: Change) -> str:
    if c.delta is None:
        return "—"
    if c.unit == "points":
        return f"{c.delta:+.2f} points"
    pct = f" ({c.pct:+.2f} %)" if c.pct is not None else ""
    return f"{c.delta:+,.0f} {c.unit}{pct}".strip()
