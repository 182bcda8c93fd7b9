"""The README's set-up on Debian 12's own Python (PEP 668: ``pip install`` outside a virtual environment is refused
with externally-managed-environment): ``scripts/setup.sh`` makes ``.venv`` with it and installs tinyhil there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PY = Path("/usr/bin/python3")


def externally_managed(python: Path) -> bool:
    """Whether ``python`` is a distribution Python that refuses pip outside a venv (an EXTERNALLY-MANAGED file)."""
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return (Path(out) / "EXTERNALLY-MANAGED").is_file()


@pytest.mark.skipif(not SYSTEM_PY.exists() or not externally_managed(SYSTEM_PY),
                    reason="no externally-managed distribution Python at /usr/bin/python3 (not Debian 12 or later)")
def test_setup_installs_into_a_venv_made_with_debians_python(tmp_path):
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "tinyhil"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    env = {**{k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
           "PYTHON": str(SYSTEM_PY), "TINYHIL_SKIP_APT": "1", "TINYHIL_EXTRAS": "test"}
    proc = subprocess.run(["bash", "scripts/setup.sh"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "creating the virtual environment .venv (/usr/bin/python3" in proc.stdout
    venv_py = clone / ".venv" / "bin" / "python"
    where = subprocess.run([str(venv_py), "-c", "import harness, tflite_micro; print(harness.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(clone / "harness" / "__init__.py")  # the clone's code, installed into its own venv
    boards = subprocess.run([str(venv_py), "-m", "harness.cli", "boards"], cwd=clone, capture_output=True,
                            text=True, timeout=120)
    assert boards.returncode == 0 and "stm32f746" in boards.stdout
    again = subprocess.run(["bash", "scripts/setup.sh"], cwd=clone, env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0 and "installing tinyhil" not in again.stdout  # idempotent: nothing to do
