"""The MLPerf Tiny runner's lines without an emulator: the build defines (harness/protocol/mlperf.py), the C
formatting of targets/common/th_mlperf.c on the host DUT (the real protocol code compiled with gcc), and
tinyhil's client skipping those lines."""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import numpy as np
import pytest

from harness.boards import get_board
from harness.codegen.compiler import compile_model
from harness.errors import ModelError
from harness.protocol.client import DeviceClient
from harness.protocol.lines import LineReader, with_crc
from harness.protocol.mlperf import (is_mlperf_line, mlperf_defines, results_text, scale_fraction, timer_to_us)
from hostdut import HostDut, build_host_dut, fake_model_output

from tests.conftest import REPO

KWS = REPO / "tests" / "fixtures" / "models" / "kws_dscnn_int8.tflite"
INPUT_BYTES = 64


def tensor(dtype: str, scale: float, zero_point: int):
    """Just what mlperf_defines/results_text read of an output tensor."""
    return SimpleNamespace(dtype=dtype, quant=SimpleNamespace(scale=(scale,), zero_point=(zero_point,)))


# ---- build defines ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.00390625, 0.1, 1 / 3, 0.0123, 7.5e-9, 3.0, 1024.0])
def test_scale_fraction_is_the_float32_scale_exactly(scale):
    mult, shift = scale_fraction(scale)
    assert 0 <= shift <= 60 and (mult % 2 == 1 or shift == 0)  # no spare factor of two
    assert mult / 2**shift == float(np.float32(scale))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), 1e-30])
def test_scale_fraction_refuses_what_cannot_be_printed_exactly(scale):
    with pytest.raises(ModelError, match="scale"):
        scale_fraction(scale)


def test_timer_to_us_is_cpi_over_clock_on_a_twin_and_one_over_clock_on_a_board():
    m7 = get_board("stm32f746")
    assert timer_to_us(m7.target(True)) == (89, 21600)  # CPI 0.89 at 216 MHz, an estimate
    assert timer_to_us(m7.target(False)) == (1, 216)  # cycles at 216 MHz, measured


def test_defines_for_the_kws_fixture_and_refusals():
    compiled = compile_model(KWS)
    target = get_board("stm32f746").target(True)
    d = mlperf_defines("kws01", compiled.output_tensor, target)
    assert d["TH_MLPERF_ID"] == '"kws01"' and d["TH_MLPERF_OUT_ZERO_POINT"] == "-128"
    assert (d["TH_MLPERF_OUT_MULT"], d["TH_MLPERF_OUT_SHIFT"]) == ("1ll", "8")  # 1/256
    with pytest.raises(ModelError, match="kws1.*kws01"):
        mlperf_defines("kws1", compiled.output_tensor, target)
    with pytest.raises(ModelError, match="float32.*quantized"):
        mlperf_defines("kws01", SimpleNamespace(dtype="float32", quant=None), target)


def test_the_runner_line_forms_are_recognized_and_v2_lines_are_not():
    for line in ("m-name-dut-[stm32f746-kws]", "m-model-[kws01]", "m-profile-[tinyhil protocol 2]",
                 "m-lap-us-123", "m-results-[0.1,-0.25]"):
        assert is_mlperf_line(line), line
    for line in ("m-ready", "m-lap-us-12*0badc0de", "m-results-hex-00ff*12345678", "m-lap-instructions-5",
                 "m-model-[]", "m-lap-us-", "m-results-[0.1]x"):
        assert not is_mlperf_line(line), line


# ---- the C formatting, on the host DUT -----------------------------------------------------------------------
HOST_OUTPUTS = [("int8", 0.00390625, -128), ("uint8", 0.0123, 7), ("int16", 1 / 3, -5)]


def host_defines(dtype: str, scale: float, zero_point: int) -> dict:
    mult, shift = scale_fraction(scale)
    return {"TH_FAKE_INPUT_BYTES": f"{INPUT_BYTES}u", "TH_MLPERF_ID": '"kws01"', "TH_MLPERF_US_NUM": "3u",
            "TH_MLPERF_US_DEN": "7u", "TH_MLPERF_OUT_DTYPE": {"int8": 1, "uint8": 2, "int16": 3}[dtype],
            "TH_MLPERF_OUT_ZERO_POINT": zero_point, "TH_MLPERF_OUT_MULT": f"{mult}ll", "TH_MLPERF_OUT_SHIFT": shift}


def plain_reply(dut: HostDut, reader: LineReader, command: str) -> list[str]:
    """Send ``command%`` without a CRC (as the runner does); the lines before m-ready."""
    dut.transport.write(command.encode() + b"%")
    lines = []
    while (line := reader.readline(5.0)) != "m-ready":
        lines.append(line)
    return lines


@pytest.mark.parametrize("dtype,scale,zero_point", HOST_OUTPUTS)
def test_plain_commands_get_the_runner_lines_with_exact_dequantized_results(tmp_path, dtype, scale, zero_point):
    exe = build_host_dut(tmp_path, host_defines(dtype, scale, zero_point))
    out = tensor(dtype, scale, zero_point)
    with HostDut(exe, "pty", env={"TH_HOST_BOARD": "hostboard"}) as dut:
        reader = LineReader(dut.transport)
        assert reader.readline(5.0) == "m-ready"
        assert plain_reply(dut, reader, "name")[-1] == "m-name-dut-[hostboard-fake]"
        assert plain_reply(dut, reader, "profile")[-2:] == ["m-profile-[tinyhil protocol 2]", "m-model-[kws01]"]
        for seed in range(6):  # Fletcher-16 bytes of random inputs: q values all over the dtype's range
            data = np.random.default_rng(seed).integers(0, 256, INPUT_BYTES, dtype=np.uint8).tobytes()
            assert plain_reply(dut, reader, f"db load {INPUT_BYTES}")[0].startswith("m-[Expecting 64 bytes]")
            for off in range(0, INPUT_BYTES, 31):  # the runner's 31-byte db lines
                plain_reply(dut, reader, "db " + data[off:off + 31].hex())
            lines = plain_reply(dut, reader, "infer 3 1")
            laps = [int(re.fullmatch(r"m-lap-ticks-(\d+)\*[0-9a-f]{8}", x).group(1)) for x in lines if "lap-ticks" in x]
            us = [int(x[len("m-lap-us-"):]) for x in lines if x.startswith("m-lap-us-")]
            assert len(laps) == 3 and len(us) == 2
            assert us[1] - us[0] in {sum(laps) * 3 // 7, sum(laps) * 3 // 7 + 1}  # floor(t * 3/7) at both ends
            want = results_text(fake_model_output(data), out)
            assert lines[-1] == want and all(not is_mlperf_line(x) for x in lines[:-3])
            assert plain_reply(dut, reader, "results")[-1] == want
        assert plain_reply(dut, reader, "infer 0")[-1].startswith("e-infer-usage")  # refused: no lap-us lines


def test_tinyhil_client_sees_no_runner_lines_on_an_mlperf_build(tmp_path):
    """The client sends a CRC with every command, so the firmware adds nothing; the protocol is unchanged."""
    exe = build_host_dut(tmp_path, host_defines(*HOST_OUTPUTS[0]))
    with HostDut(exe, "pty") as dut:
        client = DeviceClient(dut.transport, "host", timeout=5.0)
        client.wait_ready(5.0)
        data = os.urandom(INPUT_BYTES)
        out, laps = client.run_inference(data, n=2)
        assert out == fake_model_output(data) and laps.counts == (INPUT_BYTES, INPUT_BYTES)
        assert client.device_info()["protocol"] == 2 and client.stats.corrupt_lines == 0


class ScriptedDut:
    """A transport answering each command with fixed v2 lines (CRC added) and runner lines in between."""

    def __init__(self, replies: dict[str, list[str]]) -> None:
        self.replies, self.pending = replies, bytearray()

    def write(self, data: bytes) -> None:
        for part in data.split(b"%")[:-1]:
            command = part.decode().partition("*")[0]
            lines = [x if is_mlperf_line(x) else with_crc(x) for x in self.replies.get(command, [])]
            self.pending += "".join(x + "\r\n" for x in [*lines, "m-ready"]).encode()

    def read(self, n: int, timeout: float) -> bytes:
        out, self.pending = bytes(self.pending[:n]), self.pending[n:]
        return out

    def close(self) -> None:
        pass


def test_tinyhil_client_skips_runner_lines_interleaved_with_its_replies():
    dut = ScriptedDut({
        "name": ["m-name-dut-[b-m]", "m-name-b-m"],
        "profile": ["m-profile-protocol-2", "m-profile-[tinyhil protocol 2]", "m-model-[kws01]"],
        "infer 2 0": ["m-infer-start", "m-lap-us-10", "m-lap-cycles-5", "m-lap-cycles-6", "m-lap-us-21",
                      "m-infer-done", "m-results-[0.5,0.25]"],
        "results": ["m-results-hex-0102", "m-results-[0.5,0.25]"],
    })
    client = DeviceClient(dut, "scripted", timeout=1.0)
    assert client.name() == "b-m"
    assert client.device_info() == {"protocol": 2}
    assert client.infer(2).counts == (5, 6)
    assert client.results() == b"\x01\x02"
    assert client.stats.corrupt_lines == 0 and client.stats.rerequests == 0
