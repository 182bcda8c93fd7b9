"""The CLI's output rules (harness/cli/output.py): exit statuses, width from $COLUMNS, tables that fit without
cutting identifiers, short unique run ids."""

from __future__ import annotations

import io

from rich.console import Console

from harness.cli.output import ExitStatus, console_width, fit_table, short_ids, status_for
from harness.errors import (DataError, FlashError, MemoryOverflowError, ModelError, ProtocolError, TinyhilError,
                            TransportError)

RUN = "20261129T164012Z-stm32f746-acdnet20_esc50_fold4_int8-3f2a9c1d"


def render(table, width: int) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(table)
    return buf.getvalue().splitlines()


def test_every_error_class_has_its_fixed_status():
    assert status_for(MemoryOverflowError("rp2040", "RAM", 10)) is ExitStatus.DOES_NOT_FIT == 3
    assert status_for(FlashError("x")) is status_for(TransportError("x")) is status_for(ProtocolError("x")) \
        is ExitStatus.DUT == 4
    assert status_for(ModelError("x")) is status_for(DataError("x")) is status_for(TinyhilError("x")) \
        is ExitStatus.USAGE == 2
    assert status_for(KeyError("x")) is ExitStatus.INTERNAL == 70


def test_width_comes_from_COLUMNS_else_a_default_for_pipes(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert console_width(io.StringIO()) == 80
    monkeypatch.delenv("COLUMNS")
    assert console_width(io.StringIO()) == 120
    monkeypatch.setenv("COLUMNS", "junk")
    assert console_width(io.StringIO(), default=100) == 100


def test_a_narrow_console_drops_optional_columns_and_never_cuts_an_identifier():
    cols = ["run", "model", "board", "accuracy", "instructions", "latency", "energy", "flash", "RAM"]
    rows = [[RUN, "acdnet20_esc50_fold4_int8", "stm32f746", "57.1% (n=7)", "103.6 M", "479.6 ms", "143.7 mJ",
             "451 KiB", "312 KiB"]]
    order = ["energy", "flash", "RAM", "latency"]
    for width in (80, 120):
        table = fit_table("runs", cols, rows, width, ids=["run", "model", "board"], drop_order=order)
        text = "\n".join(render(table, width))
        assert RUN in text and "acdnet20_esc50_fold4_int8" in text and "stm32f746" in text
        assert "…" not in text
        assert all(len(line) <= width for line in render(table, width) if RUN not in line)
        shown = [c.header for c in table.columns]
        assert shown[:3] == ["run", "model", "board"]
        assert "not shown for width" in text and "--wide" in text
    wide = fit_table("runs", cols, rows, 80, ids=["run"], drop_order=order, wide=True)
    assert [c.header for c in wide.columns] == cols
    roomy = fit_table("runs", cols, rows, 400, ids=["run"], drop_order=order)
    assert [c.header for c in roomy.columns] == cols and roomy.caption is None


def test_short_ids_are_unique_prefixes_of_at_least_8_characters():
    ids = ["20261129T164012Z-aaaa", "20261129T164012Z-aaab", "20261130T010101Z-bbbb"]
    short = short_ids(ids)
    assert short == {"20261129T164012Z-aaaa": "20261129T164012Z-aaaa", "20261129T164012Z-aaab":
                     "20261129T164012Z-aaab", "20261130T010101Z-bbbb": "20261130"}
    assert short_ids(["abcdefghijk"]) == {"abcdefghijk": "abcdefgh"}
    assert len(set(short.values())) == len(ids)
