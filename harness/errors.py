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
