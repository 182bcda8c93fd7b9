"""The real device protocol code (targets/common, built for the host) driven by the real DeviceClient,
over a socket (QEMU twin shape) and a pty (serial port shape)."""

from __future__ import annotations

import os
import struct
import subprocess
import time
import zlib

import pytest

from harness.errors import ProtocolError, TransportError
from harness.protocol.client import DeviceClient
from harness.protocol.constants import FRAME_MAGIC, PROTOCOL_VERSION
from harness.transport.faults import FaultInjectingTransport
from hostdut import TARGETS, HostDut, build_host_dut, fake_model_output
from harness.transport.transcript import ReplayTransport

INPUT_BYTES = 30720




def header(seq: int, length: int) -> bytes:
    return struct.pack("<BHH", FRAME_MAGIC, seq, length)


@pytest.fixture
def tensor() -> bytes:
    return os.urandom(INPUT_BYTES)


def test_boot_name_profile(client: DeviceClient):
    assert client.name() == "host-fake"
    facts = client.device_info()
    assert facts["protocol"] == PROTOCOL_VERSION
    assert facts["input_bytes"] == INPUT_BYTES and facts["output_bytes"] == 16
    assert facts["timer_unit"] == "ticks" and facts["board"] == "host" and facts["profile_ops"] == 0


@pytest.mark.parametrize("binary", [True, False], ids=["bload", "hex"])
def test_run_inference(client: DeviceClient, tensor: bytes, binary: bool):
    output, laps = client.run_inference(tensor, n=3, warmup=2, binary=binary)
    assert output == fake_model_output(tensor)
    assert laps.unit == "ticks" and laps.counts == (INPUT_BYTES,) * 3  # one tick per input byte, exactly


@pytest.mark.parametrize("payload", [1, 7, 1000, 1024])
def test_bload_payload_sizes(client: DeviceClient, payload: int):
    data = os.urandom(3001 if payload < 8 else INPUT_BYTES)
    client.load_input(data, payload_bytes=payload)
    client.infer(1)
    if len(data) == INPUT_BYTES:
        assert client.results() == fake_model_output(data)


def test_corrupted_payload_is_nacked_and_resent(dut: HostDut, tensor: bytes):
    faulty = FaultInjectingTransport(dut.transport)
    faulty.flip_byte(header(3, 1024), 5 + 100)  # a payload byte of frame 3
    faulty.flip_byte(header(7, 1024), 5 + 1024 + 2)  # a CRC byte of frame 7
    client = DeviceClient(faulty, "host", timeout=2.0)
    client.wait_ready(2.0)
    output, _ = client.run_inference(tensor)
    assert output == fake_model_output(tensor)
    assert len(faulty.fired) == 2 and client.resends == 2


@pytest.mark.parametrize("offset", [0, 1, 3, 4], ids=["magic", "seq", "len-low", "len-high"])
def test_corrupted_header_resyncs(dut: HostDut, tensor: bytes, offset: int):
    faulty = FaultInjectingTransport(dut.transport)
    faulty.flip_byte(header(5, 1024), offset)
    client = DeviceClient(faulty, "host", timeout=2.0, ack_timeout=0.3)
    client.wait_ready(2.0)
    output, _ = client.run_inference(tensor)
    assert output == fake_model_output(tensor)
    assert faulty.fired and client.resends >= 1


def test_lost_ack_times_out_and_duplicate_is_reacked(dut: HostDut, tensor: bytes):
    faulty = FaultInjectingTransport(dut.transport)
    faulty.drop_line("m-ack-4")
    client = DeviceClient(faulty, "host", timeout=2.0, ack_timeout=0.3)
    client.wait_ready(2.0)
    start = time.monotonic()
    output, _ = client.run_inference(tensor)
    assert output == fake_model_output(tensor)
    assert client.resends == 1 and time.monotonic() - start >= 0.3


def test_lost_last_ack_is_covered_by_load_done(dut: HostDut, tensor: bytes):
    faulty = FaultInjectingTransport(dut.transport)
    faulty.drop_line("m-ack-29")  # 30720 / 1024 = 30 frames: 0..29
    client = DeviceClient(faulty, "host", timeout=2.0, ack_timeout=0.3)
    client.wait_ready(2.0)
    client.load_input(tensor)
    assert client.resends == 0 and client.name() == "host-fake"


def test_frame_never_accepted_raises_and_device_recovers(dut: HostDut, tensor: bytes):
    faulty = FaultInjectingTransport(dut.transport)
    for _ in range(3):
        faulty.flip_byte(header(2, 1024), 50)
    client = DeviceClient(faulty, "host", timeout=2.0, retries=3)
    client.wait_ready(2.0)
    with pytest.raises(ProtocolError, match="frame 2 not acknowledged after 3 sends.*m-nak-2-crc"):
        client.load_input(tensor, payload_bytes=1024)  # a fixed frame size: one load attempt
    assert client.name() == "host-fake"  # the abort frame returned the device to command mode
    for _ in range(3):
        faulty.flip_byte(header(2, 1024), 50)
    client.load_input(tensor)  # adaptive: the failed load is repeated with 512-byte frames
    assert client.stats.rerequests == 1 and client.resends == 2 + 2  # 2 re-sends per failed load of frame 2
    client.infer(1)
    assert client.results() == fake_model_output(tensor)


def test_silent_device_raises_transport_error_within_timeout(dut: HostDut):
    client = DeviceClient(dut.transport, "host", timeout=0.5)
    client.wait_ready(2.0)
    dut.pause()
    start = time.monotonic()
    last = r"\(last bytes received: b'm-ready\\r\\n'\)"
    with pytest.raises(TransportError, match=r"no reply to 'name'.*within 0.5 s " + last):
        client.name()
    assert time.monotonic() - start < 1.5  # the reply wait, then one resync of the client timeout


def test_no_boot_line_raises(dut: HostDut):
    client = DeviceClient(dut.transport, "host")
    client.wait_ready(2.0)
    with pytest.raises(TransportError, match="m-ready"):
        client.wait_ready(0.3)


def test_ping_resyncs_after_missed_boot_line(dut: HostDut):
    client = DeviceClient(dut.transport, "host")
    client.wait_ready(2.0)  # consume the boot line, as if the port opened late
    client.wait_ready(2.0, ping_interval=0.2)
    assert client.name() == "host-fake"


@pytest.mark.parametrize("command, error", [
    ("frobnicate", "e-unknown-command-frobnicate"),
    (f"bload {INPUT_BYTES + 1}", "e-bload-size-max-30720"),
    ("bload 10 2000", "e-bload-payload-max-1024"),
    ("db load 0", "e-db-load-size-max-30720"),
    ("db 00", "e-db-not-loading"),
    ("infer x", "e-infer-usage"),
    ("x" * 300, "e-line-too-long-max-256"),
])
def test_refused_commands(client: DeviceClient, command: str, error: str):
    with pytest.raises(ProtocolError, match=error):
        client.command(command)
    assert client.name() == "host-fake"


def test_bad_hex_aborts_the_hex_load(client: DeviceClient):
    client.command("db load 4")
    with pytest.raises(ProtocolError, match="e-db-bad-hex"):
        client.command("db 00zz")
    with pytest.raises(ProtocolError, match="e-db-not-loading"):
        client.command("db 0000")


def test_eembc_replies(client: DeviceClient):
    assert client.command("db load 2") == ["m-[Expecting 2 bytes]"]
    assert client.command("db 0102") == ["m-load-done"]
    assert client.command("") == []  # an empty command is a ping


def test_transcript_records_and_replays(dut: HostDut, tensor: bytes, tmp_path):
    path = tmp_path / "host.transcript"
    live = DeviceClient(dut.transport, "host", timeout=2.0, transcript=path)
    live.wait_ready(2.0)
    expected = live.run_inference(tensor, n=2)
    live.close()
    replay = DeviceClient(ReplayTransport(path), "host", timeout=0.2)
    replay.wait_ready(0.2)
    assert replay.run_inference(tensor, n=2) == expected
    with pytest.raises(ProtocolError, match="host protocol changed"):
        replay.name()


def test_nanosecond_timer_and_board_name(host_dut_exe):
    with HostDut(host_dut_exe, "socket", env={"TH_HOST_TIMER": "ns", "TH_HOST_BOARD": "bench"}) as dut:
        client = DeviceClient(dut.transport, "bench")
        client.wait_ready(2.0)
        laps = client.infer(2)
        assert laps.unit == "ns" and all(c > 0 for c in laps.counts)
        assert client.device_info()["board"] == "bench"


def test_profile_ops_build(tmp_path):
    exe = build_host_dut(tmp_path, {"TH_PROFILE_OPS": 1, "TH_FAKE_INPUT_BYTES": 1000})
    with HostDut(exe, "pty") as dut:
        client = DeviceClient(dut.transport, "host")
        client.wait_ready(2.0)
        assert client.device_info()["profile_ops"] == 1
        lines = client.command("profile-ops")
        assert lines[0] == "m-op-0-ticks-1000" and lines[1].startswith("m-op-total-ticks-")
        ops = client.profile_ops()
        assert ops.unit == "ticks" and ops.counts == (1000,) and ops.total >= 1000


def test_stack_command_on_a_port_without_stack_symbols(host_dut_exe):
    """The host port has no __stack_limit/__stack_top: the weak references are null, a one-line refusal."""
    with HostDut(host_dut_exe, "pty") as dut:
        client = DeviceClient(dut.transport, "host")
        client.wait_ready(2.0)
        with pytest.raises(ProtocolError, match="stack-unknown"):
            client.stack()
        assert client.name().startswith("host")  # still serving commands


def test_c_crc32_matches_zlib(tmp_path):
    main = tmp_path / "crc_main.c"
    main.write_text(
        '#include <stdio.h>\n#include "th_crc32.h"\n'
        "int main(void){static unsigned char b[70000]; size_t n=fread(b,1,sizeof b,stdin);"
        "unsigned long c=th_crc32_update(0,b,(uint32_t)(n/3));"
        "c=th_crc32_update((uint32_t)c,b+n/3,(uint32_t)(n-n/3)); printf(\"%08lx\\n\",c); return 0;}\n")
    exe = tmp_path / "crc"
    subprocess.run(["gcc", "-std=c99", "-O2", f"-I{TARGETS / 'common'}", "-o", str(exe), str(main),
                    str(TARGETS / "common" / "th_crc32.c")], check=True)
    for data in (b"", b"123456789", os.urandom(1), os.urandom(65536)):
        got = subprocess.run([str(exe)], input=data, capture_output=True, check=True).stdout.strip()
        assert int(got, 16) == zlib.crc32(data)


def test_every_data_line_carries_its_crc_and_ready_does_not(dut: HostDut):
    """Protocol v2 on the wire, read raw: each line but m-ready ends in *<CRC-32 of its text>."""
    from harness.protocol.lines import LineReader, line_crc

    client = DeviceClient(dut.transport, "host", timeout=2.0)
    client.wait_ready(2.0)
    dut.transport.write(b"profile%name%results%frobnicate%")
    reader = LineReader(dut.transport)
    raw = []
    while len([r for r in raw if r == "m-ready"]) < 4:
        raw.append(reader.readline(2.0))
    data = [r for r in raw if r != "m-ready"]
    assert len(data) >= 15 and all("*" in r for r in data)
    for r in data:
        text, _, digits = r.rpartition("*")
        assert line_crc(text) == "*" + digits, r


def test_command_crc_is_checked_by_the_dut(client: DeviceClient):
    """A command whose CRC suffix does not match is not executed: e-command-crc, then m-ready."""
    from harness.protocol.lines import with_crc

    good = with_crc("db load 4")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    client.transport.write(bad.encode() + b"%")
    lines = []
    while (line := client._readline(2.0, "reply")) != "m-ready":
        lines.append(line)
    assert lines == ["e-command-crc"]
    with pytest.raises(ProtocolError, match="e-db-not-loading"):  # the db load was not executed
        client.command("db 00")


@pytest.mark.parametrize("command, reply", [("sync 1f", "m-sync-1f"), ("sync", "e-unknown-command-sync"),
                                            ("sync " + "x" * 33, "e-sync-usage")])
def test_sync_marker(client: DeviceClient, command: str, reply: str):
    if reply.startswith("e-"):
        with pytest.raises(ProtocolError, match=reply):
            client.command(command)
    else:
        assert client.command(command) == [reply]
