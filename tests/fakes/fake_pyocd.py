"""A stand-in for the pyocd API behind :class:`harness.flash.pyocd_flasher.PyocdApi`: attached probes, sessions
that are context managers, and ``program`` that reads the ELF the way pyocd's FileProgrammer does (pyelftools,
so a file that is not an ELF raises pyelftools' ``ELFError``).  Failures are scripted with the exceptions pyocd
itself raises (pass instances of ``pyocd.core.exceptions`` types); ``hang_s`` makes programming block, and
``log_line`` is logged on the ``pyocd`` logger first, as a probe driver would."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from harness.flash.pyocd_flasher import ProbeInfo

NUCLEO_UID = "066DFF555185754867172229"  # ST-LINK/V2-1 unique IDs look like this


class FakeSession:
    """Looks like a pyocd Session to the flasher: a context manager that opens the probe on entry."""

    def __init__(self, api: "FakePyocd", unique_id: str) -> None:
        self.api, self.unique_id, self.closed = api, unique_id, False

    def __enter__(self) -> "FakeSession":
        if self.api.open_error:
            raise self.api.open_error
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class FakePyocd:
    """A PyocdApi with attached ``probes`` (unique IDs) and an optional scripted failure."""

    def __init__(self, probes=(NUCLEO_UID,), open_error: BaseException | None = None,
                 program_error: BaseException | None = None, hang_s: float = 0.0, log_line: str = "") -> None:
        self.probes = [ProbeInfo(uid, "STMicroelectronics", "STM32 STLink", target="stm32f746zg") for uid in probes]
        self.open_error, self.program_error, self.hang_s, self.log_line = open_error, program_error, hang_s, log_line
        self.programmed: list[tuple[str, Path, bytes]] = []
        self.sessions: list[FakeSession] = []

    def list_probes(self) -> list[ProbeInfo]:
        return list(self.probes)

    def open_session(self, unique_id: str, target: str) -> FakeSession:
        session = FakeSession(self, unique_id)
        self.sessions.append(session)
        return session

    def program(self, session: FakeSession, elf: Path) -> None:
        from elftools.elf.elffile import ELFFile  # noqa: PLC0415 (what pyocd's ELF reader uses)

        if self.log_line:
            logging.getLogger("pyocd.probe.stlink_probe").warning(self.log_line)
        if self.hang_s:
            time.sleep(self.hang_s)
        if self.program_error:
            raise self.program_error
        with open(elf, "rb") as fh:
            ELFFile(fh)  # raises ELFError("Magic number does not match") for a file that is not an ELF
            fh.seek(0)
            self.programmed.append((session.unique_id, Path(elf), fh.read()))
