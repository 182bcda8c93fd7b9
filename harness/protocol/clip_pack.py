"""The clip codec of ``clip pack Z N E [P]%`` (targets/PROTOCOL.md, "Clip crops"; the decoder is ``pack_decode``
in targets/common/th_clip.c): lossless compression of a quantized clip so each upload moves fewer bytes over
the serial link (issue 12, item 8).

The scheme is the one lossless audio coders use, cut down to 8-bit samples: a fixed linear predictor per
block and Rice-coded prediction residuals (Shorten, T. Robinson, "SHORTEN: simple lossless and near-lossless
waveform compression", Cambridge University CUED/F-INFENG/TR.156, 1994; the fixed predictors and partitioned
Rice coding of FLAC, https://xiph.org/flac/format.html).  ACDNet-20's int8 input (scale 0.0187) turns the
seven CC0 demo clips into ~16 KB each instead of 100,000 B (run-length coding of the zero point: ~48 KB).

Stream (bits MSB first, the last byte padded with zero bits), for each block of ``CLIP_PACK_BLOCK`` samples
(the last block may be shorter) a 6-bit header, then one code per sample:

* header bits 5..4: predictor order o (0, 1, 2; 3 is invalid), bits 3..0: code c (0..9; 10..15 invalid);
* prediction p[n] (arithmetic modulo 256 on the bytes): o = 0: Z; o = 1: x[n-1]; o = 2: 2 x[n-1] - x[n-2],
  with x[-1] = x[-2] = Z (the history runs across blocks);
* residual r = (x[n] - p[n]) mod 256 as a signed byte (-128..127), zigzag-mapped u = 2r (r >= 0) or -2r - 1;
* c = 0..7: Rice code with parameter k = c: q = u >> k zero bits, a one bit, then the k low bits of u
  (q <= 255 >> k); c = 8: u in 8 bits; c = 9: every u of the block is 0 and no bits follow.
"""

from __future__ import annotations

import numpy as np

from harness.protocol.constants import CLIP_PACK_BLOCK

ORDERS = 3  #: fixed predictors 0, 1, 2
RICE_MAX_K = 7  #: codes 0..7 are Rice parameters
RAW, ZERO = 8, 9  #: the two other block codes


def _residuals(x: np.ndarray, z: int) -> np.ndarray:
    """Zigzagged residuals u (ORDERS, n) int64 in 0..255 of every predictor over the whole clip."""
    h = np.concatenate(([z, z], x))
    predictions = np.stack([np.full_like(x, z), h[1:-1], 2 * h[1:-1] - h[:-2]])
    r = ((x - predictions + 128) % 256) - 128
    return np.where(r >= 0, 2 * r, -2 * r - 1)


def _choose(u: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block the cheapest (order, code) and the blocks' u (blocks, CLIP_PACK_BLOCK), padded with 0."""
    blocks = -(-n // CLIP_PACK_BLOCK)
    pad = blocks * CLIP_PACK_BLOCK - n
    per = np.pad(u, ((0, 0), (0, pad))).reshape(ORDERS, blocks, CLIP_PACK_BLOCK)
    valid = np.pad(np.ones(n, bool), (0, pad)).reshape(blocks, CLIP_PACK_BLOCK)
    counts = valid.sum(axis=1)
    cost = np.empty((ORDERS, blocks, ZERO + 1))
    for k in range(RICE_MAX_K + 1):
        cost[:, :, k] = np.where(valid, (per >> k) + 1 + k, 0).sum(axis=-1)
    cost[:, :, RAW] = 8 * counts
    cost[:, :, ZERO] = np.where((per == 0).all(axis=-1), 0, np.inf)
    best = cost.transpose(1, 0, 2).reshape(blocks, -1).argmin(axis=1)
    order, code = best // (ZERO + 1), best % (ZERO + 1)
    return order, code, per[order, np.arange(blocks)]


def pack_encode(data: bytes, z: int) -> bytes:
    """The ``clip pack`` stream of ``data`` (N >= 1 bytes, any values) with zero point / initial history ``z``
    (0..255): at most ceil((6 * blocks + 8 * N) / 8) bytes, usually far less for audio.  Raises ValueError on
    empty data or z outside 0..255."""
    if not data or not 0 <= z <= 255:
        raise ValueError(f"pack_encode needs data and z in 0..255, got {len(data)} bytes, z={z}")
    x = np.frombuffer(data, np.uint8).astype(np.int64)
    n = len(x)
    order, code, per = _choose(_residuals(x, z), n)
    # One symbol per block header and per sample: `zeros` zero bits, then `length` bits of `value`.
    blocks = len(order)
    k = np.repeat(code, CLIP_PACK_BLOCK)[:n]
    u = per.reshape(-1)[:n]
    rice = k <= RICE_MAX_K
    kk = np.minimum(k, RICE_MAX_K)
    s_zeros = np.where(rice, u >> kk, 0)
    s_value = np.where(rice, (1 << kk) | (u & ((1 << kk) - 1)), u)
    s_length = np.where(rice, kk + 1, np.where(k == RAW, 8, 0))
    where = np.arange(n) + np.arange(n) // CLIP_PACK_BLOCK + 1  # sample i after i // B + 1 headers
    heads = np.arange(blocks) * (CLIP_PACK_BLOCK + 1)
    zeros, value, length = (np.zeros(n + blocks, np.int64) for _ in range(3))
    zeros[where], value[where], length[where] = s_zeros, s_value, s_length
    value[heads], length[heads] = (order << 4) | code, 6
    start = np.concatenate(([0], np.cumsum(zeros + length)))
    bits = np.zeros(start[-1], np.uint8)
    for j in range(8):  # bit j of each symbol's value part (values are at most 8 bits long)
        has = j < length
        shift = length[has] - 1 - j
        bits[start[:-1][has] + zeros[has] + j] = (value[has] >> shift) & 1
    return np.packbits(bits).tobytes()
