"""Seeded data-file fuzzing: mutated .npy tensors, labels.csv, meta/esc50.csv and WAV clips are either accepted
by the up-front validation (and then load as samples without error) or refused with a one-line DataError;
no other exception escapes.  Bounded by a mutant count (a few seconds)."""

from __future__ import annotations

import random
import shutil

import numpy as np
import soundfile as sf

from harness.codegen.graph import QuantParams, Tensor
from harness.data.layouts import iter_samples
from harness.data.validate import check_data
from harness.errors import DataError

SEED = 13
MUTANTS = 300
NPY_IN = Tensor(0, "in", (49, 10), "int8", QuantParams((0.5,), (0,)))
WAVE_IN = Tensor(0, "in", (1, 1, 400, 1), "int8", QuantParams((0.01,), (0,)))
OUT = Tensor(9, "out", (1, 12), "int8", QuantParams((0.1,), (0,)))


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0 and b:
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        b = b[: rng.randrange(len(b) + 1)]
    elif kind == 2 and b:
        pos = rng.randrange(len(b))
        b[pos:pos + 16] = bytes(rng.randrange(256) for _ in range(16))
    elif kind == 3 and b:
        pos = rng.randrange(len(b))
        b[pos:pos + 32] = bytes(min(32, len(b) - pos))
    else:
        pos = rng.randrange(len(b) + 1)
        b[pos:pos] = rng.choice([b",", b"\n", b"-4", b"99", b"x.npy,1\n", b"\x00", b"3.5"])
    return bytes(b)


def _outcome(folder, tensor) -> str:
    try:
        check_data(folder, tensor, OUT)
    except DataError as exc:
        assert "\n" not in str(exc) and str(exc).strip(), repr(str(exc))
        return "refused"
    for sample in iter_samples(folder, tensor):  # validated data must load without surprises
        assert sample.inputs.shape[1:] == tensor.shape
    return "accepted"


def test_mutated_npy_and_labels_give_one_line_errors(tmp_path):
    rng = random.Random(SEED)
    base = tmp_path / "base"
    base.mkdir()
    np.save(base / "a.npy", np.arange(490, dtype=np.int8).reshape(49, 10))
    np.save(base / "b.npy", np.zeros((2, 49, 10), np.int8))
    (base / "labels.csv").write_text("file,label\na.npy,3\nb.npy,11\n")
    seen = {"refused": 0, "accepted": 0}
    for k in range(MUTANTS):
        work = tmp_path / f"m{k}"
        shutil.copytree(base, work)
        target = work / rng.choice(["a.npy", "b.npy", "labels.csv"])
        target.write_bytes(_mutate(target.read_bytes(), rng))
        seen[_outcome(work, NPY_IN)] += 1
        shutil.rmtree(work)
    assert seen["refused"] > 0 and seen["accepted"] > 0, seen


def test_mutated_esc50_csv_and_wavs_give_one_line_errors(tmp_path):
    rng = random.Random(SEED + 1)
    base = tmp_path / "base"
    (base / "meta").mkdir(parents=True)
    (base / "audio").mkdir()
    (base / "meta" / "esc50.csv").write_text("filename,fold,target,category\na.wav,1,3,x\nb.wav,2,7,y\n")
    for name, rate in (("a.wav", 20000), ("b.wav", 16000)):
        sf.write(base / "audio" / name, (0.2 * np.sin(np.arange(1200) / 5)).astype(np.float32), rate,
                 subtype="PCM_16")
    seen = {"refused": 0, "accepted": 0}
    for k in range(MUTANTS // 2):
        work = tmp_path / f"m{k}"
        shutil.copytree(base, work)
        target = work / rng.choice(["meta/esc50.csv", "audio/a.wav", "audio/b.wav"])
        target.write_bytes(_mutate(target.read_bytes(), rng))
        seen[_outcome(work, WAVE_IN)] += 1
        shutil.rmtree(work)
    assert seen["refused"] > 0 and seen["accepted"] > 0, seen
