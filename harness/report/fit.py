"""Console tables that fit the terminal: optional columns dropped in a fixed order, identifiers never cut.

Every results table of the command line (``runs``, ``show``, ``bench``, ``report``, ``compare``, ``boards``,
``inspect``, ``profile``) is built by :func:`fit_table` from plain strings:

1. Identifier columns (``ids``: run id, model/variant, board, operator) never wrap or truncate: their width is
   their longest cell.
2. While the table is wider than the console, the columns of ``drop_order`` are handled one at a time, **first
   the ones whose value is the same on every row** (removed; their value moves to the caption: "same on every
   row: target twin"), then the others in the caller's order (least important first): a column that has an
   abbreviated form (``short``: e.g. run ids as their shortest unique prefix, a compression method's short
   name) is abbreviated the first time its name comes up and removed the next time; identifier columns are
   only ever abbreviated.  A column dropped early comes back when it fits once a later, wider one is gone.
   The caption names what was abbreviated or dropped and that ``--wide`` shows it.
3. Only when every optional column is gone and the table is still too wide do the remaining non-identifier cells
   wrap (at spaces first); nothing is cut with "…".

``wide=True`` (the ``--wide`` option) keeps every column; the table may then be wider than the console.  The
returned :class:`FittedTable` carries the width it needs (``needed_width``: the whole table with ``wide``, else
its identifier columns); the CLI's console (:class:`harness.cli.output.LiveConsole`) prints it that wide
without cropping, so an identifier is never cut even on a console narrower than the identifiers.  Cells are
plain text (a run id with ``[`` stays literal); pass a :class:`rich.text.Text` for a styled cell.
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | Text


class FittedTable(Table):
    """A rich Table from :func:`fit_table`; ``needed_width``: console columns it must be printed at, uncropped."""

    needed_width: int = 0


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(str(cell))


def fit_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Cell]], width: int, *,
              ids: Sequence[str] = (), drop_order: Sequence[str] = (), wide: bool = False, right: Sequence[str] = (),
              notes: Sequence[str] = (), short: dict[str, Sequence[Cell]] | None = None) -> FittedTable:
    """A rich Table of ``columns`` x ``rows`` that fits ``width`` console columns (see the module docstring).

    ``columns``: header names; ``rows``: one cell (str or rich Text) per column; ``ids``: identifier columns
    (never cut); ``drop_order``: optional columns, least important first; ``right``: right-justified columns
    (numbers); ``notes``: caption lines printed under the table in any case; ``short``: {column: one shorter
    cell per row}, used before that column is dropped.  Returns the Table; its ``caption`` lists what was
    abbreviated or dropped."""
    rows = [[_text(c) for c in r] for r in rows]
    short = {name: [_text(c) for c in cells] for name, cells in (short or {}).items()}
    index = {name: i for i, name in enumerate(columns)}
    for r in rows:
        if len(r) != len(columns):
            raise ValueError(f"row of {len(r)} cells for {len(columns)} columns {list(columns)}")

    def build(names: list[str], dropped: list[str], same: list[str]) -> Table:
        caption = list(notes)
        if same:
            caption.append("same on every row: " + "; ".join(f"{n} {rows[0][index[n]].plain}" for n in same))
        shortened = [n for n in abbreviated if n not in dropped]
        if shortened or dropped:
            caption.append("; ".join(filter(None, (
                f"abbreviated: {', '.join(shortened)}" if shortened else "",
                f"not shown for width: {', '.join(dropped)}" if dropped else ""))) + " (--wide shows all)")
        table = FittedTable(title=title, caption="\n".join(caption) or None, caption_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False, collapse_padding=True)
        for name in names:
            ident = name in ids
            longest = max((rows_i[index[name]].cell_len for rows_i in rows), default=0)
            table.add_column(name, justify="right" if name in right else "left", no_wrap=ident,
                             overflow="ignore" if ident else "fold", min_width=longest if ident else None)
        for r in rows:
            table.add_row(*(r[index[n]] for n in names))
        return table

    keep, dropped, same, abbreviated = list(columns), [], [], []
    table = build(keep, dropped, same)
    measure = Console(width=10_000, file=open(os.devnull, "w"))  # noqa: SIM115 - a measuring console, no output
    if wide:
        table.needed_width = measure.measure(table).maximum
        return table
    constant = [n for n in drop_order if n in index and n not in ids and len(rows) > 1
                and len({r[index[n]].plain for r in rows}) == 1 and rows[0][index[n]].plain not in ("", "—")]
    steps = [(n, "drop") for n in dict.fromkeys(constant)]
    for n in drop_order:
        if n in index and n not in constant:
            seen = sum(1 for m, _ in steps if m == n)
            steps.append((n, "short" if n in short and not seen else "drop"))
    for name, action in steps:
        if measure.measure(table).maximum <= width:
            break
        if action == "short":
            abbreviated.append(name)
            for r, cell in zip(rows, short[name]):
                r[index[name]] = cell
        elif name in keep and name not in ids:
            keep.remove(name)
            (same if name in constant else dropped).append(name)
        else:
            continue
        table = build(keep, dropped, same)
    for name in reversed(same + dropped):  # last removed (most important) first: a column dropped early may
        trial = [n for n in columns if n in keep or n == name]  # fit again once a later, wider one is gone
        candidate = build(trial, [d for d in dropped if d != name], [d for d in same if d != name])
        if measure.measure(candidate).maximum <= width:
            keep, table = trial, candidate
            dropped[:] = [d for d in dropped if d != name]
            same[:] = [d for d in same if d != name]
    table.needed_width = measure.measure(table).minimum
    return table


def visible_columns(table: Table) -> list[str]:
    """The header names of ``table``'s columns (what a test or a caller checks after fitting)."""
    return [str(c.header) for c in table.columns]
