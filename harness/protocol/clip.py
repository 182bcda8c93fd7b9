"""The host side of ``clip load`` / ``clip crop`` (targets/PROTOCOL.md, "Clip crops"; issue 12, item 8): the
host uploads a raw-waveform clip once and the DUT cuts each crop into its input tensor, so ACDNet-20 moves
~100 KB per 5 s clip instead of 10 crops x 30 KB.

Every crop is checked end to end: ``clip crop`` answers the CRC-32 of the bytes it wrote into the input tensor,
and the host compares it with the CRC of its own crop (:meth:`harness.data.clips.ClipPlan.crc`) before it lets
the DUT infer; a mismatch (a DUT that rebooted or lost its clip) reloads the clip and repeats the crop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from harness.errors import ClipMismatchError, DutRefusedError, ProtocolError
from harness.protocol import constants as C
from harness.protocol.clip_pack import pack_encode

if TYPE_CHECKING:
    from harness.data.clips import ClipPlan
    from harness.protocol.client import Laps


class ClipCommands:
    """Mixin of :class:`~harness.protocol.client.DeviceClient` (uses its ``_load_adaptive``, ``query``,
    ``infer``, ``results``, ``_retrying``, ``_label``).  ``loaded_clip``: the plan whose clip the DUT holds
    (by identity), None when unknown (a new client, e.g. after a reset, knows nothing)."""

    loaded_clip: ClipPlan | None = None
    pack_refused: bool = False  #: the DUT refused ``clip pack`` once: plain ``clip load`` from then on
    retries: int
    timeout: float
    stall_s: float

    def load_clip(self, data: bytes) -> None:
        """The frames of ``data`` (1 .. clip_bytes bytes) into the clip buffer, as robust as ``bload``
        (adaptive frame size, re-sends, resync): compressed (``clip pack Z N E P%``, see
        :mod:`harness.protocol.clip_pack`) when that is shorter and the DUT has room for both, else
        ``clip load N P%``.
        Raises DutRefusedError (too long for the clip buffer), ProtocolError or TransportError."""
        if not data:
            raise ValueError("load_clip needs at least one byte")
        self.loaded_clip = None
        data = bytes(data)
        zero = int(np.bincount(np.frombuffer(data, np.uint8), minlength=256).argmax())  # the zero point, mostly
        encoded = pack_encode(data, zero)
        if len(encoded) < len(data) and not self.pack_refused:
            try:
                return self._load_adaptive(encoded, f"{C.CMD_CLIP_PACK} {zero} {len(data)}", C.CLIP_LOAD)
            except DutRefusedError:  # no room for clip + encoded bytes, or firmware without `clip pack`
                self.pack_refused = True
        self._load_adaptive(data, C.CMD_CLIP_LOAD, C.CLIP_LOAD)

    def crop(self, start: int, length: int, fill: int) -> int:
        """``clip crop S L F%``: the DUT copies bytes [start, start + length) of its clip into the input tensor
        (``fill`` outside the clip).  Returns the CRC-32 it reports for those ``length`` bytes.  Idempotent:
        a damaged reply is re-requested.  Raises DutRefusedError (no clip loaded: ``e-clip-empty-...``; length
        over the input size), ProtocolError, TransportError."""
        if not 0 <= fill <= 255 or length < 1:
            raise ValueError(f"crop needs 1 <= length and a fill byte 0..255, got length={length} fill={fill}")

        def parse(lines: list[str]) -> int:
            for line in lines:
                digits = line[len(C.CLIP_CROP):]
                if line.startswith(C.CLIP_CROP) and len(digits) == 8:
                    try:
                        return int(digits, 16)
                    except ValueError:
                        break
            raise ProtocolError(f"{self._label()}: no {C.CLIP_CROP}<8 hex> line in reply to 'clip crop'; "
                                "rebuild the firmware from this checkout")

        return self.query(f"{C.CMD_CLIP_CROP} {start} {length} {fill}", check=parse)

    def cut_crop(self, plan: ClipPlan, k: int) -> None:
        """Crop ``k`` of ``plan`` into the input tensor, loading the clip first when the DUT does not hold it;
        the DUT's CRC must equal the host crop's.  Raises ClipMismatchError when it does not even after a
        reload (the firmware cuts differently from the host: a bug, not noise)."""
        for fresh in (False, True):
            if fresh or self.loaded_clip is not plan:
                self.load_clip(plan.data)
                self.loaded_clip = plan
            try:
                crc = self.crop(plan.starts[k], plan.length, plan.fill)
            except DutRefusedError as exc:
                if C.ERR_CLIP_EMPTY not in str(exc) or fresh:
                    raise
                continue  # the DUT lost its clip (rebooted): load it again
            if crc == plan.crc(k):
                return
            self.loaded_clip = None
            if fresh:
                raise ClipMismatchError(
                    f"{self._label()}: the DUT's crop {k} has CRC-32 {crc:08x}, the host's {plan.crc(k):08x}, right "
                    "after loading the clip; the firmware's 'clip crop' differs from the host preprocessing: rebuild "
                    "the firmware from this checkout")

    def run_crop_inference(self, plan: ClipPlan, k: int, n: int = 1, warmup: int = 0,
                           timeout: float | None = None) -> tuple[bytes, Laps]:
        """Crop ``k`` of ``plan`` on the DUT (the clip uploaded once per plan), ``infer n warmup``, ``results``;
        returns (output bytes, laps) like :meth:`DeviceClient.run_inference`, retried as a unit the same way
        (a damaged or lost ``infer`` reply re-cuts the crop before the re-run)."""
        def attempt():
            self.cut_crop(plan, k)
            laps = self.infer(n, warmup, timeout=timeout, retries=0)
            return self.results(), laps

        per = self.timeout if timeout is None else timeout
        return self._retrying("crop inference", attempt, self.retries,
                              resync_timeout=max(per * (n + warmup + 1), self.stall_s),
                              counter="reruns")

