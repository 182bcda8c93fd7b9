"""The ``clip pack`` encoder (harness/protocol/clip_pack.py) against a plain reading of the format in its
docstring and targets/PROTOCOL.md; the firmware's decoder is checked against the encoder in
test_clip_commands.py (host DUT) and on the twins."""

from __future__ import annotations

import numpy as np
import pytest

from harness.protocol.clip_pack import pack_encode
from harness.protocol.constants import CLIP_PACK_BLOCK


def reference_decode(stream: bytes, n: int, z: int) -> tuple[bytes, set[tuple[int, int]]]:
    """Bit by bit, as the format is written; returns the clip and the (order, code) pairs used."""
    bits = "".join(f"{b:08b}" for b in stream)
    pos, out, used = 0, [], set()

    def take(count: int) -> int:
        nonlocal pos
        assert pos + count <= len(bits), "stream too short"
        value = int(bits[pos:pos + count] or "0", 2)
        pos += count
        return value

    x1 = x2 = z
    while len(out) < n:
        header = take(6)
        order, code = header >> 4, header & 15
        assert order <= 2 and code <= 9
        used.add((order, code))
        for _ in range(min(CLIP_PACK_BLOCK, n - len(out))):
            if code == 9:
                u = 0
            elif code == 8:
                u = take(8)
            else:
                q = 0
                while take(1) == 0:
                    q += 1
                u = (q << code) | take(code)
            r = u // 2 if u % 2 == 0 else -(u + 1) // 2
            p = (z, x1, 2 * x1 - x2)[order]
            x2, x1 = x1, (p + r) % 256
            out.append(x1)
    assert len(bits) - pos < 8 and set(bits[pos:]) <= {"0"}, "trailing bits"
    return bytes(out), used


def clips():
    rng = np.random.default_rng(1)
    t = np.arange(20_000)
    tone = np.rint(40 * np.sin(t / 7) * np.exp(-t / 9000) + 1).astype(np.int64) % 256
    walk = np.cumsum(rng.integers(-20, 21, 5000)) % 256
    noise = rng.integers(0, 256, 3000)
    quiet = np.ones(4000, np.int64)
    quiet[100:140] = rng.integers(-2, 3, 40) % 256
    return {"tone": tone, "walk": walk, "noise": noise, "quiet": quiet, "one": np.array([200]),
            "mixed": np.concatenate((quiet, tone[:3001], noise[:500], walk))}


@pytest.mark.parametrize("name", ["tone", "walk", "noise", "quiet", "one", "mixed"])
@pytest.mark.parametrize("z", [0, 1, 255])
def test_the_stream_decodes_to_the_clip(name, z):
    data = clips()[name].astype(np.uint8).tobytes()
    stream = pack_encode(data, z)
    decoded, _ = reference_decode(stream, len(data), z)
    assert decoded == data
    blocks = -(-len(data) // CLIP_PACK_BLOCK)
    assert len(stream) <= -(-(6 * blocks + 8 * len(data)) // 8)


def test_a_mixed_clip_uses_every_predictor_raw_and_silent_blocks_and_several_rice_parameters():
    """The mixed clip uses silence (code 9), raw noise (code 8), several Rice parameters and all predictors; the
    choice is the cheapest, so smooth audio costs far less than 8 bits per sample."""
    c = clips()
    _, used = reference_decode(pack_encode(c["mixed"].astype(np.uint8).tobytes(), 1), len(c["mixed"]), 1)
    codes, orders = {code for _, code in used}, {order for order, _ in used}
    assert {8, 9} <= codes and len(codes - {8, 9}) >= 3 and orders == {0, 1, 2}, used
    assert len(pack_encode(c["tone"].astype(np.uint8).tobytes(), 1)) < len(c["tone"]) // 3
    assert len(pack_encode(c["quiet"].astype(np.uint8).tobytes(), 1)) < 80


def test_bad_arguments_are_refused():
    for data, z in ((b"", 0), (b"\x01", 256), (b"\x01", -1)):
        with pytest.raises(ValueError):
            pack_encode(data, z)
