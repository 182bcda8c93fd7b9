"""Waits after a lost or damaged line follow the link's round trip, never a full reply timeout (host DUT: the
real targets/common protocol code), and a damaged command is re-sent, never taken for the DUT's refusal."""

from __future__ import annotations

import random

from hostdut import fake_model_output

from harness.protocol.client import DeviceClient
from harness.transport.faults import FaultInjectingTransport

INPUT_BYTES = 4000  # the fixture's host DUT build
SLOW_S = 30.0  # the client's reply timeout: a wait this long would mean a lost line cost the whole timeout


class ReadSpy:
    """Records the timeout of every read and what it returned."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reads: list[tuple[float, bytes]] = []

    def write(self, data: bytes) -> None:
        self.inner.write(data)

    def read(self, n: int, timeout: float) -> bytes:
        data = self.inner.read(n, timeout)
        self.reads.append((timeout, data))
        return data

    def close(self) -> None:
        self.inner.close()


def _client(transport) -> DeviceClient:
    client = DeviceClient(transport, "host", timeout=SLOW_S, ping_timeout=0.2, retries=5, ack_floor_s=0.1)
    client.wait_ready(5.0, ping_interval=0.2)
    client.name()  # one measured round trip
    return client


def test_damaged_bload_command_twice_is_resent_not_refused(dut):
    link = FaultInjectingTransport(dut.transport)
    client = _client(link)
    link.flip_byte(b"bload", 2)
    link.flip_byte(b"bload", 2)  # the next copy too: an identical e-command-crc twice is still the link's fault
    tensor = random.Random(3).randbytes(INPUT_BYTES)
    output, _ = client.run_inference(tensor)
    assert output == fake_model_output(tensor)
    assert link.fired == ["flip " + b"bload".hex() + "+2"] * 2 and client.stats.rerequests == 2


def test_lost_ack_and_load_done_of_the_last_frame_are_confirmed_by_m_ready(dut):
    """The DUT leaves bulk-load mode (m-ready) only with every byte received: no re-send, no timeout."""
    link = FaultInjectingTransport(dut.transport)
    client = _client(link)
    link.drop_line("m-ack-3")  # the last of 4 frames
    link.drop_line("m-load-done")
    tensor = random.Random(4).randbytes(INPUT_BYTES)
    client.load_input(tensor, payload_bytes=1000)
    assert link.fired == ["drop m-ack-3", "drop m-load-done"] and client.resends == 0
    client.infer()
    assert client.results() == fake_model_output(tensor)


def test_lost_m_ready_after_an_inference_costs_round_trips_not_the_timeout(dut):
    spy = ReadSpy(dut.transport)
    link = FaultInjectingTransport(spy)
    client = _client(link)
    tensor = random.Random(5).randbytes(INPUT_BYTES)
    client.load_input(tensor)
    link.drop_line("m-ready")  # the one that ends infer's reply
    reads_before = len(spy.reads)
    laps = client.infer(timeout=SLOW_S)
    assert link.fired == ["drop m-ready"] and laps.counts == (INPUT_BYTES,)
    reads = spy.reads[reads_before:]
    stream = b"".join(data for _, data in reads)
    assert stream.count(b"m-infer-start") == 1 and client.stats.reruns == 0  # the laps were kept, not re-run
    received, done_at = b"", None
    for i, (_, data) in enumerate(reads):
        received += data
        if done_at is None and b"m-infer-done" in received and received.endswith(b"\n"):
            done_at = i
    assert max(timeout for timeout, _ in reads[done_at + 1:]) < 2.0  # quick waits (round trips), not SLOW_S
    assert client.stats.resyncs == 1
    assert client.results() == fake_model_output(tensor)
