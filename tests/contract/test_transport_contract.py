"""One contract, every Transport (STYLE 8): each subclass provides a transport and its raw peer end."""

from __future__ import annotations

import os
import pty
import select
import socket
import time
import tty

import pytest

from harness.errors import TransportError
from harness.transport.transcript import RecordingTransport, ReplayTransport
from harness.transport.serial import ConsoleTransport, SerialTransport, SocketTransport, Transport


class Peer:
    """The far end of a link, as raw fds/sockets: send bytes to the transport, receive what it wrote."""

    def __init__(self, send, recv, close) -> None:
        self.send, self.recv, self.close = send, recv, close

    def recv_exactly(self, n: int, timeout: float = 2.0) -> bytes:
        out, deadline = b"", time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            out += self.recv(n - len(out), deadline - time.monotonic())
        return out


def _sock_peer(sock: socket.socket) -> Peer:
    def recv(n, timeout):
        ready, _, _ = select.select([sock], [], [], max(timeout, 0))
        return sock.recv(n) if ready else b""
    return Peer(sock.sendall, recv, sock.close)


class TransportContract:
    """Behaviour every Transport must have.  Subclasses implement ``make`` -> (transport, peer)."""

    def make(self, tmp_path) -> tuple[Transport, Peer]:
        raise NotImplementedError

    @pytest.fixture
    def link(self, tmp_path):
        transport, peer = self.make(tmp_path)
        yield transport, peer
        transport.close()
        peer.close()

    def read_all(self, transport: Transport, n: int, timeout: float = 2.0) -> bytes:
        out, deadline = b"", time.monotonic() + timeout
        while len(out) < n and time.monotonic() < deadline:
            out += transport.read(n - len(out), deadline - time.monotonic())
        return out

    def test_is_a_transport(self, link):
        assert isinstance(link[0], Transport)

    def test_write_reaches_peer(self, link):
        transport, peer = link
        data = bytes(range(256)) * 8
        transport.write(data)
        assert peer.recv_exactly(len(data)) == data

    def test_read_gets_peer_bytes_binary_safe(self, link):
        transport, peer = link
        data = bytes(range(256)) * 8
        peer.send(data)
        assert self.read_all(transport, len(data)) == data

    def test_read_returns_at_most_n(self, link):
        transport, peer = link
        peer.send(b"abcdef")
        time.sleep(0.05)
        first = transport.read(2, 1.0)
        assert 1 <= len(first) <= 2
        assert first + self.read_all(transport, 6 - len(first)) == b"abcdef"

    def test_read_times_out_empty(self, link):
        transport, _ = link
        start = time.monotonic()
        assert transport.read(10, 0.2) == b""
        assert 0.15 <= time.monotonic() - start < 1.0

    def test_close_is_idempotent(self, link):
        transport, _ = link
        transport.close()
        transport.close()

    def test_peer_gone_raises(self, link):
        transport, peer = link
        peer.close()
        with pytest.raises(TransportError, match="failed|closed"):
            for _ in range(3):
                transport.read(1, 0.2)


class TestSocketTransport(TransportContract):
    def make(self, tmp_path):
        a, b = socket.socketpair()
        return SocketTransport(a, "pair"), _sock_peer(b)


class TestSerialTransportSocketUrl(TransportContract):
    """The QEMU twin shape: ``socket://127.0.0.1:PORT``."""

    def make(self, tmp_path):
        with socket.create_server(("127.0.0.1", 0)) as server:
            transport = SerialTransport(f"socket://127.0.0.1:{server.getsockname()[1]}")
            conn, _ = server.accept()
        return transport, _sock_peer(conn)


class TestSerialTransportPty(TransportContract):
    """The real-port shape: a tty device path opened by pyserial."""

    def make(self, tmp_path):
        master, slave = pty.openpty()
        tty.setraw(slave)
        transport = SerialTransport(os.ttyname(slave))
        os.close(slave)

        def recv(n, timeout):
            ready, _, _ = select.select([master], [], [], max(timeout, 0))
            return os.read(master, n) if ready else b""

        def send(data):
            os.write(master, data)

        state = {"open": True}

        def close():
            if state.pop("open", False):
                os.close(master)
        return transport, Peer(send, recv, close)


class FakeLabgridConsole:
    """Mimics labgrid's ConsoleProtocol: read(size, timeout, max_size) raises TIMEOUT when nothing arrives."""

    class TIMEOUT(Exception):
        pass

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def read(self, size: int = 1, timeout: float = 0.0, max_size: int | None = None) -> bytes:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise self.TIMEOUT(f"no data in {timeout} s")
        data = self.sock.recv(max_size or 4096)
        if not data:
            raise ConnectionError("console closed")
        return data


class TestConsoleTransport(TransportContract):
    """The labgrid seam, over a fake console with labgrid's method signatures."""

    def make(self, tmp_path):
        a, b = socket.socketpair()
        return ConsoleTransport(FakeLabgridConsole(a)), _sock_peer(b)


class TestRecordingTransport(TransportContract):
    """The transcript wrapper is a Transport too, and its file replays."""

    def make(self, tmp_path):
        a, b = socket.socketpair()
        self.path = tmp_path / "serial.transcript"
        return RecordingTransport(SocketTransport(a), self.path), _sock_peer(b)

    def test_transcript_replays(self, link):
        transport, peer = link
        transport.write(b"name%")
        assert peer.recv_exactly(5) == b"name%"
        peer.send(b"m-name-x\r\n")
        assert self.read_all(transport, 10) == b"m-name-x\r\n"
        transport.close()
        replay = ReplayTransport(self.path)
        replay.write(b"name%")
        assert replay.read(100, 0.1) == b"m-name-x\r\n"
        assert replay.read(100, 0.1) == b""
