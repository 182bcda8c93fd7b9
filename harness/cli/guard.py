"""The commands' guard: nothing reaches the user as a traceback, and every failure has its fixed exit status.

A TinyhilError prints its one-line message and exits with the status of its kind (harness.cli.output.status_for:
2 usage/input, 3 does not fit, 4 DUT/link, 5 nothing to compare); Ctrl-C exits 130; any other exception (a tinyhil
bug) prints one line naming it and the file its traceback was saved to (:func:`save_traceback`) and exits 70
(EX_SOFTWARE).  typer/click exits pass through.
"""

from __future__ import annotations

import functools
from pathlib import Path

import typer
from rich.markup import escape

from harness.cli.output import ExitStatus, make_console, status_for
from harness.errors import TinyhilError

err_console = make_console(stderr=True)
CRASH_DIR_ENV = "TINYHIL_CRASH_DIR"


def save_traceback(exc: BaseException) -> Path:
    """Write the traceback of ``exc`` (plus argv and versions) to a new file and return its path.

    The folder is ``$TINYHIL_CRASH_DIR``, else ``$XDG_CACHE_HOME/tinyhil/crash`` (``~/.cache/tinyhil/crash``),
    else the system temporary folder when that one cannot be written.
    """
    import os
    import sys
    import tempfile
    import time
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    header = f"tinyhil internal error\nargv: {sys.argv!r}\npython: {sys.version.split()[0]}\n\n"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinyhil" / "crash"
    name = f"traceback-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    for folder in (Path(os.environ[CRASH_DIR_ENV]) if os.environ.get(CRASH_DIR_ENV) else cache,
                   Path(tempfile.gettempdir()) / "tinyhil-crash"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(header + text)
            return folder / name
        except OSError:
            continue
    return Path("<traceback not saved: no writable folder>")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def guarded(fn):
    """Run a command so that nothing reaches the user as a traceback.

    See the module docstring for the exit statuses.
    """
    import importlib

    import click

    # typer may vendor its own click (typer._click): its usage errors derive from that module's ClickException
    vendored = importlib.import_module(typer.BadParameter.__module__)
    passthrough = (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException,
                   vendored.ClickException, getattr(vendored, "Exit", typer.Exit))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TinyhilError as exc:
            err_console.print(f"[bold red]error:[/] {escape(_one_line(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(int(status_for(exc))) from None
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]: emulators and ports were closed; no result was recorded")
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
        except passthrough:
            raise
        except Exception as exc:  # noqa: BLE001 - the guard's purpose: no raw exception reaches the user
            saved = save_traceback(exc)
            message = _one_line(f"{type(exc).__name__}: {exc}")[:200]
            err_console.print(f"[bold red]internal error:[/] {escape(message)} (a tinyhil bug; traceback saved to "
                              f"{escape(str(saved))}; please report it with that file)", highlight=False,
                              soft_wrap=True)
            raise typer.Exit(int(ExitStatus.INTERNAL)) from None

    return wrapper
