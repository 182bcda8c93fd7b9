"""Binary bulk-load frames: ``[magic u8][seq u16 LE][len u16 LE][payload][CRC-32 u32 LE]``.

The CRC is CRC-32 IEEE 802.3 (``zlib.crc32``) over header + payload.  The device implementation is
``targets/common/th_bulk_load.c`` / ``th_crc32.c``; the format is documented in ``targets/PROTOCOL.md``.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from harness.errors import ProtocolError
from harness.protocol.constants import (
    FRAME_ABORT_SEQ,
    FRAME_CRC_BYTES,
    FRAME_HEADER_BYTES,
    FRAME_MAGIC,
    FRAME_PAYLOAD_BYTES,
)

_HEADER = struct.Struct("<BHH")
_CRC = struct.Struct("<I")


def crc32(data: bytes, crc: int = 0) -> int:
    """CRC-32 IEEE 802.3 of ``data`` (reflected, poly 0xEDB88320), chained like ``zlib.crc32(data, crc)``."""
    return zlib.crc32(data, crc) & 0xFFFFFFFF


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``seq`` (0..65535) and ``payload`` (bytes)."""

    seq: int
    payload: bytes


def encode_frame(seq: int, payload: bytes) -> bytes:
    """Encode one frame; ``seq`` wraps modulo 65536.  Raises ValueError if payload exceeds 65535 bytes."""
    if len(payload) > 0xFFFF:
        raise ValueError(f"frame payload of {len(payload)} bytes exceeds 65535; split it into chunks")
    head = _HEADER.pack(FRAME_MAGIC, seq & 0xFFFF, len(payload))
    return head + payload + _CRC.pack(crc32(payload, crc32(head)))


def abort_frame() -> bytes:
    """The abort frame (seq 0xFFFF, no payload): a device in bulk-load mode returns to command mode."""
    return encode_frame(FRAME_ABORT_SEQ, b"")


def decode_frame(raw: bytes) -> Frame:
    """Decode exactly one frame.  Raises ProtocolError on a bad magic, length or CRC."""
    if len(raw) < FRAME_HEADER_BYTES + FRAME_CRC_BYTES:
        raise ProtocolError(f"frame of {len(raw)} bytes is shorter than header + CRC; the link dropped bytes")
    magic, seq, length = _HEADER.unpack_from(raw)
    if magic != FRAME_MAGIC:
        raise ProtocolError(f"frame magic 0x{magic:02x} != 0x{FRAME_MAGIC:02x}; the stream is out of sync")
    if len(raw) != FRAME_HEADER_BYTES + length + FRAME_CRC_BYTES:
        raise ProtocolError(f"frame seq {seq} declares {length} payload bytes but carries "
                            f"{len(raw) - FRAME_HEADER_BYTES - FRAME_CRC_BYTES}; the link dropped bytes")
    body_end = FRAME_HEADER_BYTES + length
    (want,) = _CRC.unpack_from(raw, body_end)
    got = crc32(raw[:body_end])
    if got != want:
        raise ProtocolError(f"frame seq {seq} CRC 0x{got:08x} != 0x{want:08x}; the frame was corrupted, re-send it")
    return Frame(seq, bytes(raw[FRAME_HEADER_BYTES:body_end]))


def split_frames(data: bytes, payload_bytes: int = FRAME_PAYLOAD_BYTES) -> list[bytes]:
    """Split ``data`` into encoded frames of ``payload_bytes`` (the last one shorter), seq 0, 1, 2, ..."""
    if not 1 <= payload_bytes <= FRAME_PAYLOAD_BYTES:
        raise ValueError(f"payload_bytes={payload_bytes} must be in 1..{FRAME_PAYLOAD_BYTES}")
    return [encode_frame(i, data[off:off + payload_bytes])
            for i, off in enumerate(range(0, len(data), payload_bytes))]
