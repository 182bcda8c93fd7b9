"""What is attached: debug probes (pyocd) and serial ports (pyserial's list_ports), matched to catalog boards.

A port matches a board when its USB VID:PID is in the board's ``usb`` list (boards.yaml).  A probe and a port
belong to the same board when the port's USB serial number equals the probe's unique ID (ST-LINK, J-Link OB
and the Raspberry Pi Debug Probe expose probe and virtual COM port as one USB device).  This is how
``--probe UID`` finds its ``--port`` and how ``tinyhil probes`` pairs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.boards import Board
from harness.flash.pyocd_flasher import ProbeInfo, PyocdApi


@dataclass(frozen=True)
class PortInfo:
    """One serial port: device path, USB VID:PID (upper-case hex, "" if not USB), USB serial number."""

    device: str
    usb_id: str = ""
    serial_number: str = ""
    description: str = ""


@dataclass(frozen=True)
class Attached:
    """One attached board candidate: a probe and/or a port, and the catalog boards it may be."""

    probe: ProbeInfo | None
    port: PortInfo | None
    boards: tuple[str, ...]


def list_ports() -> list[PortInfo]:
    """Serial ports from pyserial (``serial.tools.list_ports.comports``)."""
    from serial.tools import list_ports as lp  # noqa: PLC0415

    out = []
    for p in lp.comports():
        usb = f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None and p.pid is not None else ""
        out.append(PortInfo(p.device, usb, p.serial_number or "", p.description or ""))
    return sorted(out, key=lambda p: p.device)


def list_probes(api: PyocdApi | None = None) -> tuple[list[ProbeInfo], str]:
    """Attached pyocd probes and, when pyocd is unavailable or fails, a one-line reason ('' if fine)."""
    try:
        if api is None:
            from harness.flash.pyocd_flasher import PyocdLibrary  # noqa: PLC0415

            api = PyocdLibrary()
        return api.list_probes(), ""
    except Exception as exc:  # noqa: BLE001 (a listing must not fail because one backend does)
        return [], str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def boards_for_port(port: PortInfo, catalog: dict[str, Board]) -> tuple[str, ...]:
    """Catalog boards whose ``usb`` list contains the port's VID:PID."""
    return tuple(name for name, b in catalog.items() if port.usb_id and port.usb_id.upper() in
                 {u.upper() for u in b.usb})


def boards_for_probe(probe: ProbeInfo, catalog: dict[str, Board]) -> tuple[str, ...]:
    """Catalog boards whose pyocd target equals the target pyocd associates with the probe's board ID."""
    if not probe.target:
        return ()
    return tuple(name for name, b in catalog.items()
                 if b.flasher.kind == "pyocd" and b.flasher.target.lower() == probe.target.lower())


def match(probes: list[ProbeInfo], ports: list[PortInfo], catalog: dict[str, Board]) -> list[Attached]:
    """Pair probes with ports (same USB serial number) and name the catalog boards each pair may be."""
    rows: list[Attached] = []
    used: set[str] = set()
    for probe in probes:
        port = next((p for p in ports if p.serial_number and p.serial_number == probe.unique_id), None)
        if port:
            used.add(port.device)
        boards = boards_for_probe(probe, catalog) or (boards_for_port(port, catalog) if port else ())
        rows.append(Attached(probe, port, boards))
    for port in ports:
        if port.device not in used:
            rows.append(Attached(None, port, boards_for_port(port, catalog)))
    return rows


def port_for_probe(unique_id: str, ports: list[PortInfo]) -> str | None:
    """The serial port of the probe ``unique_id`` (same USB serial number), or None."""
    return next((p.device for p in ports if p.serial_number and p.serial_number == unique_id), None)


def check_link(target, ports: list[PortInfo] | None = None, probes: list[ProbeInfo] | None = None) -> None:
    """Before any build: can ``target`` (a :class:`harness.target.Target`) be reached?  Twins always can.  A real
    board needs a serial port (``--port``, or the port sharing ``--probe``'s serial number); a port given as a
    device path must exist; a given probe must be attached (when pyocd can list probes).  ``ports``/``probes``
    default to what pyserial and pyocd see.  Raises TransportError (port) or FlashError (probe), one line each.
    """
    from harness.errors import FlashError, TransportError  # noqa: PLC0415

    spec = target.flasher
    if spec.kind == "qemu":
        return
    ports = list_ports() if ports is None else ports
    if spec.probe and spec.kind == "pyocd":
        found, why = (probes, "") if probes is not None else list_probes()
        if not why and spec.probe not in {p.unique_id for p in found}:
            attached = ", ".join(p.unique_id for p in found) or "none"
            raise FlashError(f"--probe {spec.probe} is not attached (attached probes: {attached}); check the USB "
                             "cable or pick one from `tinyhil probes`")
    port = spec.port
    if port is None and spec.probe is not None:
        port = port_for_probe(spec.probe, ports)
    if port is None:
        raise TransportError(f"no serial port for {target.name}: pass --port (see `tinyhil probes`) or --emulate")
    if "://" not in port and not port.startswith("loop:"):
        from pathlib import Path  # noqa: PLC0415

        if not Path(port).exists() and port not in {p.device for p in ports}:
            listed = ", ".join(p.device for p in ports) or "none"
            raise TransportError(f"--port {port} does not exist (serial ports here: {listed}); check the cable "
                                 "or see `tinyhil probes`")
