"""PortAudio devices through ``sounddevice``: loading the library, listing devices, picking one, checking a rate.

Every failure is an :class:`~harness.errors.AudioError` naming the fix: the Debian package ``libportaudio2`` when
the library is missing, ``tinyhil audio-devices`` when a device or sample rate is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import AudioError

INSTALL_HINT = "install PortAudio (Debian/Ubuntu: apt-get install libportaudio2; scripts/setup.sh does it)"
LIST_HINT = "list the devices with `tinyhil audio-devices`"


def sounddevice():
    """The imported ``sounddevice`` module. Raises AudioError when the package or the PortAudio library is missing."""
    try:
        import sounddevice as sd  # noqa: PLC0415
    except ImportError:
        raise AudioError("the Python package sounddevice is not installed; pip install sounddevice "
                         f"(and {INSTALL_HINT})") from None
    except OSError as exc:  # sounddevice raises OSError('PortAudio library not found') at import
        raise AudioError(f"{exc}; {INSTALL_HINT}") from None
    return sd


def rescan() -> None:
    """Re-initialise PortAudio so devices added since the first import (a sound server started later) are seen."""
    sd = sounddevice()
    sd._terminate()  # noqa: SLF001 - sounddevice's documented way to refresh the device list
    sd._initialize()  # noqa: SLF001


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device: ``index``, ``name``, host API name, input/output channel counts, default rate (Hz),
    whether it is the default input/output."""

    index: int
    name: str
    hostapi: str
    inputs: int
    outputs: int
    default_rate: float
    default_input: bool = False
    default_output: bool = False


def list_devices() -> list[AudioDevice]:
    """Every PortAudio device (may be empty). Raises AudioError when PortAudio is missing."""
    sd = sounddevice()
    apis = sd.query_hostapis()
    default_in, default_out = (_default_index(sd, k) for k in ("input", "output"))
    return [AudioDevice(d["index"], d["name"], apis[d["hostapi"]]["name"], d["max_input_channels"],
                        d["max_output_channels"], float(d["default_samplerate"]), d["index"] == default_in,
                        d["index"] == default_out) for d in sd.query_devices()]


def _default_index(sd, kind: str) -> int | None:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except Exception:  # noqa: BLE001 - PortAudioError / ValueError: no default device of that kind
        return None


def pick_device(spec: str | int | None, kind: str) -> AudioDevice:
    """The device for ``kind`` ("input" or "output"): ``spec`` is an index, an exact name or a unique substring
    of a name; None picks PortAudio's default. Raises AudioError when there is none or it cannot ``kind``."""
    devices = list_devices()
    channels = (lambda d: d.inputs) if kind == "input" else (lambda d: d.outputs)
    usable = [d for d in devices if channels(d) > 0]
    what = "microphone/input" if kind == "input" else "speaker/output"
    if not usable:
        raise AudioError(f"no audio {what} device found ({len(devices)} devices in all); connect one or start a "
                         f"sound server, then {LIST_HINT}")
    if spec is None or spec == "":
        default = [d for d in usable if (d.default_input if kind == "input" else d.default_output)]
        return default[0] if default else usable[0]
    text = str(spec)
    if text.isdigit():
        found = [d for d in devices if d.index == int(text)]
    else:
        found = [d for d in devices if d.name == text] or [d for d in devices if text.lower() in d.name.lower()]
    if len(found) > 1:
        raise AudioError(f"audio device {text!r} matches {len(found)} devices "
                         f"({', '.join(d.name for d in found)}); give its index; {LIST_HINT}")
    if not found:
        raise AudioError(f"no audio device named {text!r}; {LIST_HINT}")
    if channels(found[0]) == 0:
        raise AudioError(f"audio device {found[0].name!r} has no {kind} channels; pick a {what} device; {LIST_HINT}")
    return found[0]


def check_rate(device: AudioDevice, rate: int, kind: str) -> bool:
    """Whether ``device`` opens a mono int16 ``kind`` stream at ``rate`` Hz (PortAudio's own check)."""
    sd = sounddevice()
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        check(device=device.index, channels=1, dtype="int16", samplerate=rate)
    except Exception:  # noqa: BLE001 - sounddevice.PortAudioError or ValueError: settings refused
        return False
    return True


def require_rate(device: AudioDevice, rate: int, kind: str) -> None:
    """Raise AudioError (naming the fix) when ``device`` refuses mono int16 ``kind`` audio at ``rate`` Hz."""
    if not check_rate(device, rate, kind):
        raise AudioError(f"audio device {device.name!r} does not support {rate} Hz mono 16-bit {kind}; use a rate "
                         f"it supports (its default is {device.default_rate:g} Hz) or another device; {LIST_HINT}")
