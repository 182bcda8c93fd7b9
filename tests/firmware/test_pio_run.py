"""A PlatformIO user's build: ``pio run -e <env>`` from a fresh clone's root, after the set-up step, builds the
firmware of the model ``platformio.ini`` names, offline, with no tinyhil command in between."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

REPO = Path(__file__).resolve().parents[2]
SMALL = "tests/fixtures/models/raw_mini_int8.tflite"


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh clone of this repository's HEAD with the offline PlatformIO core set up (the set-up step's
    ``python -m harness.pio_setup``)."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    dest = tmp_path_factory.mktemp("pio") / "tinyhil"
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "harness.pio_setup"], cwd=dest, check=True, capture_output=True,
                   timeout=300)
    return dest


def pio_run(clone: Path, model: str, *args: str) -> subprocess.CompletedProcess:
    """``pio run ARGS`` in ``clone`` after naming ``model`` in platformio.ini's ``[tinyhil]`` section, as a user
    edits it."""
    ini = clone / "platformio.ini"
    text = ini.read_text()
    start = text.index("[tinyhil]\nmodel = ") + len("[tinyhil]\nmodel = ")
    ini.write_text(text[:start] + model + text[text.index("\n", start):])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TINYHIL_RECIPE", "PLATFORMIO_"))}
    return subprocess.run([sys.executable, "-m", "platformio", "run", *args], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.arm_toolchain
def test_pio_run_builds_the_configured_model_from_a_fresh_clone(clone):
    proc = pio_run(clone, SMALL, "-e", "stm32f746_twin")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    elf = clone / ".pio" / "build" / "stm32f746_twin" / "firmware.elf"
    with open(elf, "rb") as fh:
        symbols = {s.name for s in ELFFile(fh).get_section_by_name(".symtab").iter_symbols()}
    assert {"th_model_invoke", "th_port_init", "main"} <= symbols
    from harness.codegen.compiler import compile_model

    model_h = (clone / ".tinyhil" / "build" / "models" / compile_model(REPO / SMALL).sha256[:16] / "model.h")
    assert model_h.is_file()  # the generated model of the configured .tflite, compiled by the build itself
    import json

    recipe = json.loads((clone / ".tinyhil" / "build" / "pio" / "stm32f746_twin" / "recipe.json").read_text())
    assert "TH_MODEL_SHA" in recipe["cppdefines"]  # the same model identity as a `tinyhil bench` build


@pytest.mark.arm_toolchain
def test_pio_run_with_a_missing_model_fails_with_one_line(clone):
    proc = pio_run(clone, "no/such.tflite", "-e", "rp2040_twin")
    assert proc.returncode != 0
    assert "Error: tinyhil recipe: error: custom_tinyhil_model = no/such.tflite:" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
