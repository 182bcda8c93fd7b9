"""The official MLPerf Tiny runner, unmodified and run in place, against tinyhil firmware on the Cortex-M7 twin
(issue 12, item 6): performance mode and accuracy mode complete, with the runner's own devices and test files.

The KWS fixture (DS-CNN look-alike, int8) is built with ``TH_MLPERF_ID="kws01"``; the twin's UART is bridged to
a pseudo-terminal by socat, and the runner sees that pty as the devices file's DUT (VID:PID) through
``runner_shim.py``.  Its dataset is generated: random int8 inputs in the runner's format, one file per class.
Before the runner connects, tinyhil's own client (CRC on every line) talks to the same firmware, so both
clients are exercised on one build.  The outputs the runner parsed from ``m-results-[...]`` are checked against
the host build of the same generated C code, dequantized in Python; its latencies against tinyhil's lap counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.codegen.host import HostModel
from harness.flash.qemu import QemuTwin
from harness.orchestrate import BuildOptions, prepare
from harness.protocol.client import DeviceClient
from harness.protocol.mlperf import mlperf_defines, results_text, timer_to_us
from harness.transport.serial import SerialTransport
from tests.conftest import shared_path
from tests.mlperf.mlperf_bridge import dut_vid_pid, have_socat, pty_bridge, run_runner, write_dataset

REPO = Path(__file__).resolve().parents[2]
KWS = REPO / "tests" / "fixtures" / "models" / "kws_dscnn_int8.tflite"
RUNNER = shared_path("third_party", "mlperf-tiny-runner")
BOARD = "stm32f746"
CLASSES = 12

pytestmark = [pytest.mark.emulator, pytest.mark.needs_shared("third_party/mlperf-tiny-runner/main.py"),
              pytest.mark.skipif(not have_socat(), reason="needs socat (scripts/setup.sh installs it)")]


@pytest.fixture(scope="module")
def kws(tmp_path_factory):
    """The KWS firmware for the twin with the MLPerf id, its compiled model, target and a dataset."""
    root = tmp_path_factory.mktemp("mlperf")
    target = get_board(BOARD).target(True)
    compiled = compile_model(KWS)
    fw = prepare(compiled, target, BuildOptions(defines=mlperf_defines("kws01", compiled.output_tensor, target)),
                 build_root=root / "build")
    files = write_dataset(root / "datasets", "kws01", compiled.input_tensor.shape, CLASSES, 1, seed=12)
    return {"root": root, "fw": fw, "compiled": compiled, "target": target, "files": files}


def twin_session(kws, mode: str, tests_file: str):
    """Boot the twin, talk to it with tinyhil's client (one inference on the first file), then bridge its UART
    to a pty and run the runner in ``mode``.  Returns (tinyhil's lap count, the runner session)."""
    root, target = kws["root"], kws["target"]
    with QemuTwin(target, kws["fw"].elf, log_dir=root / f"qemu-{mode}") as twin:
        client = DeviceClient(SerialTransport(twin.url), BOARD, timeout=20.0, transcript=root / f"tinyhil-{mode}.log")
        try:
            client.wait_ready(20.0, ping_interval=1.0)
            assert client.device_info()["model"] == KWS.name
            client.load_input(kws["files"][0][2])
            laps = client.infer(1, 0)
            assert client.stats.corrupt_lines == 0
        finally:
            client.close()
        port = int(twin.url.rpartition(":")[2])
        devices = RUNNER / "devices_kws_ic_vww.yaml"
        with pty_bridge(port, root / f"pty-{mode}") as pty:
            session = run_runner(RUNNER, pty, dut_vid_pid(devices), mode, root / "datasets", devices,
                                 RUNNER / tests_file, root / f"runner-{mode}", timeout_s=600)
    print(f"\n--- MLPerf Tiny runner, mode {mode}: {session.folder}\n{session.summary()}")
    return laps, session


def test_performance_mode_completes_with_laps_from_the_timed_loop(kws):
    laps, s = twin_session(kws, "p", "tests_performance.yaml")
    assert s.returncode == 0, s.log[-3000:]
    assert "Device name retrieved: stm32f746-kws_dscnn_int8.tflite" in s.log
    assert "Device model retrieved: kws01" in s.log
    windows = [r["infer"] for r in s.results if "infer" in r]
    assert len(windows) == 5 and all(w["iterations"] == 70 and w["warmups"] == 10 for w in windows), s.results
    # m-lap-us is instructions x CPI / clock (an estimate): 70 inferences of about the count tinyhil measured
    num, den = timer_to_us(kws["target"])
    per_inference_us = laps.counts[0] * num / den
    for w in windows:
        assert abs(w["elapsed_time"] - 70 * per_inference_us) <= 0.01 * 70 * per_inference_us, w
        assert w["throughput"] == pytest.approx(70 / (w["elapsed_time"] / 1e6))
    # the runner's own verdict: a median throughput, unless its host-clock rule (loop >= 10 s) tripped
    assert re.search(r"Median throughput is +[0-9.]+ inf\./sec\.|ERROR 2 - loop exited before 10 seconds",
                     s.results_txt), s.results_txt
    assert "ERROR 1" not in s.results_txt


def test_accuracy_mode_completes_with_the_firmware_outputs(kws):
    _, s = twin_session(kws, "a", "tests_accuracy.yaml")
    assert s.returncode == 0, s.log[-3000:]
    compiled = kws["compiled"]
    host = HostModel(compiled)
    out = compiled.output_tensor
    by_file = {r["file"]: r for r in s.results if "file" in r}
    assert len(by_file) == CLASSES
    hits = 0
    for name, label, data in kws["files"]:
        x = np.frombuffer(data, dtype=np.int8).reshape(compiled.input_tensor.shape)
        want = results_text(host.run(x).tobytes(), out)
        values = [float(v) for v in want[len("m-results-["):-1].split(",")]
        assert by_file[name]["infer"]["results"] == values, name
        hits += int(np.argmax(values) == label)
    assert f"Top 1% = {100 * hits / CLASSES:2.1f}" in s.results_txt, s.results_txt
    assert re.search(r"AUC = [0-9.]+", s.results_txt), s.results_txt
