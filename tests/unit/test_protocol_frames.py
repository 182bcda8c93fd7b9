"""Frames and CRC-32 on the host side (the device side is exercised in tests/contract)."""

from __future__ import annotations

import os
import zlib

import pytest

from harness.errors import ProtocolError
from harness.protocol.constants import FRAME_PAYLOAD_BYTES
from harness.protocol.frames import Frame, abort_frame, crc32, decode_frame, encode_frame, split_frames


@pytest.mark.parametrize("data, want", [
    (b"", 0x00000000),
    (b"123456789", 0xCBF43926),  # the CRC-32/ISO-HDLC check value
    (b"a", 0xE8B7BE43),
    (b"The quick brown fox jumps over the lazy dog", 0x414FA339),
])
def test_crc32_vectors(data: bytes, want: int):
    assert crc32(data) == want == zlib.crc32(data)


def test_crc32_chains_like_zlib():
    data = os.urandom(5000)
    assert crc32(data[3000:], crc32(data[:3000])) == zlib.crc32(data)


def test_frame_layout():
    raw = encode_frame(0x0102, b"\xaa\xbb")
    assert raw[:5] == bytes([0xA5, 0x02, 0x01, 0x02, 0x00])
    assert raw[7:] == zlib.crc32(raw[:7]).to_bytes(4, "little")


@pytest.mark.parametrize("size", [0, 1, 1024, 65535])
def test_round_trip(size: int):
    payload = os.urandom(size)
    assert decode_frame(encode_frame(7, payload)) == Frame(7, payload)


def test_seq_wraps():
    assert decode_frame(encode_frame(65536 + 3, b"x")).seq == 3


@pytest.mark.parametrize("index, match", [(0, "magic"), (1, "CRC"), (3, "declares"), (9, "CRC"), (-1, "CRC")])
def test_any_flipped_byte_is_detected(index: int, match: str):
    raw = bytearray(encode_frame(1, b"payload"))
    raw[index] ^= 0x01
    with pytest.raises(ProtocolError, match=match):
        decode_frame(bytes(raw))


def test_short_frame():
    with pytest.raises(ProtocolError, match="shorter"):
        decode_frame(b"\xa5\x00")


def test_oversized_payload():
    with pytest.raises(ValueError, match="65535"):
        encode_frame(0, bytes(65536))


def test_split_frames():
    data = os.urandom(2 * FRAME_PAYLOAD_BYTES + 5)
    frames = [decode_frame(f) for f in split_frames(data)]
    assert [f.seq for f in frames] == [0, 1, 2]
    assert [len(f.payload) for f in frames] == [FRAME_PAYLOAD_BYTES, FRAME_PAYLOAD_BYTES, 5]
    assert b"".join(f.payload for f in frames) == data
    with pytest.raises(ValueError):
        split_frames(data, FRAME_PAYLOAD_BYTES + 1)


def test_abort_frame():
    assert decode_frame(abort_frame()) == Frame(0xFFFF, b"")
