"""``clip load`` / ``clip crop`` on the host DUT (the real targets/common code built with gcc, behind a socket):
each crop the DUT cuts equals the host's crop byte for byte (its CRC-32 and the fake model's per-slice
Fletcher-16 of the whole input tensor), in both --input-quantization modes, also over a noisy link; a DUT that
lost or holds another clip gets it again; bad arguments are refused."""

from __future__ import annotations

import random
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from harness.codegen.graph import QuantParams, Tensor
from harness.crops import CropDelivery
from harness.data.clips import ClipPlan
from harness.data.layouts import Sample
from harness.data.preprocess import RawCrops
from harness.errors import DutRefusedError
from harness.protocol import constants as C
from harness.protocol.constants import CLIP_PACK_BLOCK
from harness.protocol.client import DeviceClient
from harness.transport.faults import FaultRates, RandomFaultTransport
from hostdut import HostDut, build_host_dut, fake_model_output

INPUT_BYTES = 2000


@pytest.fixture(scope="module")
def exe(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed (apt-get install gcc)")
    return build_host_dut(tmp_path_factory.mktemp("clip_dut"), {"TH_FAKE_INPUT_BYTES": INPUT_BYTES,
                                                                 "TH_CLIP_BYTES": 50_000})


@pytest.fixture
def client(exe):
    with HostDut(exe, "socket") as dut:
        c = DeviceClient(dut.transport, "host", timeout=5.0, ack_floor_s=0.05, ping_timeout=0.1)
        c.wait_ready(5.0)
        yield c


def random_plan(seed: int, clip_bytes: int = 9000) -> ClipPlan:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(clip_bytes))
    starts = (-INPUT_BYTES // 2, -INPUT_BYTES - 5, 0, 1234, clip_bytes - INPUT_BYTES, clip_bytes - 7, clip_bytes + 3)
    return ClipPlan(data, starts, INPUT_BYTES, rng.randrange(256))


def test_profile_reports_the_clip_buffer(client):
    assert client.device_info()["clip_bytes"] == 50_000


def test_device_crops_equal_host_crops(client):
    plan = random_plan(1)
    for k in range(plan.crops):
        out, laps = client.run_crop_inference(plan, k)
        assert out == fake_model_output(plan.crop_bytes(k)), f"crop {k} start {plan.starts[k]}"
        assert laps.counts == (INPUT_BYTES,)  # the fake model's ticks: one per input byte
    # one clip upload for all crops: the host crops would have moved plan.crops x INPUT_BYTES
    assert client.loaded_clip is plan


def test_a_dut_holding_another_or_no_clip_gets_it_again(client):
    first, second = random_plan(2), random_plan(3)
    with pytest.raises(DutRefusedError, match=C.ERR_CLIP_EMPTY):
        client.crop(0, INPUT_BYTES, 0)  # nothing loaded yet
    client.run_crop_inference(first, 0)
    out, _ = client.run_crop_inference(second, 2)  # another plan: uploaded before the crop
    assert out == fake_model_output(second.crop_bytes(2))
    client.loaded_clip = first  # the host believes the DUT holds `first`; it holds `second`: the CRC tells
    out, _ = client.run_crop_inference(first, 3)
    assert out == fake_model_output(first.crop_bytes(3)) and client.loaded_clip is first


def test_bad_arguments_are_refused(client):
    with pytest.raises(DutRefusedError, match="clip-load-size-max-50000"):
        client.load_clip(bytes(50_001))
    client.load_clip(bytes(10))
    for bad in (f"{C.CMD_CLIP_CROP} 0 {INPUT_BYTES + 1} 0", ):
        with pytest.raises(DutRefusedError, match=f"clip-crop-length-max-{INPUT_BYTES}"):
            client.query(bad)
    for bad in (f"{C.CMD_CLIP_CROP} 0 10 256", f"{C.CMD_CLIP_CROP} - 10 0", f"{C.CMD_CLIP_CROP} 0 10",
                f"{C.CMD_CLIP_CROP} 0 10 0 9", f"{C.CMD_CLIP} trim 3", f"{C.CMD_CLIP_CROP} 99999999999 10 0"):
        with pytest.raises(DutRefusedError, match=C.ERR_CLIP_USAGE):
            client.query(bad)
    assert client.crop(-5, 20, 7) == __import__("zlib").crc32(bytes([7] * 5) + bytes(10) + bytes([7] * 5))


@pytest.mark.parametrize("kind", ["random", "quiet"])
def test_crops_survive_a_noisy_link(exe, kind):
    """Byte error rate 1e-3 each way (flips, drops, duplicates): every output is still the host crop's, for a
    clip sent with `clip load` (random bytes) and one sent packed (quiet)."""
    plan = random_plan(4, clip_bytes=20_000) if kind == "random" else quiet_plan(9, clip_bytes=20_000)
    with HostDut(exe, "socket") as dut:
        noisy = RandomFaultTransport(dut.transport, FaultRates.uniform(1e-3), FaultRates.uniform(1e-3), seed=12)
        c = DeviceClient(noisy, "host", timeout=5.0, ack_floor_s=0.05, ping_timeout=0.1, retries=8)
        c.wait_ready(5.0)
        for k in range(plan.crops):
            out, _ = c.run_crop_inference(plan, k)
            assert out == fake_model_output(plan.crop_bytes(k))
        assert sum(noisy.counts.values()) > 0  # the link really was damaged
        assert not c.pack_refused


class ClientDut:
    """The two inferences of harness.dut.Dut, straight on the client (no firmware object needed here)."""

    def __init__(self, client: DeviceClient) -> None:
        self.client, self.device_info = client, client.device_info()

    def infer(self, x):
        return self.client.run_inference(np.ascontiguousarray(x).tobytes())

    def infer_crop(self, plan, k):
        return self.client.run_crop_inference(plan, k)


@pytest.mark.parametrize("quantization, cut_on_dut", [("model", 3), ("peak", 0)])
def test_both_input_quantization_modes_reach_the_dut_as_host_crops(client, tmp_path, quantization, cut_on_dut):
    """bench's path (CropDelivery) on real clips: whatever cuts them, the DUT infers exactly the host crops."""
    (tmp_path / "audio").mkdir()
    rng = np.random.default_rng(5)
    for n in range(3):
        sf.write(tmp_path / "audio" / f"{n}.wav", (rng.normal(0, 0.2, 10000 + 3000 * n) * 32767).astype(np.int16),
                 20000)
    tensor = Tensor(0, "input", (1, 1, INPUT_BYTES, 1), "int8", QuantParams((0.0187,), (1,)))
    pre = RawCrops(quantization=quantization)
    samples = [Sample(f"{n}.wav", 0, pre.inputs(tmp_path / "audio" / f"{n}.wav", tensor)) for n in range(3)]
    delivery = CropDelivery.for_run("auto", pre, tmp_path, "esc50", samples, tensor)
    infer = delivery.bind(ClientDut(client))
    for s in samples:
        for k, x in enumerate(s.inputs):
            out, _ = infer(s, k, x)
            assert out == fake_model_output(x.tobytes()), f"{s.id} crop {k}"
    assert delivery.describe()["clips_cut_on_dut"] == cut_on_dut


def test_a_dut_that_cuts_differently_is_refused_not_retried_forever(client, monkeypatch):
    """A crop whose CRC differs even right after a reload is a firmware bug: ClipMismatchError, one line."""
    from harness.errors import ClipMismatchError

    plan = random_plan(6)
    monkeypatch.setattr(ClipPlan, "crc", lambda self, k: 0x12345678)  # the host's crop "differs" from the DUT's
    with pytest.raises(ClipMismatchError, match="differs from the host preprocessing") as info:
        client.run_crop_inference(plan, 1)
    assert "\n" not in str(info.value) and client.loaded_clip is None


def quiet_plan(seed: int, clip_bytes: int = 9000, run_byte: int = 1) -> ClipPlan:
    """A clip like quantized quiet audio: mostly ``run_byte`` (the zero point), with short bursts of sound
    that also contain ``run_byte`` alone (the encoder's escape byte as a literal)."""
    rng = random.Random(seed)
    data = bytearray([run_byte] * clip_bytes)
    for _ in range(clip_bytes // 400):
        at = rng.randrange(clip_bytes - 50)
        data[at:at + 50] = bytes(rng.choice((run_byte, rng.randrange(256))) for _ in range(50))
    starts = (-INPUT_BYTES // 2, 0, 1234, clip_bytes - INPUT_BYTES, clip_bytes + 3)
    return ClipPlan(bytes(data), starts, INPUT_BYTES, run_byte)


def spy_loads(client, monkeypatch) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []
    real = client._load_adaptive

    def spy(data, command_name, announce):
        calls.append((command_name, len(data)))
        return real(data, command_name, announce)

    monkeypatch.setattr(client, "_load_adaptive", spy)
    return calls


def audio_plan(seed: int, clip_bytes: int = 9000) -> ClipPlan:
    """A clip like quantized audio: a random walk (order-1 and order-2 predictable), bursts of noise, digital
    silence, and full-scale values that wrap around modulo 256."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.integers(-3, 4, clip_bytes)) + 20 * np.sin(np.arange(clip_bytes) / 40)
    data = (walk.astype(np.int64) % 256).astype(np.uint8)
    data[2000:2600] = 1
    data[4000:4300] = rng.integers(0, 256, 300)
    starts = (-INPUT_BYTES // 2, 0, 1234, clip_bytes - INPUT_BYTES, clip_bytes + 3)
    return ClipPlan(data.tobytes(), starts, INPUT_BYTES, 1)


@pytest.mark.parametrize("plan", [quiet_plan(7, run_byte=0), quiet_plan(7), quiet_plan(7, run_byte=255),
                                  audio_plan(3), audio_plan(4, clip_bytes=200 * 128 + 1)],
                         ids=["quiet-z0", "quiet-z1", "quiet-z255", "audio", "audio-short-last-block"])
def test_a_clip_is_sent_packed_and_cut_exactly(client, monkeypatch, plan):
    from harness.protocol.clip_pack import pack_encode

    calls = spy_loads(client, monkeypatch)
    for k in range(plan.crops):
        out, _ = client.run_crop_inference(plan, k)
        assert out == fake_model_output(plan.crop_bytes(k)), f"crop {k}"
    zero = int(np.bincount(np.frombuffer(plan.data, np.uint8), minlength=256).argmax())
    encoded = pack_encode(plan.data, zero)
    assert calls == [(f"{C.CMD_CLIP_PACK} {zero} {len(plan.data)}", len(encoded))]
    assert len(encoded) < len(plan.data) // 2 and not client.pack_refused


def test_no_room_for_the_encoded_bytes_falls_back_to_a_plain_load(client, monkeypatch):
    plan = quiet_plan(8, clip_bytes=49_500)  # 49,500 + its encoding (~5 KB) > the 50,000-byte buffer
    calls = spy_loads(client, monkeypatch)
    out, _ = client.run_crop_inference(plan, 2)
    assert out == fake_model_output(plan.crop_bytes(2))
    assert [c for c, _ in calls] == [f"{C.CMD_CLIP_PACK} 1 49500", C.CMD_CLIP_LOAD] and client.pack_refused


def test_a_stream_that_does_not_decode_to_n_bytes_leaves_no_clip(client):
    from harness.protocol.clip_pack import pack_encode

    good = pack_encode(bytes(range(200)) * 3, 0)  # 600 bytes, a rising ramp: order-2 residuals mostly 0
    assert len(good) < 600 // 4
    bad_streams = [
        (good[:-1], 600),  # truncated
        (good + b"\0", 600),  # a byte too many
        (good, 600 + CLIP_PACK_BLOCK), (good, 600 - CLIP_PACK_BLOCK),  # a block more or fewer than encoded
        (bytes([0b11_0000_00]) + good[1:], 600),  # predictor order 3
        (bytes([0b00_1010_00]) + good[1:], 600),  # block code 10
        (bytes(40), 1),  # order 0, k = 0 and a unary part of over 255 zero bits
    ]
    client.load_clip(bytes(10))
    for bad, n in bad_streams:
        client._load_adaptive(bad, f"{C.CMD_CLIP_PACK} 0 {n}", C.CLIP_LOAD)  # the frames arrive intact ...
        with pytest.raises(DutRefusedError, match=C.ERR_CLIP_EMPTY):  # ... but they are not a clip of n bytes
            client.crop(0, 4, 0)
    client._load_adaptive(good, f"{C.CMD_CLIP_PACK} 0 600", C.CLIP_LOAD)
    assert client.crop(0, 600, 0) == zlib.crc32(bytes(range(200)) * 3)
    for bad in (f"{C.CMD_CLIP_PACK} 256 10 4", f"{C.CMD_CLIP_PACK} 0 10", f"{C.CMD_CLIP_PACK} 0 x 4"):
        with pytest.raises(DutRefusedError, match=C.ERR_CLIP_USAGE):
            client.query(bad)
    with pytest.raises(DutRefusedError, match="clip-load-size-max-50000"):
        client.query(f"{C.CMD_CLIP_PACK} 0 40000 10001")
