"""Run compiled model C code on the host: the model plus tinyhil's kernels built into a shared library
with the host C compiler and called through ctypes.  Used to check kernels bit-exactly against the
TFLM host interpreter without an emulator, and as a fast reference of what the firmware computes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from harness.codegen.compiler import KERNELS_DIR, CompiledModel
from harness.errors import BuildError

HOST_CFLAGS = ["-O2", "-std=c99", "-fPIC", "-shared", "-ffp-contract=off", "-Wall", "-Wno-unused-const-variable"]


def _cache_dir() -> Path:
    root = Path(os.environ.get("TINYHIL_CACHE", Path.home() / ".cache" / "tinyhil")) / "host"
    root.mkdir(parents=True, exist_ok=True)
    return root


class HostModel:
    """A compiled model loaded as a host shared library.

    ``run(x)`` takes a numpy array of the input tensor's dtype and shape and returns the output tensor
    (numpy, output dtype and shape).  Raises BuildError when the host compiler fails (message names the log).
    """

    def __init__(self, compiled: CompiledModel, cc: str | None = None) -> None:
        self.compiled = compiled
        kernel_sources = sorted(KERNELS_DIR.glob("*.c"))
        digest = hashlib.sha256(compiled.sources.source.encode() + compiled.sources.header.encode())
        for src in kernel_sources + sorted(KERNELS_DIR.glob("*.h")):
            digest.update(src.read_bytes())
        work = _cache_dir() / digest.hexdigest()[:20]
        lib = work / "libmodel.so"
        if not lib.exists():
            compiled.write(work)
            cc = cc or os.environ.get("CC") or shutil.which("cc") or "gcc"
            tmp = f"{lib}.{os.getpid()}.tmp"  # several test processes may build the same model at once
            cmd = [cc, *HOST_CFLAGS, f"-I{KERNELS_DIR}", f"-I{work}", str(work / "model.c"),
                   *map(str, kernel_sources), "-lm", "-o", tmp]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            log = work / f"build.{os.getpid()}.log"
            log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
            if proc.returncode != 0:
                raise BuildError(f"host build of {compiled.path.name} failed; see {log}")
            os.replace(tmp, lib)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.th_model_invoke.restype = None
        self._input = ctypes.c_void_p.in_dll(self._lib, "th_model_input").value
        self._output = ctypes.c_void_p.in_dll(self._lib, "th_model_output").value

    def run(self, x: np.ndarray) -> np.ndarray:
        inp, out = self.compiled.input_tensor, self.compiled.output_tensor
        data = np.ascontiguousarray(x, dtype=inp.dtype).reshape(-1)
        if data.nbytes != inp.nbytes:
            raise ValueError(f"input has {data.nbytes} bytes, model expects {inp.nbytes}")
        ctypes.memmove(self._input, data.ctypes.data, data.nbytes)
        self._lib.th_model_invoke()
        buf = (ctypes.c_uint8 * out.nbytes).from_address(self._output)
        return np.frombuffer(bytes(buf), dtype=out.dtype).reshape(out.shape)
