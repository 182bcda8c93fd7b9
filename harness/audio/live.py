"""``tinyhil listen``: the microphone -> the model's input windows -> the DUT -> live predictions.

The DUT path is ``bench``'s: :func:`harness.orchestrate.prepare` builds the firmware, :func:`~harness.orchestrate.
connect` flashes or boots the twin, :meth:`harness.dut.Dut.infer` streams each window over the serial protocol.
The front end is ``bench``'s raw crops (:class:`harness.data.preprocess.RawCrops`): int16 / 32768 at the model's
rate, quantized with the input tensor's scale and zero point (or per-window peak). Windows the DUT cannot keep up
with are dropped oldest first and counted (:class:`~harness.audio.windows.Backlog`); Ctrl-C stops cleanly.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console

from harness.audio.capture import CapturePlan, Microphone, plan_capture
from harness.audio.labels import class_names
from harness.audio.windows import Backlog, Window, WindowCutter, level_dbfs
from harness.backends import Backend
from harness.data.preprocess import RawCrops
from harness.errors import DataError
from harness.orchestrate import BUILD_ROOT, BuildOptions, connect, prepare
from harness.target import Target, TargetKind

CSV_COLUMNS = ("window", "start_s", "level_dbfs", "top1", "top1_label", "score", "count", "count_unit",
               "latency_us", "latency_estimate", "backlog", "dropped", "output")


@dataclass(frozen=True)
class ListenConfig:
    """Options of ``tinyhil listen``: the model (.tflite, raw-waveform input), the target, the input ``device``
    (None: default), the hop between windows (s), an explicit ``capture_rate`` (Hz; None: the model's rate when
    the device supports it), the model's ``sample_rate`` (Hz), the crop ``quantization`` ("model" or "peak"),
    ``record`` (a WAV path; the CSV and JSON log go beside it), stop conditions (``duration_s`` of audio,
    ``max_windows`` inferences; None: until Ctrl-C), ``max_backlog`` windows, ``top`` classes shown."""

    model: Path
    target: Target
    device: str | None = None
    hop_s: float = 0.5
    capture_rate: int | None = None
    sample_rate: int = RawCrops.sample_rate
    quantization: str = "model"
    record: Path | None = None
    duration_s: float | None = None
    max_windows: int | None = None
    max_backlog: int = 4
    top: int = 3
    labels: Path | None = None
    backend: Backend = Backend.TINYHIL
    out: Path = Path("results/listen")
    build_root: Path = BUILD_ROOT


@dataclass
class ListenResult:
    """What a listening session did: inferences run, windows dropped, input overflows, how it stopped, the
    capture plan, and the files written (session directory with serial.log; WAV/CSV/JSON when recording)."""

    inferences: int = 0
    dropped: int = 0
    overflows: int = 0
    interrupted: bool = False
    plan: CapturePlan | None = None
    session_dir: Path | None = None
    files: list[Path] = field(default_factory=list)
    error: str | None = None


def run_listen(cfg: ListenConfig, console: Console | None = None) -> ListenResult:
    """Listen until ``cfg``'s stop condition or Ctrl-C; returns the session's result (Ctrl-C is not an error).

    Raises AudioError (PortAudio, device, rate), DataError (model input not a raw waveform), and what
    ``prepare``/``connect``/``Dut.infer`` raise (BuildError, FlashError, TransportError, ...)."""
    console = console or Console()
    plan = plan_capture(cfg.device, cfg.sample_rate, cfg.capture_rate)  # device and rate errors before the build
    firmware = prepare(cfg.model, cfg.target, BuildOptions(backend=cfg.backend), build_root=cfg.build_root)
    tensor, out_tensor = firmware.compiled.input_tensor, firmware.compiled.output_tensor
    length = tensor.size
    if max(tensor.shape) != length:
        raise DataError(f"model input {list(tensor.shape)} is not a raw waveform; listen feeds raw-waveform models")
    hop = max(1, int(round(cfg.hop_s * cfg.sample_rate)))
    ratio = plan.capture_rate / plan.model_rate
    cutter = WindowCutter(int(np.ceil(length * ratio)), max(1, int(round(hop * ratio))))
    front = _FrontEnd(RawCrops(sample_rate=cfg.sample_rate, quantization=cfg.quantization), tensor, plan, length)
    names = class_names(int(np.prod(out_tensor.shape)), cfg.labels)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    session = Path(cfg.out) / f"listen-{stamp}-{Path(cfg.model).stem}-{cfg.target.name}"
    result = ListenResult(plan=plan, session_dir=session)
    console.print(f"listening on {plan.device.name!r} at {plan.capture_rate} Hz"
                  + (f", resampled to the model's {plan.model_rate} Hz" if plan.resampled else "")
                  + f"; windows of {length} samples every {hop} ({hop / cfg.sample_rate:g} s); "
                  f"{cfg.target.name} ({cfg.target.kind.value}); Ctrl-C stops", highlight=False)
    recorder = _Recorder(cfg, plan, names) if cfg.record else None
    backlog = Backlog(cfg.max_backlog)
    captured, stop_at = 0, None if cfg.duration_s is None else int(cfg.duration_s * plan.capture_rate)
    try:
        with connect(firmware, run_dir=session) as dut, Microphone(plan) as mic:
            show = _Display(console, names, cfg.top, dut.board, cfg.target.kind is TargetKind.TWIN)
            while not _done(cfg, result, captured, stop_at, backlog):
                for block in mic.drain(timeout=0.05 if not len(backlog) else None):
                    if stop_at is not None:
                        block = block[:max(0, stop_at - captured)]
                    captured += len(block)
                    if recorder:
                        recorder.audio(block)
                    for w in cutter.push(block):
                        backlog.put(w)
                window = backlog.get()
                if window is None:
                    continue
                out, counts = dut.infer(front.quantize(window))
                result.inferences += 1
                result.dropped, result.overflows = backlog.dropped, mic.overflows
                scores = _dequantize(out, out_tensor)
                row = show.line(window, front, scores, counts, len(backlog), backlog.dropped)
                if recorder:
                    recorder.row(row, out)
    except KeyboardInterrupt:
        result.interrupted = True
    except BaseException as exc:
        result.error = str(exc) or type(exc).__name__  # the recording's log says the session failed
        raise
    finally:
        result.dropped = backlog.dropped
        if recorder:
            result.files = recorder.close(result)
    console.print(f"{'stopped (Ctrl-C)' if result.interrupted else 'done'}: {result.inferences} inferences, "
                  f"{result.dropped} windows dropped (DUT behind), {result.overflows} input overflows; serial log "
                  f"in {session}" + "".join(f"; {p}" for p in result.files), highlight=False, soft_wrap=True)
    return result


def _done(cfg: ListenConfig, result: ListenResult, captured: int, stop_at: int | None, backlog: Backlog) -> bool:
    if cfg.max_windows is not None and result.inferences >= cfg.max_windows:
        return True
    return stop_at is not None and captured >= stop_at and not len(backlog)


def _dequantize(out: np.ndarray, tensor) -> np.ndarray:
    x = out.reshape(-1).astype(np.float64)
    return (x - tensor.zero_point) * tensor.scale if tensor.quant is not None else x


class _FrontEnd:
    """A captured window -> the model's input tensor (resampled when the capture rate is not the model's)."""

    def __init__(self, crops: RawCrops, tensor, plan: CapturePlan, length: int) -> None:
        self.crops, self.tensor, self.plan, self.length = crops, tensor, plan, length

    def waveform(self, window: Window) -> np.ndarray:
        x = window.samples
        if self.plan.resampled:
            from scipy.signal import resample_poly  # noqa: PLC0415

            g = int(np.gcd(self.plan.model_rate, self.plan.capture_rate))
            x = resample_poly(x, self.plan.model_rate // g, self.plan.capture_rate // g).astype(np.float32)
            x = np.concatenate([x, np.zeros(max(0, self.length - len(x)), np.float32)])[:self.length]
        return x

    def quantize(self, window: Window) -> np.ndarray:
        # bench's own crop quantization (RawCrops), applied to a window of the stream instead of a file
        q = self.crops._quantize(self.waveform(window), self.tensor)  # noqa: SLF001
        return q.reshape(self.tensor.shape)

    def start_s(self, window: Window) -> float:
        return window.start / self.plan.capture_rate


class _Display:
    """One console line per inference: time, level meter, top classes with scores, count (estimate-labelled on
    twins), backlog and drops. Returns the CSV row."""

    def __init__(self, console: Console, names, top: int, board, twin: bool) -> None:
        from harness.metrics.latency import conversion  # noqa: PLC0415

        self.console, self.names, self.top, self.board, self.twin = console, names, top, board, twin
        self._conversion = conversion

    def line(self, window: Window, front: _FrontEnd, scores: np.ndarray, counts, backlog: int, dropped: int) -> dict:
        level = level_dbfs(window.samples)
        order = np.argsort(-scores, kind="stable")[:self.top]
        bars = int(round(max(0.0, min(1.0, (level + 60.0) / 60.0)) * 10))
        us, estimate = self._latency(counts)
        timing = f"{counts.value:,} {counts.unit}"
        if us is not None:
            timing += f" (≈{us / 1000:.2f} ms{' ESTIMATE' if estimate else ''})"
        top = " | ".join(f"{self.names[i]} {scores[i]:.2f}" for i in order)
        self.console.print(f"#{window.index:<4d} {front.start_s(window):7.2f} s  {level:6.1f} dBFS "
                           f"[{'█' * bars}{'·' * (10 - bars)}]  {top}  {timing}  backlog {backlog} dropped {dropped}",
                           highlight=False, soft_wrap=True)
        return {"window": window.index, "start_s": round(front.start_s(window), 6), "level_dbfs": level,
                "top1": int(order[0]), "top1_label": self.names[order[0]], "score": round(float(scores[order[0]]), 6),
                "count": counts.value, "count_unit": counts.unit,
                "latency_us": None if us is None else round(us, 3), "latency_estimate": estimate,
                "backlog": backlog, "dropped": dropped}

    def _latency(self, counts) -> tuple[float | None, bool | None]:
        try:
            conv = self._conversion(counts.unit, self.board)
        except Exception:  # noqa: BLE001 - MeasurementError: no CPI for this board, show the count only
            return None, None
        return counts.value * conv.us_per_count, conv.estimate


class _Recorder:
    """``--record FILE``: the captured audio (WAV, int16, capture rate), FILE.csv (window -> prediction, raw
    output bytes as space-separated integers) and FILE.json (the session log: devices, rates, resampling)."""

    def __init__(self, cfg: ListenConfig, plan: CapturePlan, names) -> None:
        import soundfile as sf  # noqa: PLC0415

        self.cfg, self.plan = cfg, plan
        self.wav_path = Path(cfg.record)
        self.wav_path.parent.mkdir(parents=True, exist_ok=True)
        self.csv_path, self.log_path = self.wav_path.with_suffix(".csv"), self.wav_path.with_suffix(".json")
        self._wav = sf.SoundFile(self.wav_path, "w", samplerate=plan.capture_rate, channels=1, subtype="PCM_16")
        self._csv_file = open(self.csv_path, "w", newline="")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=CSV_COLUMNS)
        self._csv.writeheader()

    def audio(self, block: np.ndarray) -> None:
        self._wav.write(block)

    def row(self, row: dict, out: np.ndarray) -> None:
        self._csv.writerow({**{k: ("" if v is None else v) for k, v in row.items()},
                            "output": " ".join(str(int(v)) for v in out.reshape(-1))})
        self._csv_file.flush()

    def close(self, result: ListenResult) -> list[Path]:
        self._wav.close()
        self._csv_file.close()
        cfg = self.cfg
        log = {"model": str(cfg.model), "board": cfg.target.board.name, "target": cfg.target.kind.value,
               "backend": cfg.backend.value, "capture": self.plan.describe(), "hop_s": cfg.hop_s,
               "front_end": RawCrops(sample_rate=cfg.sample_rate, quantization=cfg.quantization).describe(),
               "inferences": result.inferences, "dropped_windows": result.dropped,
               "input_overflows": result.overflows, "interrupted": result.interrupted,
               "failed": result.error,  # None: the session ended normally or by Ctrl-C
               "serial_log": str(result.session_dir / "serial.log") if result.session_dir else None}
        self.log_path.write_text(json.dumps(log, indent=2) + "\n")
        return [self.wav_path, self.csv_path, self.log_path]
