"""``tinyhil listen`` and ``tinyhil audio-devices``: live audio through a microphone to a DUT (harness.audio)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table


def register(app: typer.Typer, console, guarded) -> None:
    """Add the audio commands to ``app`` (errors printed by ``guarded``)."""

    @app.command(name="audio-devices")
    @guarded
    def audio_devices() -> None:
        """List PortAudio audio devices (index, name, host API, input/output channels, default rate)."""
        from harness.audio.devices import list_devices

        devices = list_devices()
        table = Table(title="PortAudio audio devices (use the index or name with --device / --play-device / "
                            "--record-device)")
        for col in ("index", "name", "host API", "inputs", "outputs", "default Hz", "default"):
            table.add_column(col)
        for d in devices:
            default = " ".join(x for x in ("input" if d.default_input else "", "output" if d.default_output else "")
                               if x)
            table.add_row(str(d.index), d.name, d.hostapi, str(d.inputs), str(d.outputs), f"{d.default_rate:g}",
                          default)
        console.print(table)
        if not devices:
            console.print("no devices: connect a microphone/speaker or start a sound server (PulseAudio, "
                          "PipeWire)", highlight=False)

    @app.command()
    @guarded
    def listen(
        model: Path = typer.Option(..., "--model", "-m", help=".tflite file taking a raw waveform (e.g. ACDNet-20)"),
        board: str = typer.Option("stm32f746", "--board", "-b", help="Board name from boards.yaml"),
        emulate: bool = typer.Option(False, "--emulate", help="Run on the board's emulated twin (QEMU)"),
        port: Optional[str] = typer.Option(None, "--port", help="Serial port or URL of a real board"),
        probe: Optional[str] = typer.Option(None, "--probe", help="Debug probe unique ID of a real board"),
        device: Optional[str] = typer.Option(None, "--device", help="Input device: index or name from "
                                             "`tinyhil audio-devices` (default: the system's default input)"),
        hop: float = typer.Option(0.5, "--hop", help="Seconds between the starts of consecutive windows"),
        capture_rate: Optional[int] = typer.Option(None, "--capture-rate", help="Capture at this rate (Hz) and "
                                                   "resample to the model's (default: the model's rate if the "
                                                   "device supports it, else the device's default)"),
        rate: int = typer.Option(20000, "--sample-rate", help="The model's sample rate (Hz)"),
        quantization: str = typer.Option("model", "--input-quantization",
                                         help="Window quantization: 'model' (input tensor scale/zero point) or "
                                              "'peak'"),
        record: Optional[Path] = typer.Option(None, "--record", help="Keep the audio in this WAV file, with "
                                              "FILE.csv (window -> prediction) and FILE.json (the session log)"),
        duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds of audio "
                                                 "(default: until Ctrl-C)"),
        windows: Optional[int] = typer.Option(None, "--windows", help="Stop after this many inferences"),
        max_backlog: int = typer.Option(4, "--max-backlog", help="Windows waiting for the DUT before the oldest "
                                        "are dropped (counted)"),
        top: int = typer.Option(3, "--top", help="Classes shown per window"),
        labels: Optional[Path] = typer.Option(None, "--labels", help="Class names, one per line (default: "
                                              "ESC-50's for 50 classes)"),
        out: Path = typer.Option(Path("results/listen"), "--out", "-o", help="Directory for the session's "
                                 "serial log"),
        backend: str = typer.Option("tinyhil", "--backend", help="Deployment backend: tinyhil, tflm, "
                                    "tflm-cmsis-nn"),
        catalog: Optional[Path] = typer.Option(None, "--catalog", help="Board catalog YAML"),
    ) -> None:
        """Classify live sound: microphone -> model input windows (bench's front end) -> DUT -> predictions.

        One line per inference: time, level meter, top classes with scores, the on-device count (an estimated
        latency on twins), the backlog and the windows dropped when the DUT cannot keep up. Ctrl-C stops."""
        from harness.audio.live import ListenConfig, run_listen
        from harness.backends import parse_backend
        from harness.boards import get_board
        from harness.data.preprocess import QUANTIZATIONS
        from harness.errors import AudioError

        if quantization not in QUANTIZATIONS:
            raise AudioError(f"--input-quantization {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
        if hop <= 0:
            raise AudioError(f"--hop {hop} must be a positive number of seconds")
        target = get_board(board, catalog).target(emulate, probe=probe, port=port)
        run_listen(ListenConfig(model=model, target=target, device=device, hop_s=hop, capture_rate=capture_rate,
                                sample_rate=rate, quantization=quantization, record=record, duration_s=duration,
                                max_windows=windows, max_backlog=max_backlog, top=top, labels=labels,
                                backend=parse_backend(backend), out=out), console)
