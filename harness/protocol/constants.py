"""Protocol constants, defined once here and generated into ``targets/common/th_protocol_constants.h``.

Regenerate the C header after any change with ``python -m harness.protocol.constants`` (a unit test fails
while the committed header is stale).  The wire format is described in ``targets/PROTOCOL.md``.
Pattern: Kenning's ``protocols/message.py`` keeps message constants on the Python side; the readable command
set follows the EEMBC / MLPerf Tiny runner (``name%``, ``db load N%``, ``infer N W%``, ``m-ready``).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Bumped on any incompatible change of the wire format; the device reports it in ``profile%``.
PROTOCOL_VERSION = 2

#: Ends every host->device command line (EEMBC runner convention).
COMMAND_TERMINATOR = b"%"
#: Ends every device->host line.
LINE_TERMINATOR = b"\r\n"
#: Version 2: every device->host line except ``m-ready`` ends in CRC_MARK + 8 lowercase hex digits, the CRC-32
#: (zlib.crc32) of the line's text before the mark; a host->device command may end the same way (checked).
CRC_MARK = "*"
#: Hex digits of a line CRC after CRC_MARK.
LINE_CRC_DIGITS = 8
#: Longest command the device accepts, in bytes, without the terminator.
LINE_MAX_BYTES = 256

#: First byte of every binary bulk-load frame.
FRAME_MAGIC = 0xA5
#: Frame header: magic u8, seq u16 LE, len u16 LE.
FRAME_HEADER_BYTES = 5
#: Frame trailer: CRC-32 (IEEE 802.3, as zlib.crc32) over header + payload, u32 LE.
FRAME_CRC_BYTES = 4
#: Default and largest payload per frame, in bytes.
FRAME_PAYLOAD_BYTES = 1024
#: Sequence number of the abort frame (len 0): the device leaves bulk-load mode.
FRAME_ABORT_SEQ = 0xFFFF

#: Host->device command names: the first word(s) of a command line; arguments follow after one space
#: (``db load N%``, ``bload N P%``, ``infer N W%``).  The device reads the hex payload of ``db <hex>%``.
CMD_NAME = "name"
CMD_PROFILE = "profile"
CMD_DB_LOAD = "db load"
CMD_DB = "db"
CMD_BLOAD = "bload"
CMD_INFER = "infer"
CMD_RESULTS = "results"
CMD_STACK = "stack"
CMD_PROFILE_OPS = "profile-ops"
#: ``sync <token>%`` -> ``m-sync-<token>`` (token: up to SYNC_TOKEN_MAX printable characters): the host's resync
#: marker, a reply no earlier command can have produced.
CMD_SYNC = "sync"
SYNC_TOKEN_MAX = 32
#: ``clip load N [P]%`` (binary frames, as ``bload``, into the DUT's clip buffer outside the tensor arena) and
#: ``clip crop S L F%`` (copy clip bytes S..S+L into the input tensor, F outside the clip): one upload per clip,
#: the DUT cuts the crops (issue 12, item 8; targets/PROTOCOL.md, "Clip crops").
CMD_CLIP = "clip"
CMD_CLIP_LOAD = "clip load"
CMD_CLIP_CROP = "clip crop"
#: ``clip pack Z N E [P]%``: the clip compressed (per-block fixed linear prediction + Rice-coded residuals, blocks of
#: CLIP_PACK_BLOCK samples; harness/protocol/clip_pack.py, targets/PROTOCOL.md "Clip crops").
CMD_CLIP_PACK = "clip pack"
CLIP_PACK_BLOCK = 128

#: Device->host message prefixes (``<prefix>-...``).
MSG_PREFIX = "m-"
ERR_PREFIX = "e-"
READY = "m-ready"
NAME = "m-name-"
PROFILE = "m-profile-"
#: ``m-[Expecting N bytes]``, the EEMBC runner's reply to ``db load N%``: EXPECTING + N + EXPECTING_END.
EXPECTING = "m-[Expecting "
EXPECTING_END = " bytes]"
LOAD_DONE = "m-load-done"
#: ``m-bload-N-P``: the device switched to binary frames; BLOAD_ABORT after an abort frame.
BLOAD = "m-bload-"
BLOAD_ABORT = "m-bload-abort"
ACK = "m-ack-"
NAK = "m-nak-"
#: Reasons of ``m-nak-<seq>-<reason>``: the 5 header bytes were not the expected ones / the CRC was wrong.
NAK_HEADER = "header"
NAK_CRC = "crc"
LAP = "m-lap-"
INFER_DONE = "m-infer-done"
#: First line of ``infer``'s reply, before any inference runs: the host knows at once that the command arrived.
INFER_START = "m-infer-start"
RESULTS_HEX = "m-results-hex-"
#: MLPerf Tiny runner lines (targets/PROTOCOL.md, "The official MLPerf Tiny runner"): only firmware built with
#: ``TH_MLPERF_ID`` prints them, only after a command that arrived WITHOUT a CRC suffix (typed by hand or sent by
#: the runner), and WITHOUT a line CRC (the runner's regular expressions end at ``]`` or at the digits).
#: ``m-name-dut-[<board>-<model>]``, ``m-profile-[...]``, ``m-model-[<id>]``, ``m-lap-us-<us>``,
#: ``m-results-[<v>,...]``.  tinyhil's client skips them (:func:`harness.protocol.mlperf.is_mlperf_line`).
MLPERF_NAME = "m-name-dut-["
MLPERF_PROFILE = "m-profile-["
MLPERF_MODEL = "m-model-["
MLPERF_LAP_US = "m-lap-us-"
MLPERF_RESULTS = "m-results-["
MLPERF_LIST_END = "]"
#: ``profile-ops%``: ``m-op-<index>-<unit>-<count>`` per operator, then ``m-op-total-<unit>-<count>``.
OP = "m-op-"
OP_TOTAL = "m-op-total-"
#: ``stack%``: reservation, depth at the start of the inference, peak; ``<prefix><bytes>``.
STACK_SIZE = "m-stack-size-"
STACK_BASE = "m-stack-base-"
STACK_PEAK = "m-stack-peak-"
SYNC = "m-sync-"
#: ``m-clip-load-N-P``: the device takes N clip bytes in binary frames of P; ``m-clip-crop-crc-<8 hex>``: the
#: CRC-32 of the input tensor bytes the crop wrote (the host compares it with its own crop).
CLIP_LOAD = "m-clip-load-"
CLIP_CROP = "m-clip-crop-crc-"

#: Device->host error replies (the command had no effect); those ending in ``-`` are followed by a number.
ERR_UNKNOWN_COMMAND = ERR_PREFIX + "unknown-command-"  # + the first 32 characters, non-printables as ?
ERR_LINE_TOO_LONG = ERR_PREFIX + "line-too-long-max-"
ERR_DB_LOAD_SIZE = ERR_PREFIX + "db-load-size-max-"
ERR_DB_NOT_LOADING = ERR_PREFIX + "db-not-loading-send-db-load-first"
ERR_DB_OVERFLOW = ERR_PREFIX + "db-overflow-or-odd-hex-expected-bytes-"
ERR_DB_BAD_HEX = ERR_PREFIX + "db-bad-hex-at-"
ERR_BLOAD_SIZE = ERR_PREFIX + "bload-size-max-"
ERR_BLOAD_PAYLOAD = ERR_PREFIX + "bload-payload-max-"
ERR_INFER_USAGE = ERR_PREFIX + "infer-usage-infer-N-W"
ERR_STACK_UNKNOWN = ERR_PREFIX + "stack-unknown-define-__stack_limit-and-__stack_top-in-the-linker-script"
ERR_STACK_OVERFLOW = ERR_PREFIX + "stack-overflow-size-"
#: A command ended in ``*<8 hex>`` that is not the CRC-32 of its text (the link corrupted it): nothing was done.
ERR_COMMAND_CRC = ERR_PREFIX + "command-crc"
ERR_SYNC_USAGE = ERR_PREFIX + "sync-usage-sync-TOKEN"
ERR_CLIP_USAGE = ERR_PREFIX + "clip-usage-clip-load-N-P-or-clip-pack-Z-N-E-P-or-clip-crop-S-L-F"
ERR_CLIP_SIZE = ERR_PREFIX + "clip-load-size-max-"
ERR_CLIP_CROP_SIZE = ERR_PREFIX + "clip-crop-length-max-"
ERR_CLIP_EMPTY = ERR_PREFIX + "clip-empty-load-a-clip-first"

_INTS = {
    "TH_PROTOCOL_VERSION": PROTOCOL_VERSION,
    "TH_LINE_MAX_BYTES": LINE_MAX_BYTES,
    "TH_FRAME_MAGIC": FRAME_MAGIC,
    "TH_FRAME_HEADER_BYTES": FRAME_HEADER_BYTES,
    "TH_FRAME_CRC_BYTES": FRAME_CRC_BYTES,
    "TH_FRAME_PAYLOAD_BYTES": FRAME_PAYLOAD_BYTES,
    "TH_FRAME_ABORT_SEQ": FRAME_ABORT_SEQ,
    "TH_LINE_CRC_DIGITS": LINE_CRC_DIGITS,
    "TH_SYNC_TOKEN_MAX": SYNC_TOKEN_MAX,
    "TH_CLIP_PACK_BLOCK": CLIP_PACK_BLOCK,
}
_HEX = {"TH_FRAME_MAGIC", "TH_FRAME_ABORT_SEQ"}
_CHARS = {"TH_COMMAND_TERMINATOR": COMMAND_TERMINATOR.decode(), "TH_CRC_MARK": CRC_MARK}
_STRINGS = {
    "TH_LINE_TERMINATOR": LINE_TERMINATOR.decode(),
    "TH_CMD_NAME": CMD_NAME,
    "TH_CMD_PROFILE": CMD_PROFILE,
    "TH_CMD_DB_LOAD": CMD_DB_LOAD,
    "TH_CMD_DB": CMD_DB,
    "TH_CMD_BLOAD": CMD_BLOAD,
    "TH_CMD_INFER": CMD_INFER,
    "TH_CMD_RESULTS": CMD_RESULTS,
    "TH_CMD_STACK": CMD_STACK,
    "TH_CMD_PROFILE_OPS": CMD_PROFILE_OPS,
    "TH_CMD_SYNC": CMD_SYNC,
    "TH_CMD_CLIP": CMD_CLIP,
    "TH_CMD_CLIP_LOAD": CMD_CLIP_LOAD,
    "TH_CMD_CLIP_CROP": CMD_CLIP_CROP,
    "TH_CMD_CLIP_PACK": CMD_CLIP_PACK,
    "TH_MSG_READY": READY,
    "TH_MSG_NAME": NAME,
    "TH_MSG_PROFILE": PROFILE,
    "TH_MSG_EXPECTING": EXPECTING,
    "TH_MSG_EXPECTING_END": EXPECTING_END,
    "TH_MSG_LOAD_DONE": LOAD_DONE,
    "TH_MSG_BLOAD": BLOAD,
    "TH_MSG_BLOAD_ABORT": BLOAD_ABORT,
    "TH_MSG_ACK": ACK,
    "TH_MSG_NAK": NAK,
    "TH_NAK_HEADER": NAK_HEADER,
    "TH_NAK_CRC": NAK_CRC,
    "TH_MSG_LAP": LAP,
    "TH_MSG_INFER_DONE": INFER_DONE,
    "TH_MSG_INFER_START": INFER_START,
    "TH_MSG_RESULTS_HEX": RESULTS_HEX,
    "TH_MSG_MLPERF_NAME": MLPERF_NAME,
    "TH_MSG_MLPERF_PROFILE": MLPERF_PROFILE,
    "TH_MSG_MLPERF_MODEL": MLPERF_MODEL,
    "TH_MSG_MLPERF_LAP_US": MLPERF_LAP_US,
    "TH_MSG_MLPERF_RESULTS": MLPERF_RESULTS,
    "TH_MSG_MLPERF_LIST_END": MLPERF_LIST_END,
    "TH_MSG_OP": OP,
    "TH_MSG_OP_TOTAL": OP_TOTAL,
    "TH_MSG_STACK_SIZE": STACK_SIZE,
    "TH_MSG_STACK_BASE": STACK_BASE,
    "TH_MSG_STACK_PEAK": STACK_PEAK,
    "TH_MSG_SYNC": SYNC,
    "TH_MSG_CLIP_LOAD": CLIP_LOAD,
    "TH_MSG_CLIP_CROP": CLIP_CROP,
    "TH_ERR_PREFIX": ERR_PREFIX,
    "TH_ERR_UNKNOWN_COMMAND": ERR_UNKNOWN_COMMAND,
    "TH_ERR_LINE_TOO_LONG": ERR_LINE_TOO_LONG,
    "TH_ERR_DB_LOAD_SIZE": ERR_DB_LOAD_SIZE,
    "TH_ERR_DB_NOT_LOADING": ERR_DB_NOT_LOADING,
    "TH_ERR_DB_OVERFLOW": ERR_DB_OVERFLOW,
    "TH_ERR_DB_BAD_HEX": ERR_DB_BAD_HEX,
    "TH_ERR_BLOAD_SIZE": ERR_BLOAD_SIZE,
    "TH_ERR_BLOAD_PAYLOAD": ERR_BLOAD_PAYLOAD,
    "TH_ERR_INFER_USAGE": ERR_INFER_USAGE,
    "TH_ERR_STACK_UNKNOWN": ERR_STACK_UNKNOWN,
    "TH_ERR_STACK_OVERFLOW": ERR_STACK_OVERFLOW,
    "TH_ERR_COMMAND_CRC": ERR_COMMAND_CRC,
    "TH_ERR_SYNC_USAGE": ERR_SYNC_USAGE,
    "TH_ERR_CLIP_USAGE": ERR_CLIP_USAGE,
    "TH_ERR_CLIP_SIZE": ERR_CLIP_SIZE,
    "TH_ERR_CLIP_CROP_SIZE": ERR_CLIP_CROP_SIZE,
    "TH_ERR_CLIP_EMPTY": ERR_CLIP_EMPTY,
}

HEADER_PATH = Path(__file__).resolve().parents[2] / "targets" / "common" / "th_protocol_constants.h"


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n") + '"'


def render_header() -> str:
    """Return the text of ``th_protocol_constants.h`` for the constants above (deterministic)."""
    out = [
        "/* GENERATED by `python -m harness.protocol.constants` from harness/protocol/constants.py. Do not edit. */",
        "#ifndef TH_PROTOCOL_CONSTANTS_H",
        "#define TH_PROTOCOL_CONSTANTS_H",
        "",
    ]
    out += [f"#define {name} {value:#x}u" if name in _HEX else f"#define {name} {value}u"
            for name, value in _INTS.items()]
    out += [f"#define {name} '{value}'" for name, value in _CHARS.items()]
    out += [f"#define {name} {_c_string(value)}" for name, value in _STRINGS.items()]
    out += ["", "#endif /* TH_PROTOCOL_CONSTANTS_H */", ""]
    return "\n".join(out)


def write_header(path: Path = HEADER_PATH) -> Path:
    """Write the generated C header to ``path`` (default: targets/common/th_protocol_constants.h); returns it."""
    path.write_text(render_header(), encoding="ascii")
    return path


if __name__ == "__main__":
    print(write_header(Path(sys.argv[1]) if len(sys.argv) > 1 else HEADER_PATH))
