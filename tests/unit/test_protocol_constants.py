"""The C header of protocol constants is generated from Python and must be committed up to date."""

from __future__ import annotations

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
