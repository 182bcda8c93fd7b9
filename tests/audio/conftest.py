"""The virtual sound card of the audio tests (:class:`harness.audio.virtual.VirtualSoundCard`): a PulseAudio
null sink as a lossless loopback (``pulse``) and a file-fed microphone (``tinyhil_mic``), started and stopped here,
no hardware. Skipped with the reason when pulseaudio or PortAudio is missing (scripts/setup.sh installs them)."""

from __future__ import annotations

import os

import pytest

RATE = 20000  # the null sink's rate: the model's, so nothing is resampled on the loopback


@pytest.fixture(scope="session")
def virtual_audio(tmp_path_factory):
    """The running :class:`VirtualSoundCard` with ``env`` = os.environ plus its variables (for subprocesses)."""
    from harness.audio.virtual import VirtualSoundCard, missing

    why = missing()
    if why is None:
        try:
            import sounddevice  # noqa: F401, PLC0415
        except (ImportError, OSError) as exc:
            why = f"sounddevice/PortAudio: {exc}; scripts/setup.sh installs libportaudio2"
    if why:
        pytest.skip(f"needs a virtual sound card: {why}")
    with VirtualSoundCard(RATE, root=tmp_path_factory.mktemp("virtual-audio")) as card:
        card.env = {**os.environ, **card.env}
        yield card
