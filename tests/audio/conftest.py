"""A virtual sound card for the audio tests, started and stopped here, no hardware.

* A PulseAudio daemon (test-local runtime dir and socket, ``PULSE_SERVER``) with one null sink, 16-bit mono at
  :data:`RATE`; its monitor is the default source, so ALSA's ``pulse`` device (libasound2-plugins) is a lossless
  loopback: what is played comes back on the recording side after the server's latency.
* A test-local ALSA configuration (``ALSA_CONFIG_PATH`` = the system's alsa.conf + ours) adding ``tinyhil_mic``:
  ALSA's ``file`` plugin over the ``pulse`` capture, whose samples are replaced by the raw int16 file
  ``mic.raw`` -- a microphone that hears a known recording from its first sample, paced in real time by the
  server. Silence follows the end of the file.

PortAudio reads both at initialisation, so the fixture re-initialises it (``harness.audio.devices.rescan``).
Skipped with the reason when pulseaudio or PortAudio is missing (scripts/setup.sh installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

RATE = 20000  # the null sink's rate: the model's, so nothing is resampled on the loopback
MIC = "tinyhil_mic"
LOOPBACK = "pulse"


@dataclass
class VirtualAudio:
    """The running virtual sound card: ``env`` (variables a subprocess needs), ``mic_file`` (raw int16 mono
    samples the ``tinyhil_mic`` device plays), device names ``mic`` and ``loopback``."""

    env: dict
    mic_file: Path
    mic: str = MIC
    rate: int = RATE
    loopback: str = LOOPBACK

    def set_mic(self, samples: np.ndarray) -> None:
        np.asarray(samples, "<i2").tofile(self.mic_file)


def _skip_reason() -> str | None:
    if shutil.which("pulseaudio") is None:
        return "needs pulseaudio (Debian pulseaudio, libasound2-plugins; scripts/setup.sh installs them)"
    try:
        import sounddevice  # noqa: F401, PLC0415
    except (ImportError, OSError) as exc:
        return f"needs sounddevice and PortAudio ({exc}; scripts/setup.sh installs libportaudio2)"
    if not Path("/usr/share/alsa/alsa.conf").exists():
        return "needs ALSA's configuration /usr/share/alsa/alsa.conf (Debian libasound2)"
    return None


@pytest.fixture(scope="session")
def virtual_audio(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("virtual-audio")
    runtime = root / "pulse"
    runtime.mkdir()
    socket = runtime / "native"
    mic_file = root / "mic.raw"
    np.zeros(RATE, "<i2").tofile(mic_file)
    conf = root / "asound.conf"
    conf.write_text(f'pcm.{MIC} {{\n  type file\n  slave.pcm "pulse"\n  file "/dev/null"\n  infile "{mic_file}"\n'
                    f'  format "raw"\n  hint {{ show on description "tinyhil test microphone (plays {mic_file.name})" }}\n}}\n')
    server_env = {**os.environ, "HOME": str(root), "XDG_RUNTIME_DIR": str(runtime), "PULSE_RUNTIME_PATH": str(runtime)}
    log = open(root / "pulseaudio.log", "w")
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disable-shm=yes",
         "--log-target=stderr", "-L", f"module-null-sink sink_name=tinyhil format=s16le rate={RATE} channels=1",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1"],
        env=server_env, stdout=log, stderr=log)
    env = {"PULSE_SERVER": f"unix:{socket}", "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{conf}"}
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env={**os.environ, **env}, capture_output=True).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pulseaudio did not start: {(root / 'pulseaudio.log').read_text()[-1500:]}")
            time.sleep(0.2)
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            from harness.audio.devices import rescan  # noqa: PLC0415

            rescan()
            yield VirtualAudio({**os.environ, **env}, mic_file)
    finally:
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
        from harness.audio.devices import rescan  # noqa: PLC0415

        try:
            rescan()  # back to the machine's own devices for later tests
        except Exception:  # noqa: BLE001
            pass
