"""The real device protocol code (host DUT) behind a seeded random fault injector: byte flips, drops and
duplicates in each direction and stalls.  Every accepted result must be the right one; none may be lost."""

from __future__ import annotations

import random

import pytest

from harness.errors import TransportError
from harness.protocol.client import DeviceClient
from harness.transport.faults import FaultRates, RandomFaultTransport
from hostdut import fake_model_output

INPUT_BYTES = 4000  # the fixture's host DUT build


def run_noisy(dut, to_dut: FaultRates, to_host: FaultRates, seed: int, inferences: int):
    link = RandomFaultTransport(dut.transport, to_dut, to_host, seed=seed)
    client = DeviceClient(link, "host", timeout=2.0, ping_timeout=0.2, retries=8, ack_floor_s=0.1)
    client.wait_ready(5.0, ping_interval=0.2)
    rng = random.Random(seed)
    for _ in range(inferences):
        tensor = rng.randbytes(INPUT_BYTES)
        output, laps = client.run_inference(tensor)
        assert output == fake_model_output(tensor)  # never a wrong result accepted
        assert laps.counts == (INPUT_BYTES,)  # nor a wrong count
    return link, client


@pytest.mark.parametrize("direction", ["to_dut", "to_host", "both"])
def test_byte_errors_1e3_no_wrong_result_none_lost(dut, direction: str):
    noisy = FaultRates.uniform(3e-3)  # 3x the target rate, so that each kind fires in a short run
    to_dut = noisy if direction in ("to_dut", "both") else FaultRates()
    to_host = noisy if direction in ("to_host", "both") else FaultRates()
    link, client = run_noisy(dut, to_dut, to_host, seed=12, inferences=12)
    kinds = {key.split(".")[1] for key in link.counts}
    assert kinds == {"flip", "drop", "duplicate"}, link.counts  # every kind of damage happened ...
    stats = client.stats
    assert stats.resyncs + client.resends > 0  # ... and was recovered from, not ignored


def test_damaged_reply_lines_are_never_used(dut):
    """Only the DUT->host direction, heavily: replies fail their CRC often; results are re-requested."""
    link, client = run_noisy(dut, FaultRates(), FaultRates(flip=5e-3), seed=3, inferences=10)
    assert client.stats.corrupt_lines > 0 and link.counts["to_host.flip"] > 0


def test_stalled_link_is_survived(dut):
    """Host->DUT chunks held 1.5 s now and then (a USB bridge that stalls): the bulk load waits it out."""
    stall = FaultRates(stall=0.02, stall_s=1.5)
    link, client = run_noisy(dut, stall, FaultRates(), seed=5, inferences=3)
    assert link.counts.get("to_dut.stall", 0) >= 1


def test_paused_dut_resumes_the_load(dut):
    """The DUT process is frozen (SIGSTOP) for longer than the reply and ack timeouts: the host keeps pinging
    (or re-sending the frame) within ``stall_s`` and the run goes on when the DUT wakes up."""
    import threading

    client = DeviceClient(dut.transport, "host", timeout=2.0, ack_timeout=0.2, stall_s=30.0)
    client.wait_ready(2.0)
    tensor = random.Random(1).randbytes(INPUT_BYTES)
    dut.pause()
    timer = threading.Timer(3.0, dut.resume)
    timer.start()
    try:
        output, _ = client.run_inference(tensor)
    finally:
        timer.cancel()
        dut.resume()
    assert output == fake_model_output(tensor) and client.resends + client.stats.resyncs >= 1


def test_dead_link_fails_with_one_line(dut):
    link = RandomFaultTransport(dut.transport, FaultRates(drop=1.0), FaultRates(), seed=1)
    client = DeviceClient(link, "host", timeout=0.5, ping_timeout=0.1, retries=2, stall_s=1.0)
    with pytest.raises(TransportError) as info:
        client.run_inference(bytes(INPUT_BYTES))
    assert "\n" not in str(info.value) and "host" in str(info.value)
