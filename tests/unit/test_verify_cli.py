"""The CLI guard: a bad model is one line and exit 2; any unexpected exception is one line naming a saved
traceback file and exit 70, never a raw traceback (nor click's bare "Aborted." for an EOFError)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app, guarded

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from mutate import targeted_mutants  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("kind", ["vtable_soffset", "scale_nan", "output_is_input", "truncated_0.5",
                                  "op_input_oob", "scalar_output"])
@pytest.mark.parametrize("command", ["compile", "inspect"])
def test_bad_model_is_one_line_and_exit_2(kind, command, tmp_path):
    raw = (FIXTURES / "kws_dscnn_int8.tflite").read_bytes()
    m = next(m for m in targeted_mutants(raw) if m.kind == kind)
    path = tmp_path / "bad.tflite"
    path.write_bytes(m.data)
    args = [command, "--model", str(path)] + (["--out", str(tmp_path / "c")] if command == "compile" else [])
    res = CliRunner().invoke(app, args)
    out = res.stdout + (res.stderr if res.stderr_bytes is not None else "")
    assert res.exit_code == 2, out
    assert len(_lines(out)) == 1 and out.startswith("error: bad.tflite"), out
    assert "Traceback" not in out and not (tmp_path / "c").exists()


@pytest.mark.parametrize("exc", [IndexError("tuple index out of range"), KeyError(7), EOFError(),
                                 ZeroDivisionError("division by zero\nsecond line")])
def test_unexpected_exception_is_one_line_and_a_saved_traceback(exc, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYHIL_CRASH_DIR", str(tmp_path / "crash"))
    local = typer.Typer()

    @local.command()
    @guarded
    def boom() -> None:
        raise exc

    @local.command()
    def other() -> None:  # a second command so that `boom` is addressed by name
        pass

    res = CliRunner().invoke(local, ["boom"])
    out = res.stdout + (res.stderr if res.stderr_bytes is not None else "")
    assert res.exit_code == 70, out
    lines = _lines(out)
    assert len(lines) == 1 and lines[0].startswith("internal error: " + type(exc).__name__), out
    assert "Aborted" not in out and "Traceback" not in out
    saved = list((tmp_path / "crash").glob("traceback-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in out.replace("\n", "")
    text = saved[0].read_text()
    assert "Traceback (most recent call last)" in text and type(exc).__name__ in text and "raise exc" in text


def test_tinyhil_errors_and_typer_exits_pass_through_the_guard(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYHIL_CRASH_DIR", str(tmp_path / "crash"))
    local = typer.Typer()

    @local.command()
    @guarded
    def done() -> None:
        raise typer.Exit(3)

    @local.command()
    def other() -> None:
        pass

    res = CliRunner().invoke(local, ["done"])
    assert res.exit_code == 3 and not (tmp_path / "crash").exists()
