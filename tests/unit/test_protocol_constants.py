"""The C header of protocol constants is generated from Python and must be committed up to date."""

from __future__ import annotations

import re

from harness.protocol import constants as C


def test_committed_header_is_up_to_date():
    assert C.HEADER_PATH.read_text(encoding="ascii") == C.render_header(), (
        "targets/common/th_protocol_constants.h is stale: run `python -m harness.protocol.constants` and commit it")


def test_write_header(tmp_path):
    path = C.write_header(tmp_path / "h.h")
    text = path.read_text()
    assert "#define TH_FRAME_MAGIC 0xa5u" in text
    assert '#define TH_LINE_TERMINATOR "\\r\\n"' in text
    assert "#define TH_COMMAND_TERMINATOR '%'" in text


def test_constants_fit_the_wire():
    assert C.FRAME_PAYLOAD_BYTES <= 0xFFFF and C.FRAME_ABORT_SEQ == 0xFFFF
    assert bytes([C.FRAME_MAGIC]) not in (C.COMMAND_TERMINATOR, b"\r", b"\n")
    assert C.LINE_MAX_BYTES >= len("db ") + 2


def _string_literals(c_source: str) -> list[str]:
    """The string literals of a C source, comments removed first (escape sequences kept as written)."""
    code = re.sub(r"/\*.*?\*/|//[^\n]*", " ", c_source, flags=re.S)
    code = re.sub(r"^\s*#\s*(error|include)\b[^\n]*", " ", code, flags=re.M)  # build messages, header names
    return re.findall(r'"((?:[^"\\\n]|\\.)*)"', code)


def test_firmware_takes_every_command_and_reply_prefix_from_the_generated_header():
    """A command name or an m-/e- reply spelled out in targets/common would drift from the Python side."""
    prefixes = (C.MSG_PREFIX, C.ERR_PREFIX)
    words = {v for v in C._STRINGS.values() if len(v) > 1}  # commands, replies, NAK reasons
    words |= {v[len(C.ERR_PREFIX):] for v in words if v.startswith(C.ERR_PREFIX) and v != C.ERR_PREFIX}  # e- + what
    sources = sorted(C.HEADER_PATH.parent.glob("*.c"))
    assert len(sources) >= 4, sources
    for src in sources:
        for text in _string_literals(src.read_text(encoding="ascii")):
            assert not text.startswith(prefixes), f"{src.name}: reply {text!r} is not from the header"
            assert text.rstrip() not in words, f"{src.name}: {text!r} is spelled out, use the header's macro"


def test_header_defines_every_command_and_reply():
    text = C.render_header()
    for name, value in vars(C).items():
        if name.startswith(("CMD_", "ERR_")) and isinstance(value, str) and name != "ERR_PREFIX":
            assert f"#define TH_{name} {C._c_string(value)}" in text, name
