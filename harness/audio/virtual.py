"""A virtual sound card without hardware, for tests, CI and trying ``listen``/``--over-the-air`` on a server.

* A PulseAudio daemon run in the foreground with a private runtime directory and socket (``PULSE_SERVER``), one
  null sink (16-bit mono at ``rate``) whose monitor is the default source: ALSA's ``pulse`` device
  (libasound2-plugins) is then a lossless loopback, what is played comes back on the recording side after the
  server's latency.
* A private ALSA configuration (``ALSA_CONFIG_PATH`` = the system's alsa.conf + ours) adding ``tinyhil_mic``:
  ALSA's ``file`` plugin over the ``pulse`` capture with its samples replaced by the raw int16 file ``mic.raw``,
  a microphone that hears a known recording from its first sample, paced in real time by the server; silence
  follows the end of the file.

PortAudio reads both when it initialises: the context manager sets the variables in ``os.environ`` and
re-initialises it (:func:`harness.audio.devices.rescan`); ``env`` gives them to subprocesses.
Needs the Debian packages pulseaudio, pulseaudio-utils, libasound2-plugins and libportaudio2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.errors import AudioError

MIC = "tinyhil_mic"
LOOPBACK = "pulse"
ALSA_CONF = Path("/usr/share/alsa/alsa.conf")
PACKAGES = "apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"


def missing() -> str | None:
    """Why the virtual sound card cannot start here (what to install), or None."""
    absent = [tool for tool in ("pulseaudio", "pactl") if shutil.which(tool) is None]
    if absent or not ALSA_CONF.exists():
        return f"{', '.join(absent) or str(ALSA_CONF)} not found; {PACKAGES} (scripts/setup.sh does it)"
    return None


class VirtualSoundCard:
    """Context manager: start the server (``rate`` Hz null sink) in ``root`` (default: a temporary directory),
    yield self; stop it and restore the environment on exit. ``mic`` / ``loopback`` are the device names,
    ``set_mic(samples)`` sets what the microphone hears (int16 [n]). Raises AudioError when it cannot start."""

    def __init__(self, rate: int = 20000, root: Path | None = None) -> None:
        self.rate, self.mic, self.loopback = rate, MIC, LOOPBACK
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="tinyhil-sound-")
        self.root = Path(root or self._tmp.name)
        self.mic_file = self.root / "mic.raw"
        self.log = self.root / "pulseaudio.log"
        socket = self.root / "pulse" / "native"
        self.env = {"PULSE_SERVER": f"unix:{socket}", "ALSA_CONFIG_PATH": f"{ALSA_CONF}:{self.root / 'asound.conf'}"}
        self._daemon: subprocess.Popen | None = None
        self._saved: dict[str, str | None] = {}

    def set_mic(self, samples: np.ndarray) -> None:
        np.asarray(samples, "<i2").tofile(self.mic_file)

    def __enter__(self) -> "VirtualSoundCard":
        why = missing()
        if why:
            raise AudioError(f"cannot start the virtual sound card: {why}")
        runtime = self.root / "pulse"
        runtime.mkdir(parents=True, exist_ok=True)
        self.set_mic(np.zeros(self.rate, np.int16))
        (self.root / "asound.conf").write_text(
            f'pcm.{MIC} {{\n  type file\n  slave.pcm "pulse"\n  file "/dev/null"\n  infile "{self.mic_file}"\n'
            f'  format "raw"\n  hint {{ show on description "tinyhil virtual microphone ({self.mic_file})" }}\n}}\n')
        server_env = {**os.environ, "HOME": str(self.root), "XDG_RUNTIME_DIR": str(runtime),
                      "PULSE_RUNTIME_PATH": str(runtime)}
        with open(self.log, "w") as log:
            self._daemon = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                 "--disable-shm=yes", "--log-target=stderr",
                 "-L", f"module-null-sink sink_name=tinyhil format=s16le rate={self.rate} channels=1",
                 "-L", f"module-native-protocol-unix socket={runtime / 'native'} auth-anonymous=1"],
                env=server_env, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env={**os.environ, **self.env}, capture_output=True).returncode:
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise AudioError(f"pulseaudio did not start (see {self.log}): "
                                 f"{self.log.read_text()[-300:].strip()!r}")
            time.sleep(0.2)
        for key, value in self.env.items():
            self._saved[key] = os.environ.get(key)
            os.environ[key] = value
        self._rescan()
        return self

    def __exit__(self, *exc) -> None:
        self._stop()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._rescan()
        if self._tmp is not None:
            self._tmp.cleanup()

    def _stop(self) -> None:
        if self._daemon is not None and self._daemon.poll() is None:
            self._daemon.terminate()
            try:
                self._daemon.wait(10)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
                self._daemon.wait()

    @staticmethod
    def _rescan() -> None:
        from harness.audio.devices import rescan  # noqa: PLC0415

        try:
            rescan()
        except AudioError:  # no PortAudio: the caller's own use of it will say so
            pass
