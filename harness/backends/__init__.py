"""Deployment backends: which inference code runs the model on the device.

* ``tinyhil``: tinyhil's own generated C (harness/codegen) and kernels (targets/kernels);
* ``tflm``: TensorFlow Lite Micro with its reference kernels;
* ``tflm-cmsis-nn``: TensorFlow Lite Micro with Arm's CMSIS-NN optimised kernels (Arm's standard stack).

The TFLM library side lives in :mod:`harness.backends.tflm_tree` (finding or making the source tree) and
:mod:`harness.backends.tflm_lib` (the cached static library per core); this module stays import-light.
"""

from __future__ import annotations

import difflib
from enum import Enum

from harness.errors import TinyhilError


class UnknownBackendError(TinyhilError):
    """A backend name that is not one of :class:`Backend`'s values."""


class Backend(str, Enum):
    """A deployment backend.  ``TINYHIL``: tinyhil's generated C and kernels; ``TFLM``: TensorFlow Lite
    Micro, reference kernels; ``TFLM_CMSIS_NN``: TensorFlow Lite Micro with CMSIS-NN kernels.  The value is
    the name used on the command line and in run records."""

    TINYHIL = "tinyhil"
    TFLM = "tflm"
    TFLM_CMSIS_NN = "tflm-cmsis-nn"

    @property
    def kernels(self) -> str | None:
        """The TFLM kernel set (``reference`` or ``cmsis-nn``, as :func:`~harness.backends.tflm_lib.tflm_library`
        takes it), or None for the tinyhil backend (no TFLM)."""
        return {Backend.TFLM: "reference", Backend.TFLM_CMSIS_NN: "cmsis-nn"}.get(self)

    def __str__(self) -> str:
        return self.value


def parse_backend(text: str | Backend) -> Backend:
    """The backend named ``text`` (case-insensitive; ``_`` may stand for ``-``), or ``text`` itself if it is
    already a Backend.  Raises UnknownBackendError (one line) listing the choices, with a 'did you mean'."""
    if isinstance(text, Backend):
        return text
    name = str(text).strip().lower().replace("_", "-")
    try:
        return Backend(name)
    except ValueError:
        pass
    choices = [b.value for b in Backend]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise UnknownBackendError(f"unknown backend {text!r}{hint}; choose one of {', '.join(choices)}")


__all__ = ["Backend", "UnknownBackendError", "parse_backend"]
