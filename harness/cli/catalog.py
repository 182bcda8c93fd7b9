"""Commands about boards: ``boards`` (the catalog) and ``probes`` (what is attached).

Tables fit the terminal (:mod:`harness.report.fit`); ``--json`` prints one JSON document instead
(:mod:`harness.cli.records`).  Registered on the main typer app by :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console

from harness.cli.history import JsonOpt, WideOpt
from harness.cli.models import CatalogOpt

console = Console()  # replaced by register() with the CLI's console
BOARDS_DROP = ["title", "flasher", "twin", "core"]


def register(app: typer.Typer, cli_console: Console, guarded: Callable) -> None:
    """Add boards and probes to ``app``, printing on ``cli_console``."""
    global console
    console = cli_console
    for fn in (boards, probes):
        app.command()(guarded(fn))


def boards(catalog: Optional[Path] = CatalogOpt, json_out: bool = JsonOpt, wide: bool = WideOpt) -> None:
    """Print the board catalog (sizes in bytes, clock in MHz, twin machine)."""
    from harness.boards import load_catalog
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA, board_record
    from harness.report.fit import fit_table

    catalog_boards = list(load_catalog(catalog).values())
    if json_out:
        print_json({"schema": SCHEMA, "boards": [board_record(b) for b in catalog_boards]})
        return
    cols = ["board", "title", "core", "clock MHz", "flash B", "RAM B", "flasher", "twin"]
    rows = [[b.name, b.title, b.core, f"{b.clock_hz / 1e6:g}", f"{b.flash_bytes:,}", f"{b.ram_bytes:,}",
             f"{b.flasher.kind}:{b.flasher.target}", f"{b.twin.machine} ({b.twin.cpu})" if b.twin else
             "none (no QEMU machine)"] for b in catalog_boards]
    console.print(fit_table("tinyhil board catalog", cols, rows, console.width, ids=["board"], wide=wide,
                            drop_order=BOARDS_DROP, right=["clock MHz", "flash B", "RAM B"]))


def probes(catalog: Optional[Path] = CatalogOpt, json_out: bool = JsonOpt, wide: bool = WideOpt) -> None:
    """List attached debug probes (pyocd) and serial ports (pyserial) and the catalog boards each may be."""
    from harness.boards import load_catalog
    from harness.cli.output import print_json
    from harness.cli.records import SCHEMA
    from harness.flash.probes import list_ports, list_probes, match
    from harness.report.fit import fit_table

    found, why = list_probes()
    rows = match(found, list_ports(), load_catalog(catalog))
    if json_out:
        print_json({"schema": SCHEMA, "not_listed": why or None, "attached": [{
            "probe": r.probe.unique_id if r.probe else None,
            "probe_name": f"{r.probe.vendor} {r.probe.product}".strip() if r.probe else None,
            "port": r.port.device if r.port else None, "usb_id": r.port.usb_id if r.port else None,
            "boards": list(r.boards)} for r in rows]})
        return
    cols = ["probe unique ID", "probe", "serial port", "USB VID:PID", "board", "use"]
    body = []
    for r in rows:
        what = f"{r.probe.vendor} {r.probe.product}".strip() if r.probe else (r.port.description if r.port else "")
        use = " ".join(x for x in (f"--probe {r.probe.unique_id}" if r.probe else "",
                                    f"--port {r.port.device}" if r.port else "") if x)
        body.append([r.probe.unique_id if r.probe else "—", what, r.port.device if r.port else "—",
                     r.port.usb_id if r.port else "—", ", ".join(r.boards) or "?", use])
    console.print(fit_table("attached probes and serial ports", cols, body, console.width, wide=wide,
                            ids=["probe unique ID", "serial port"], drop_order=["USB VID:PID", "probe", "use"]))
    if why:
        console.print(f"pyocd probes not listed: {why}", highlight=False)
    if not rows:
        console.print("nothing attached; twins need no hardware: tinyhil bench --board NAME --emulate")
