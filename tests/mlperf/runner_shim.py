"""Run the official MLPerf Tiny runner (``main.py``) unmodified and in place, with its port discovery supplied
from outside: the one port it sees is ``PORT`` (a pseudo-terminal bridged to a QEMU twin's UART) with the USB
VID:PID of the devices file's DUT entry, and the host's real USB bus is hidden from it.

The runner finds ports through ``serial.tools.list_ports.comports()`` and USB-only power monitors through
``usb.core.find()`` (``device_manager.py``); a pty has no USB identity, so both are replaced in this process
before ``main.py`` runs (``runpy``, as ``python main.py`` would, with the runner's folder first on sys.path).

    python runner_shim.py RUNNER_DIR PORT VID:PID [main.py arguments...]
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def install_port(port: str, vid: int, pid: int) -> None:
    """Make ``serial.tools.list_ports.comports()`` list only ``port`` as a USB device ``vid``:``pid``, and
    ``usb.core.find()`` find nothing."""
    import usb.core  # noqa: PLC0415 - pyusb, which the runner imports too
    from serial.tools import list_ports, list_ports_common  # noqa: PLC0415

    info = list_ports_common.ListPortInfo(port, skip_link_detection=True)
    info.vid, info.pid = vid, pid
    info.description = "tinyhil twin UART (socat pty bridge)"
    info.hwid = f"USB VID:PID={vid:04X}:{pid:04X}"
    list_ports.comports = lambda include_links=False: [info]
    usb.core.find = lambda *args, **kwargs: [] if kwargs.get("find_all") else None


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    runner_dir, port, vid_pid, *args = argv
    vid, pid = (int(part, 16) for part in vid_pid.split(":"))
    install_port(port, vid, pid)
    main_py = Path(runner_dir) / "main.py"
    sys.path.insert(0, str(Path(runner_dir)))
    sys.argv = [str(main_py), *args]
    runpy.run_path(str(main_py), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
