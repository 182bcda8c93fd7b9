"""Real run directories for the store, report and compare tests: made once per session the way users make
them (`python -m harness.cli bench ... --limit 1`) with a small fixture model on two twins (stm32f746,
nrf52840), ~10 s each. Derived runs are written with ``report_runs.derive_run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from report_runs import FIXTURE_MODEL, clips_for_classes, tinyhil
from tests.conftest import emulator_skip_reason, shared_skip_reason


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory) -> dict[str, Path]:
    """{key: run directory} of the fixture model benchmarked on the stm32f746 and nrf52840 twins, and a second,
    identical run on the stm32f746 twin (key "stm32f746-rerun"); all tagged "ci"."""
    reason = emulator_skip_reason() or shared_skip_reason("audio/esc50-cc0")
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("real-runs")
    clips = clips_for_classes(4, tmp_path_factory.mktemp("clips"))  # the fixture model has 4 classes
    runs = {}
    for key, board in (("stm32f746", "stm32f746"), ("nrf52840", "nrf52840"), ("stm32f746-rerun", "stm32f746")):
        before = set(out.iterdir())
        proc = tinyhil("bench", "--model", str(FIXTURE_MODEL), "--data", str(clips), "--board", board, "--emulate",
                       "--limit", "1", "--out", str(out), "--tag", "ci",
                       env={"TINYHIL_DB": str(out / "bench-history.sqlite")})
        assert proc.returncode == 0, proc.stderr[-2000:]
        (runs[key],) = [p for p in set(out.iterdir()) - before if p.is_dir() and not p.name.startswith(".")]
    return runs
