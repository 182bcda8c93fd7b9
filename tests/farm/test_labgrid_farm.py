"""A real labgrid farm on localhost: labgrid-coordinator and labgrid-exporter (from PyPI), ser2net (Debian) in
RFC 2217 mode started by the exporter, socat bridging pseudo-terminals to QEMU twins' UARTs, two places tagged
board=stm32f746, target=twin.  Everything is started by the fixture and stopped afterwards (checked).

* ``tinyhil bench --place`` runs the fixture model through coordinator, exporter and RFC 2217: bit-exact with
  the host reference, and the same output bytes and exact instruction count as the twin driven directly.
* Clients are serialized: two clients get the two places at once, a third waits for the first release (labgrid's
  reservation queue), a client that cannot wait is told who holds the places; nobody shares a board.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.errors import FarmError
from harness.farm import Coordinator, PlaceSession, place_connect
from harness.farm.localfarm import LocalFarm, missing_tools

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "models" / "raw_mini_int8.tflite"

pytestmark = [pytest.mark.emulator,
              pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())} "
                                 "(scripts/setup.sh installs them)"),
              pytest.mark.skipif(os.geteuid() != 0, reason="the exporter's serial ports must live under /dev (root)")]


@pytest.fixture(scope="module")
def firmware():
    from harness.boards import get_board
    from harness.orchestrate import prepare

    return prepare(MINI, get_board("stm32f746").target(True))


@pytest.fixture(scope="module")
def farm(firmware):
    with LocalFarm() as f:
        f.add_twin_place("twin-a", firmware.target, firmware.elf)
        f.add_twin_place("twin-b", firmware.target, firmware.elf)
        yield f


def held(address: str) -> dict:
    with Coordinator(address) as c:
        return {p.name: p.acquired for p in c.places()}


def test_bench_through_a_place_is_bit_exact_and_counts_like_the_twin(farm, firmware, tmp_path, shared_dir):
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'models'}"}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "bench", "--place", "twin-a", "--coordinator",
                           farm.address, "-m", str(MINI), "-d", str(shared_dir / "audio" / "esc50-cc0"), "--limit",
                           "1", "-o", str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "rfc2217://127.0.0.1:" in proc.stdout and "twin-a" in proc.stdout
    from harness.rundir import is_run_dir, read_run

    runs = [p for p in tmp_path.iterdir() if is_run_dir(p)]
    assert len(runs) == 1
    run = read_run(runs[0])
    assert run.summary.bit_exact is True and run.summary.board == "stm32f746" and run.summary.target == "twin"
    assert run.summary.counts.unit == "instructions" and (runs[0] / "serial.log").is_file()
    assert "place-twin-a" in run.tags  # which board of the farm ran it
    assert held(farm.address) == {"twin-a": None, "twin-b": None}  # released after the run

    # the same firmware driven directly and through the place: same output bytes, same exact count
    from harness.orchestrate import connect

    x = np.random.default_rng(7).integers(-128, 128, firmware.compiled.input_tensor.shape, dtype=np.int8)
    with connect(firmware, run_dir=tmp_path / "direct") as dut:
        direct = dut.infer(x)
    with PlaceSession("twin-b", coordinator=farm.address) as s, \
            place_connect(s, firmware, run_dir=tmp_path / "p") as dut:
        via_place = dut.infer(x)
    assert direct[0].tobytes() == via_place[0].tobytes() and direct[1] == via_place[1]


def _client(farm, hold_s: float, wait_s: float = 120.0) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'models'}"}
    return subprocess.Popen([sys.executable, str(Path(__file__).with_name("hold_place.py")), farm.address,
                             "board=stm32f746", str(hold_s), str(wait_s)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _said(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=180)
    said = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.splitlines() if " " in line}
    assert proc.returncode == 0 and "acquired" in said and said.get("board") == "stm32f746", out[-2000:]
    return said


def test_clients_are_serialized_and_never_share_a_board(farm):
    """Three client processes ask for board=stm32f746 (two places): two get one each at once, the third waits
    for the first release; a client that cannot wait is told who holds the places."""
    c1, c2 = _client(farm, 6.0), _client(farm, 6.0)
    deadline = time.monotonic() + 90
    while sorted(v is not None for v in held(farm.address).values()) != [True, True]:
        assert time.monotonic() < deadline and c1.poll() is None and c2.poll() is None, "both places not held"
        time.sleep(0.1)
    with pytest.raises(FarmError, match=r"no place matching board=stm32f746 became free.*held by"):
        with PlaceSession("board=stm32f746", coordinator=farm.address, wait_s=1):
            pass
    c3 = _client(farm, 0.0)
    s1, s2, s3 = _said(c1), _said(c2), _said(c3)
    first = {s1["acquired"].split()[1], s2["acquired"].split()[1]}
    assert first == {"twin-a", "twin-b"}  # two clients, two boards
    got = s3["acquired"].split()[1]
    before = s1 if s1["acquired"].split()[1] == got else s2  # the client that had the third's place
    assert float(s3["acquired"].split()[0]) > float(before["releasing"].split()[0])  # it waited for the release
    assert held(farm.address) == {"twin-a": None, "twin-b": None}


def test_a_study_over_places_runs_one_cell_per_acquired_place(farm, tmp_path, shared_dir):
    """Two repeats of the fixture model on places board=stm32f746: one worker per place, both cells done and
    bit-exact, each on a different place, the places released afterwards."""
    from harness.study.plan import run_study
    from harness.study.schema import load_study

    study_file = tmp_path / "places.yaml"
    study_file.write_text(f"name: places\nmodels: [{{path: {MINI}}}]\nplaces: [board=stm32f746]\n"
                          f"coordinator: {farm.address}\ndata: {shared_dir / 'audio' / 'esc50-cc0'}\nlimit: 1\n"
                          "repeats: 2\nout: results\nreport: null\n")
    lines: list[str] = []
    result = run_study(load_study(study_file), log=lines.append)
    assert len(result.outcome.ran) == 2, lines
    assert all(rec["status"] == "done" and rec["bit_exact"] is True for _, rec in result.outcome.ran), lines
    assert {rec["place"] for _, rec in result.outcome.ran} == {"twin-a", "twin-b"}, lines
    from harness.rundir import read_run

    assert {t for _, rec in result.outcome.ran for t in read_run(rec["run_dir"]).tags if t.startswith("place-")} \
        == {"place-twin-a", "place-twin-b"}
    assert held(farm.address) == {"twin-a": None, "twin-b": None}


PLACE_TEST = """
from pathlib import Path

import sys

import numpy as np
import pytest


@pytest.fixture
def tinyhil_model():
    return Path({model!r})


def test_on_the_place(tinyhil_dut, tinyhil_board, tinyhil_options):
    assert tinyhil_board.name == "stm32f746" and tinyhil_options.place.name == "twin-a"
    x = np.random.default_rng(3).integers(-128, 128, tuple(tinyhil_dut.input_tensor.shape), dtype=np.int8)
    out, counts = tinyhil_dut.check(x)  # bit-exact with the host TFLM interpreter, or it raises
    assert counts.unit == "instructions" and counts.value > 0
    # the place is held by a child process: no gRPC threads here to break plugins that fork (pytest-embedded)
    assert "grpc" not in sys.modules
"""


def test_the_pytest_plugin_runs_on_a_place(farm, tmp_path):
    """``pytest --tinyhil-place twin-a``: the plugin holds the place for the session, takes the board from its
    tags and reaches the DUT through RFC 2217; the place is free again afterwards."""
    (tmp_path / "test_place.py").write_text(PLACE_TEST.format(model=str(MINI)))
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:labgrid -p no:cacheprovider\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--tinyhil-place", "twin-a",
                           "--tinyhil-coordinator", farm.address, "test_place.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout and "labgrid place twin-a (stm32f746, via rfc2217://" in proc.stdout
    assert held(farm.address) == {"twin-a": None, "twin-b": None}


def test_an_unknown_place_is_one_line_listing_the_places(farm):
    with pytest.raises(FarmError) as err:
        with PlaceSession("twin-z", coordinator=farm.address):
            pass
    msg = str(err.value)
    assert "\n" not in msg and "twin-a" in msg and "board=stm32f746" in msg


def test_the_farm_stops_every_process_it_started(firmware):
    farm = LocalFarm()
    farm.start()
    place = farm.add_twin_place("twin-stop", firmware.target, firmware.elf)
    procs = list(farm._procs)
    qemu = place.twin._proc
    with PlaceSession("twin-stop", coordinator=farm.address) as s:  # ser2net runs while the place is acquired
        ser2net = subprocess.run(["pgrep", "-f", f"ser2net.*{place.link}"], capture_output=True, text=True)
        assert ser2net.stdout.split(), "ser2net not started by the exporter"
        assert s.serial_url.startswith("rfc2217://")
    farm.stop()
    assert all(p.poll() is not None for p in procs) and qemu.poll() is not None
    assert not place.link.exists()
    left = subprocess.run(["pgrep", "-f", f"ser2net.*{place.link}|socat.*{place.link}"], capture_output=True, text=True)
    assert not left.stdout.split(), f"left running: {left.stdout}"
