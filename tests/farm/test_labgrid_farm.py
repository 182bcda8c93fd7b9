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
import threading
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
    assert held(farm.address) == {"twin-a": None, "twin-b": None}  # released after the run

    # the same firmware driven directly and through the place: same output bytes, same exact count
    from harness.orchestrate import connect

    x = np.random.default_rng(7).integers(-128, 128, firmware.compiled.input_tensor.shape, dtype=np.int8)
    with connect(firmware, run_dir=tmp_path / "direct") as dut:
        direct = dut.infer(x)
    with PlaceSession("twin-b", coordinator=farm.address) as s, place_connect(s, firmware, run_dir=tmp_path / "p") as dut:
        via_place = dut.infer(x)
    assert direct[0].tobytes() == via_place[0].tobytes() and direct[1] == via_place[1]


def test_clients_are_serialized_and_never_share_a_board(farm, firmware, tmp_path):
    events: list[tuple[float, str, str]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def client(tag: str, hold_s: float) -> None:
        try:
            with PlaceSession("board=stm32f746", coordinator=farm.address, wait_s=120) as s:
                with lock:
                    events.append((time.monotonic(), "acquired", f"{tag}:{s.name}"))
                with place_connect(s, firmware, run_dir=tmp_path / tag) as dut:
                    assert dut.device_info["board"] == "stm32f746"
                time.sleep(hold_s)
                with lock:
                    events.append((time.monotonic(), "releasing", f"{tag}:{s.name}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    first = [threading.Thread(target=client, args=(t, 4.0)) for t in ("c1", "c2")]
    for t in first:
        t.start()
    deadline = time.monotonic() + 60
    while sum(1 for e in events if e[1] == "acquired") < 2 and time.monotonic() < deadline and not errors:
        time.sleep(0.05)
    assert not errors, errors
    assert sorted(held(farm.address).values()) != [None, None]  # both places held
    with pytest.raises(FarmError, match=r"no place matching board=stm32f746 became free.*held by"):
        with PlaceSession("board=stm32f746", coordinator=farm.address, wait_s=1):
            pass
    third = threading.Thread(target=client, args=("c3", 0.0))
    third.start()
    for t in (*first, third):
        t.join(120)
    assert not errors, errors
    acquired = {e[2].split(":")[0]: (e[0], e[2].split(":")[1]) for e in events if e[1] == "acquired"}
    released = {e[2].split(":")[0]: e[0] for e in events if e[1] == "releasing"}
    assert {acquired["c1"][1], acquired["c2"][1]} == {"twin-a", "twin-b"}  # two clients, two boards
    assert acquired["c3"][0] > min(released["c1"], released["c2"])  # the third waited for a release
    holder = "c1" if acquired["c1"][1] == acquired["c3"][1] else "c2"
    assert acquired["c3"][0] > released[holder]  # ... of the very place it got
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
