"""The device under test as the runner sees it: a flashed board or twin behind the serial protocol.

:class:`ProtocolDut` adapts a :class:`~harness.protocol.client.DeviceClient` to the runner's
``infer(x) -> (output, count)``.  :func:`open_dut` is the one place where a twin and a real board differ:
a twin is started by QEMU (:class:`~harness.flash.qemu.QemuTwin`) and reached through a ``socket://`` URL;
a board is flashed with its probe (:mod:`harness.flash.pyocd_flasher`) and reached on its serial port.
Both end in the same transport, client and DUT, and both are closed on every exit path.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np

from harness.boards import Board
from harness.codegen.graph import Tensor
from harness.errors import TinyhilError
from harness.protocol.client import DeviceClient
from harness.transport import SerialTransport

BOOT_TIMEOUT_S = 20.0


class ProtocolDut:
    """Runs inferences on a DUT through ``client``; input/output tensors give dtypes and shapes.

    ``infer(x)`` loads the tensor (binary frames), runs ``infer 1 0`` (no warm-up: a twin is deterministic;
    use :meth:`DeviceClient.infer` directly for MLPerf-style windows), reads the output.
    """

    def __init__(self, client: DeviceClient, input_tensor: Tensor, output_tensor: Tensor) -> None:
        self.client = client
        self.input_tensor = input_tensor
        self.output_tensor = output_tensor
        self.timer_unit = "unknown"

    def infer(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        data = np.ascontiguousarray(x, dtype=self.input_tensor.dtype).tobytes()
        raw, laps = self.client.run_inference(data)
        self.timer_unit = laps.unit
        if len(raw) != self.output_tensor.nbytes:
            raise TinyhilError(f"DUT returned {len(raw)} output bytes, model has {self.output_tensor.nbytes}; "
                               "the firmware was built for another model: rebuild")
        out = np.frombuffer(raw, dtype=self.output_tensor.dtype).reshape(self.output_tensor.shape)
        return out, laps.counts[0]


@contextlib.contextmanager
def open_dut(board: Board, elf: Path, input_tensor: Tensor, output_tensor: Tensor, *, emulate: bool,
             run_dir: Path, port: str | None = None, probe: str | None = None,
             infer_timeout_s: float = 120.0) -> Iterator[ProtocolDut]:
    """Flash/start ``elf`` on ``board`` (its twin when ``emulate``), connect, wait for ``m-ready``.

    ``run_dir`` receives ``serial.log`` (the transcript) and the emulator log.  Raises FlashError,
    TransportError; the emulator or port is always released.
    """
    with contextlib.ExitStack() as stack:
        if emulate:
            from harness.flash.qemu import QemuTwin

            twin = stack.enter_context(QemuTwin(board, elf, log_dir=run_dir))
            url = twin.url
        else:
            from harness.flash import hardware_flasher

            flasher = hardware_flasher(board, probe=probe, port=port)  # pyocd or esptool, from boards.yaml
            flasher.load(elf)
            stack.callback(flasher.stop)
            url = flasher.url
        transport = SerialTransport(url, baudrate=board.serial.baudrate)
        client = DeviceClient(transport, board.name, timeout=infer_timeout_s, ack_timeout=5.0,
                              transcript=run_dir / "serial.log")
        stack.callback(client.close)
        client.wait_ready(BOOT_TIMEOUT_S)
        yield ProtocolDut(client, input_tensor, output_tensor)
