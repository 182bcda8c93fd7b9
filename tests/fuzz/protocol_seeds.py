"""Seed inputs for the protocol fuzz target (targets/host/fuzz_protocol.c): valid command sessions built with the
host's own encoder (harness.protocol.frames), so libFuzzer starts from complete bulk loads with correct CRCs
instead of having to find a CRC-32 by mutation.  The fuzz build's input tensor is 512 bytes."""

from __future__ import annotations

from pathlib import Path

from harness.protocol.frames import abort_frame, encode_frame, split_frames

INPUT_BYTES = 512  # -DTH_FAKE_INPUT_BYTES of the fuzz build (targets/host/Makefile)


def seed_inputs() -> dict[str, bytes]:
    """{name: bytes} of valid and slightly damaged sessions."""
    data = bytes(range(256)) * (INPUT_BYTES // 256)
    frames = b"".join(split_frames(data, 128))
    good = encode_frame(0, data[:128])
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    return {
        "readable": b"name%profile%stack%profile-ops%results%",
        "db_load": b"db load 8%db 0011223344556677%infer 2 1%results%",
        "db_bad_hex": b"db load 4%db 00zz%db 001122%",
        "bload_full": b"bload 512 128%" + frames + b"infer 1 0%results%",
        "bload_abort": b"bload 512 128%" + good + abort_frame() + b"name%",
        "bload_bad_crc": b"bload 512 128%" + bad_crc + good + b"name%",
        "bload_duplicate": b"bload 512 128%" + good + good + frames[len(good):],
        "bload_too_big": b"bload 99999 128%bload 512 99999%",
        "long_line": b"x" * 300 + b"%name%",
        "clip_crops": b"clip load 512 128%" + frames + b"clip crop -100 512 7%infer 1 0%results%clip crop 400 512 0%"
                      b"clip crop 0 513 0%clip crop - 1 0%clip crop 0 1 256%clip trim%",
        "clip_empty": b"clip crop 0 512 0%clip load 0%clip load 99999999 128%",
    }


def write_seeds(folder: Path) -> Path:
    """Write :func:`seed_inputs` into ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seed_inputs().items():
        (folder / f"seed-{name}").write_bytes(data)
    return folder
