"""One error root for tinyhil.

Every error a user can cause (bad model, bad catalog, board too small, board silent) is a subclass of
:class:`TinyhilError`.  Its message is one line that names the problem and the fix; the CLI prints it
without a traceback and exits with status 2.
"""

from __future__ import annotations


class TinyhilError(Exception):
    """Base of every user-facing tinyhil error. ``str(err)`` is a one-line message naming problem and fix."""


class ModelError(TinyhilError):
    """The .tflite file cannot be read (missing, corrupt, not a TFLite flatbuffer, several subgraphs)."""


class UnsupportedOperatorError(ModelError):
    """An operator (or an operator with these dtypes/options) that tinyhil's kernels do not implement."""

    def __init__(self, opcode: str, position: int, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"operator {opcode} at position {position} is not supported{extra}; "
            "supported: see `tinyhil ops`, or re-export the model without it"
        )
        self.opcode = opcode
        self.position = position


class CatalogError(TinyhilError):
    """boards.yaml is missing, malformed, or names an unknown board."""


class BuildError(TinyhilError):
    """The firmware did not build (compiler or PlatformIO failure)."""


class MemoryOverflowError(BuildError):
    """The firmware does not fit a memory region of the board (found by the linker)."""

    def __init__(self, board: str, region: str, overflow_bytes: int) -> None:
        super().__init__(
            f"model does not fit {board}: region {region} overflowed by {overflow_bytes} bytes; "
            "use a smaller model variant or a board with more memory"
        )
        self.board = board
        self.region = region
        self.overflow_bytes = overflow_bytes


class ToolchainMissingError(BuildError):
    """The board's compiler is not installed here (e.g. the ESP32's Xtensa LX6 toolchain on an offline machine)."""


class FlashError(TinyhilError):
    """Loading the firmware onto the DUT failed (probe missing or busy, verify error, emulator did not start)."""


class TransportError(TinyhilError):
    """The serial link to the DUT failed or the DUT stopped answering."""


class ProtocolError(TransportError):
    """The DUT answered something the protocol does not allow (bad frame, CRC, unexpected line)."""


class DataError(TinyhilError):
    """The input data folder is malformed (missing meta/esc50.csv, unreadable wav, wrong tensor shape)."""


class ResultsError(TinyhilError):
    """A run directory or the history database is missing or malformed, a run reference or selection matches
    nothing (or several runs), or a comparison/report setting is invalid."""


class AudioError(TinyhilError):
    """Live or over-the-air audio cannot run: PortAudio missing, no such input/output device, a sample rate the
    device refuses, or a recording that does not contain the played clip."""


class PlanError(ModelError):
    """The tensor-arena plan would let two live tensors share bytes (a compiler bug, never a valid result)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"unsafe tensor-arena plan: {detail}; report this model to the tinyhil maintainers")


class ModelInvalidError(ModelError):
    """The .tflite file breaks a rule of the model verifier (harness/codegen/verify.py: RULES): a corrupt
    flatbuffer offset, a tensor index out of range, a bad scale or zero point, an inconsistent graph.  The
    message names the tensor or operator (index and name), the rule id and the fix."""


class StudyError(TinyhilError):
    """A study file is missing or malformed, or its cells cannot run (no model matches, unknown place)."""


class FarmError(TinyhilError):
    """A labgrid place cannot be used: coordinator unreachable, place unknown or without a serial port or board
    tag, place held by someone else past the timeout, or labgrid is not installed."""


class NoBaselineError(ResultsError):
    """`compare --baseline previous` found no earlier run of the same configuration (e.g. the first night):
    nothing to compare, which is not a regression (exit status 5)."""


class CorruptReplyError(ProtocolError):
    """A DUT reply line failed its protocol-v2 CRC (or lacked one): the link corrupted it; the host re-requests
    or re-runs, never uses it."""


class DutQuarantinedError(TransportError):
    """The DUT kept failing after resets and retries (a hang, a dead link): it is taken out of the run."""


class RunInterruptedError(TinyhilError):
    """The run was stopped by a signal (SIGINT, SIGTERM, SIGHUP); its folder was kept for ``--resume``."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class ProtocolVersionError(ProtocolError):
    """The firmware speaks another protocol version than the harness (rebuild it from this checkout)."""


class DutRefusedError(ProtocolError):
    """The DUT refused a command with an ``e-...`` reply twice (input size, protocol, build options): retrying or
    resetting it cannot help."""


class ClipMismatchError(ProtocolError):
    """The DUT's ``clip crop`` wrote other bytes than the host's crop (CRC-32 differs) even right after the clip
    was loaded again: the firmware cuts differently from the host preprocessing (issue 12, item 8)."""


class DutWatchdogError(TransportError):
    """The DUT did not finish an inference (or a reset) before its watchdog deadline: it hangs or the link is
    dead.  Not retried on the same link (no retry loop of the client catches it); the caller resets the DUT."""
