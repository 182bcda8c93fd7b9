"""Line reading, reply parsing and DeviceClient error paths against a scripted peer (no C build needed)."""

from __future__ import annotations

import socket
import time

import pytest

from harness.errors import ProtocolError, TransportError
from harness.protocol.client import HEX_CHUNK_BYTES, DeviceClient
from harness.protocol.constants import LINE_MAX_BYTES
from harness.protocol.lines import LineReader, ReplyTimeout, parse_lap, parse_profile_line, with_crc
from harness.transport.serial import SocketTransport


def checked(*lines: str) -> bytes:
    """DUT bytes of protocol v2: each line with its CRC suffix, then m-ready."""
    return b"".join(with_crc(line).encode() + b"\r\n" for line in lines) + b"m-ready\r\n"


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield SocketTransport(a), b
    a.close()
    b.close()


def test_readline_joins_split_chunks(pair):
    transport, peer = pair
    reader = LineReader(transport)
    peer.sendall(b"m-rea")
    peer.sendall(b"dy\r\nm-lap-cycles-12\r\n")
    assert reader.readline(1.0) == "m-ready"
    assert reader.readline(1.0) == "m-lap-cycles-12"


def test_readline_timeout_names_last_bytes(pair):
    transport, peer = pair
    reader = LineReader(transport, "stm32f746")
    peer.sendall(b"m-ready\r\nhalf a li")
    reader.readline(1.0)
    start = time.monotonic()
    last = r"\(last bytes received: b'm-ready\\r\\nhalf a li'\)"
    with pytest.raises(ReplyTimeout, match=r"stm32f746: no a reply within 0.2 s " + last):
        reader.readline(0.2)
    assert time.monotonic() - start < 0.5
    assert issubclass(ReplyTimeout, TransportError)


def test_parse_lap():
    assert parse_lap("m-lap-instructions-123456") == ("instructions", 123456)
    assert parse_lap("m-lap-us-ns-7") == ("us-ns", 7)
    for bad in ("m-lap-cycles-", "m-lap-12", "m-lap-cycles-1x", "m-ready"):
        with pytest.raises(ProtocolError):
            parse_lap(bad)


def test_parse_profile_line():
    assert parse_profile_line("m-profile-arena_bytes-51200") == ("arena_bytes", 51200)
    assert parse_profile_line("m-profile-model-kws-ds-cnn") == ("model", "kws-ds-cnn")
    with pytest.raises(ProtocolError):
        parse_profile_line("m-profile-")


def test_hex_chunk_fits_the_device_line():
    assert len(with_crc("db " + "00" * HEX_CHUNK_BYTES)) <= LINE_MAX_BYTES


def test_client_rejects_wrong_protocol_version(pair):
    transport, peer = pair
    peer.sendall(b"m-profile-protocol-99\r\nm-ready\r\n")
    with pytest.raises(ProtocolError, match="protocol 99.*rebuild the firmware"):
        DeviceClient(transport, timeout=1.0).device_info()


def test_client_rejects_wrong_lap_count(pair):
    transport, peer = pair
    peer.sendall(checked("m-infer-start", "m-lap-cycles-5", "m-infer-done"))
    with pytest.raises(ProtocolError, match="1 laps.*want 2"):
        DeviceClient(transport, timeout=1.0).infer(2, retries=0)
    assert peer.recv(100) == with_crc("infer 2 0").encode() + b"%"


def test_client_error_is_one_line(pair):
    transport, peer = pair
    peer.sendall(checked("e-unknown-command-results"))
    with pytest.raises(ProtocolError) as info:
        DeviceClient(transport, board="nrf52840", timeout=1.0).command("results")
    assert "\n" not in str(info.value) and "nrf52840" in str(info.value)
