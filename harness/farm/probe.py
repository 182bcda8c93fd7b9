"""Flashing a farm board through pyocd's remote probe server.

On the exporter host the probe is served with ``pyocd server --port 5555 --uid <probe UID>`` (pyocd's
"probe server", docs: pyocd.io "Remote probe access"); a client opens it as probe unique ID
``remote:HOST:PORT``, which pyocd's probe aggregator hands to its ``remote`` plugin (``TCPClientProbe``).  A remote
probe is never in the local list of attached probes, so :class:`RemotePyocdFlasher` skips the local choice
and opens the remote ID directly; programming, the time bound and the one-line errors are
:class:`~harness.flash.pyocd_flasher.PyocdFlasher`'s.
"""

from __future__ import annotations

from harness.errors import FlashError
from harness.flash import elf_path
from harness.flash.pyocd_flasher import PyocdFlasher, PyocdLibrary


class RemotePyocdFlasher(PyocdFlasher):
    """Programs ``board`` through the remote probe ``probe`` (``remote:HOST:PORT``); ``port``: the board's serial
    URL (``rfc2217://...``).  ``api``: a :class:`~harness.flash.pyocd_flasher.PyocdApi` (tests: a fake).
    Raises FlashError (not a remote ID, server unreachable, pyocd's own failures in one line)."""

    def load(self, image) -> None:
        """Program, verify and reset ``image`` through the remote probe.  Raises FlashError."""
        if not (self.probe or "").startswith("remote:") or self.probe.count(":") != 2:
            raise FlashError(f"{self.probe!r} is not a remote probe; use remote:HOST:PORT (pyocd server on the "
                             "exporter)")
        elf = elf_path(image)
        self._flash(self._api or PyocdLibrary(), self.probe, self.board.flasher.target, elf)
