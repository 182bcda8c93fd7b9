"""Over the air: play each test clip through a speaker while recording a microphone (one full-duplex
``sounddevice.Stream``, as ``sounddevice.playrec`` does, keeping PortAudio's per-block dropout flags),
find the recording's delay by cross-correlation, and hand ``bench`` the recorded clips as an ESC-50 folder.

Delay: the arg-max of the full cross-correlation of the recording with the played clip (FFT,
``scipy.signal.correlate``), searched over the lead-in and tail of silence around the clip; the clip is then cut
out of the recording at that lag, so the same crops (``RawCrops``) see the same span of sound as in the file run.
The delay reported is the round trip: lag minus the lead-in, i.e. from handing a sample to PortAudio to getting
it back (output and input buffers, converters, air). A take is retried, never kept, when PortAudio flags a dropout
(xrun) during the clip, the stream fails, or the clip's parts lie at different lags (:func:`discontinuity`:
a block lost or inserted that PortAudio did not flag, e.g. a sound server underrun).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.audio.devices import pick_device, require_rate, sounddevice
from harness.audio.windows import INT16_SCALE, level_dbfs
from harness.errors import AudioError

MIN_CORRELATION = 0.3  # normalised peak below which the recording does not contain the played clip


@dataclass(frozen=True)
class Delay:
    """Where the played clip lies in a recording: ``lag`` samples from the recording's start, the normalised
    correlation at that lag (1.0: identical up to gain)."""

    lag: int
    correlation: float


def find_delay(recording: np.ndarray, clip: np.ndarray) -> Delay:
    """The lag (samples) maximising the cross-correlation of ``recording`` [n] with ``clip`` [m], m <= n, both
    mono (any numeric dtype). Raises AudioError when the recording is shorter than the clip."""
    from scipy.signal import correlate  # noqa: PLC0415

    rec, ref = np.asarray(recording, np.float64).reshape(-1), np.asarray(clip, np.float64).reshape(-1)
    if len(rec) < len(ref):
        raise AudioError(f"recording of {len(rec)} samples is shorter than the clip ({len(ref)}); record longer")
    corr = correlate(rec, ref, mode="valid", method="fft")
    lag = int(np.argmax(corr))
    seg = rec[lag:lag + len(ref)]
    norm = float(np.sqrt(np.dot(seg, seg) * np.dot(ref, ref)))
    return Delay(lag, float(corr[lag] / norm) if norm > 0 else 0.0)


@dataclass(frozen=True)
class ClipTake:
    """One clip played and recorded: the recovered clip (int16 [m], aligned), the delay (samples beyond the
    lead-in; ms), the correlation, levels (dBFS), the gain recording/played (dB) and the attempts needed."""

    recovered: np.ndarray
    rate: int
    delay_samples: int
    correlation: float
    level_dbfs: float
    peak_dbfs: float
    gain_db: float
    attempts: int
    retried: tuple[str, ...] = ()  # why earlier attempts were discarded

    def describe(self) -> dict:
        return {"rate_hz": self.rate, "delay_samples": self.delay_samples,
                "delay_ms": round(1000.0 * self.delay_samples / self.rate, 3), "correlation": round(self.correlation, 6),
                "level_dbfs": self.level_dbfs, "peak_dbfs": self.peak_dbfs, "gain_db": self.gain_db,
                "attempts": self.attempts, "retried": list(self.retried)}


@dataclass(frozen=True)
class OverTheAir:
    """The ``bench --over-the-air`` set-up: output (speaker) and input (microphone) devices (name, index or None
    for the default), seconds of silence played before and after each clip (the delay is searched within them),
    and attempts per clip when PortAudio reports a dropout."""

    play_device: str | None = None
    record_device: str | None = None
    lead_s: float = 0.5
    tail_s: float = 0.5
    attempts: int = 5
    drift_ppm: float = 200.0  # clock drift tolerated between separate speaker and microphone devices

    def take(self, clip: np.ndarray, rate: int) -> ClipTake:
        """Play ``clip`` (int16 [m]) at ``rate`` Hz and record it. Raises AudioError (devices, rate, no clip in
        the recording, dropouts in every attempt)."""
        sd = sounddevice()
        out_dev, in_dev = pick_device(self.play_device, "output"), pick_device(self.record_device, "input")
        require_rate(out_dev, rate, "output")
        require_rate(in_dev, rate, "input")
        lead, tail = int(self.lead_s * rate), int(self.tail_s * rate)
        played = np.concatenate([np.zeros(lead, np.int16), clip, np.zeros(tail, np.int16)])
        retried: list[str] = []
        hits: list[str] = []
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                retried.append(hits[0])
            rec, flagged, ended = _playrec(sd, played, rate, in_dev.index, out_dev.index)
            if ended < len(played):  # the stream failed (an ALSA/PortAudio error) before the end: try again
                hits = [f"the stream stopped at sample {ended} of {len(played)}"]
                continue
            if not clip.any():  # nothing to correlate: keep the nominal position
                delay = Delay(lead, 1.0)
            else:
                delay = find_delay(rec, clip)
                if delay.correlation < MIN_CORRELATION:
                    raise AudioError(f"the recording from {in_dev.name!r} does not contain the clip played on "
                                     f"{out_dev.name!r} (peak correlation {delay.correlation:.2f}); check the speaker "
                                     "volume, the microphone gain and that one hears the other")
            span = (min(lead, delay.lag), max(lead, delay.lag) + len(clip))  # played and recorded clip
            hits = [f"{what} at sample {a}" for a, b, what in flagged if a < span[1] and b > span[0]]
            shift = discontinuity(rec, clip, delay.lag) if clip.any() else 0
            if shift > max(2, int(self.drift_ppm * 1e-6 * len(clip))):
                hits.append(f"a discontinuity of {shift} samples inside the clip (a dropout PortAudio did not flag)")
            if not hits:
                break
        else:
            raise AudioError(f"PortAudio reported dropouts during the clip ({hits[0]}) in all {self.attempts} "
                             "attempts; close other audio programs or use another device pair")
        recovered = rec[delay.lag:delay.lag + len(clip)].copy()
        played_f, rec_f = clip / INT16_SCALE, recovered / INT16_SCALE
        peak = float(np.max(np.abs(rec_f))) if rec_f.size else 0.0
        return ClipTake(recovered, rate, delay.lag - lead, delay.correlation, level_dbfs(rec_f),
                        round(20 * np.log10(peak), 2) if peak > 0 else -120.0,
                        round(level_dbfs(rec_f) - level_dbfs(played_f), 2), attempt, tuple(retried))

    def record(self, data_dir: Path, limit: int | None = None, console=None) -> "RecordedSet":
        """Play and record every clip of the ESC-50 folder ``data_dir`` (the first ``limit``), at each clip's own
        rate (mono: channels averaged), and return the recorded set. Raises AudioError, DataError."""
        import soundfile as sf  # noqa: PLC0415

        from harness.data.layouts import data_kind, esc50_rows  # noqa: PLC0415

        if data_kind(Path(data_dir)) != "esc50":
            raise AudioError(f"{data_dir} holds .npy tensors; over the air needs audio clips (an ESC-50 folder)")
        rows = esc50_rows(Path(data_dir))[:limit]
        rs = RecordedSet(self)
        for i, row in enumerate(rows):
            data, rate = _read_clip(Path(data_dir) / "audio" / row["filename"])
            if console is not None:
                console.print(f"over the air {i + 1}/{len(rows)}: {row['filename']} ({len(data) / rate:.2f} s at "
                              f"{rate} Hz)", highlight=False)
            take = self.take(data, rate)
            sf.write(rs.audio / row["filename"], take.recovered, rate, subtype="PCM_16")
            rs.clips[row["filename"]] = take.describe()
        rs.finish(rows, Path(data_dir))
        return rs


def _playrec(sd, played: np.ndarray, rate: int, in_index: int, out_index: int):
    """Play ``played`` (int16 [n]) and record as many samples in one full-duplex stream (what
    ``sounddevice.playrec`` does: recording sample i is taken while output sample i is handed over, so a lag is a
    round trip), keeping where PortAudio flagged a dropout. Returns ([n] int16, [(first, end, flags)], samples
    exchanged before the stream ended: n unless it failed)."""
    import threading  # noqa: PLC0415

    rec = np.zeros_like(played)
    state = {"pos": 0}
    flagged: list[tuple[int, int, str]] = []
    done = threading.Event()

    def callback(indata, outdata, frames, time_info, status):  # PortAudio's thread
        pos = state["pos"]
        n = max(0, min(frames, len(played) - pos))
        outdata.fill(0)
        outdata[:n, 0] = played[pos:pos + n]
        rec[pos:pos + n] = indata[:n, 0]
        if status:
            flagged.append((pos, pos + frames, str(status)))
        state["pos"] = pos + frames
        if state["pos"] >= len(played):
            raise sd.CallbackStop

    try:
        stream = sd.Stream(samplerate=rate, channels=1, dtype="int16", device=(in_index, out_index),
                           latency="high", callback=callback, finished_callback=done.set)
    except Exception as exc:  # noqa: BLE001 - sounddevice.PortAudioError
        raise AudioError(f"cannot open the play/record stream at {rate} Hz ({exc}); pick other devices from "
                         "`tinyhil audio-devices`") from None
    with stream:
        if not done.wait(timeout=len(played) / rate + 30.0):
            raise AudioError("the audio devices stopped delivering samples; check them with `tinyhil audio-devices`")
    return rec, flagged, min(state["pos"], len(played))


def discontinuity(recording: np.ndarray, clip: np.ndarray, lag: int, segments: int = 4) -> int:
    """The largest shift (samples) between where each of ``segments`` parts of ``clip`` lies in ``recording``
    (searched within 1/4 part around ``lag``) and ``lag``: 0 for a clean take; a dropout or an inserted block
    inside the clip shifts the parts after it. Silent parts are skipped."""
    part = len(clip) // segments
    worst = 0
    for k in range(segments):
        ref = clip[k * part:(k + 1) * part]
        if part < 64 or not np.any(ref):
            continue
        lo = max(0, lag + k * part - part // 4)
        hi = min(len(recording), lag + (k + 1) * part + part // 4)
        if hi - lo < len(ref):
            return part  # the part is cut off: as bad as it gets
        worst = max(worst, abs(lo + find_delay(recording[lo:hi], ref).lag - (lag + k * part)))
    return worst


def _read_clip(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf  # noqa: PLC0415

    from harness.errors import DataError  # noqa: PLC0415

    try:
        data, rate = sf.read(path, dtype="int16", always_2d=True)
    except Exception as exc:  # noqa: BLE001 - soundfile's LibsndfileError / RuntimeError
        raise DataError(f"cannot decode {path} ({exc}); check the file is WAV/FLAC") from None
    mono = data[:, 0] if data.shape[1] == 1 else np.rint(data.astype(np.float64).mean(axis=1)).astype(np.int16)
    return mono, int(rate)


@dataclass
class RecordedSet:
    """The clips as recorded: an ESC-50 folder ``data_dir`` (same file names and labels as the played folder)
    that ``bench`` runs exactly like a file folder; ``files`` (``ota-<clip>.wav`` and ``over_the_air.json``) to
    keep in the run directory; ``describe()`` for the manifest; ``played_dir`` the folder that was played (the
    manifest's data path). The temporary folder is removed with the object."""

    setup: OverTheAir
    clips: dict[str, dict] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="tinyhil-ota-")
        self.data_dir = Path(self._tmp.name) / "recorded"
        self.audio = self.data_dir / "audio"
        self.audio.mkdir(parents=True)
        (self.data_dir / "meta").mkdir()
        self._devices = {}

    def finish(self, rows: list[dict], played_dir: Path) -> None:
        import csv  # noqa: PLC0415

        with open(self.data_dir / "meta" / "esc50.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["filename", "fold", "target"])
            w.writeheader()
            w.writerows(rows)
        keep = Path(self._tmp.name) / "keep"
        keep.mkdir()
        for name in self.clips:
            shutil.copy(self.audio / name, keep / f"ota-{name}")
        out, inp = pick_device(self.setup.play_device, "output"), pick_device(self.setup.record_device, "input")
        self.played_dir = played_dir
        self._devices = {"played_data": str(played_dir), "play_device": out.name, "play_hostapi": out.hostapi,
                         "record_device": inp.name, "record_hostapi": inp.hostapi}
        (keep / "over_the_air.json").write_text(json.dumps(self.describe()["over_the_air"], indent=2) + "\n")
        self.files = sorted(keep.iterdir())

    def describe(self) -> dict:
        """The manifest's ``preprocessing.over_the_air``: devices, sample rates, gains, delay method, per clip
        delay (samples, ms), correlation, level and gain."""
        delays = [c["delay_ms"] for c in self.clips.values()]
        return {"over_the_air": {
            **self._devices,
            "sample_rates_hz": sorted({c["rate_hz"] for c in self.clips.values()}),
            "playback_gain": 1.0,  # samples are played unscaled; device volumes are not readable through PortAudio
            "device_gains": "not readable through PortAudio: note speaker volume and microphone gain by hand",
            "lead_s": self.setup.lead_s, "tail_s": self.setup.tail_s,
            "delay_method": "argmax of the FFT cross-correlation of recording and clip (scipy.signal.correlate)",
            "mean_delay_ms": round(float(np.mean(delays)), 3) if delays else None,
            "recordings": "ota-<clip>.wav in the run directory (int16, the clip's rate, aligned by the delay)",
            "clips": self.clips}}
