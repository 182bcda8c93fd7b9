"""The run record's types: :class:`Manifest` (what ran where), :class:`Summary` (the results), :class:`Inference`
(one row of inferences.csv), with their schema version and the rules that read older versions (package docstring)."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_serializer, \
    field_validator, model_validator

from harness import __version__

if TYPE_CHECKING:  # pragma: no cover
    from harness.runner import InferenceRecord

SCHEMA_VERSION = 2
REPO = Path(__file__).resolve().parents[2]
RUN_FILES = ("manifest.json", "summary.json")
INFERENCE_COLUMNS = ["input_id", "crop", "label", "prediction", "clip_prediction", "count", "count_unit",
                     "matches_reference", "output"]
READ_CONTEXT = {"read": True}  # validation context of files on disk: unknown keys ignored, no version = 1


def git_commit() -> str:
    """The repository's HEAD commit (with '+dirty' when the tree has changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def base_manifest() -> dict:
    """Fields every manifest carries: ``tinyhil_version``, ``git_commit``, ``date`` (UTC, ISO 8601)."""
    return {"tinyhil_version": __version__, "git_commit": git_commit(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def new_run_id(model_name: str, board: str) -> str:
    """``<UTC timestamp to µs>-<model stem>-<board>``: sorts by time, unique per run."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{Path(model_name).stem}-{board}"


# --- the records ------------------------------------------------------------------------------------------------

def _target_kind(value):
    value = value.value if isinstance(value, Enum) else value
    return "board" if value == "hardware" else value  # version 1 said "hardware" for a real board


TargetKind = Annotated[Literal["twin", "board"] | None, BeforeValidator(_target_kind)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        if (info.context or {}).get("read"):
            if "schema_version" in cls.model_fields and "schema_version" not in data:
                return {**data, "schema_version": 1}
            return data
        unknown = sorted(set(data) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)} of {cls.__name__}; add them to the model "
                             "in harness/rundir.py")
        return data


class ModelRef(_Record):
    """The benchmarked .tflite: file name, path as given, SHA-256 (hex)."""

    file: str | None = None
    path: str | None = None
    sha256: str | None = None


class TwinInfo(_Record):
    """The emulated twin: QEMU machine, CPU, UART, memory origins (addresses), PlatformIO environment."""

    machine: str | None = None
    cpu: str | None = None
    uart: str | None = None
    flash_origin: int | None = None
    ram_origin: int | None = None
    platformio_env: str | None = None


class Firmware(_Record):
    """The firmware: ELF path and SHA-256, board, ``kind`` built for ("twin" or "board"), PlatformIO environment,
    sizes (bytes), compiler version, flags, build log. Version 1's ``twin: true/false`` is read as ``kind``."""

    elf: str | None = None
    sha256: str | None = None
    board: str | None = None
    kind: TargetKind = None
    platformio_env: str | None = None
    sizes: dict[str, int] | None = None
    compiler: str | None = None
    flags: tuple[str, ...] | None = None
    build_log: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _twin_flag(cls, data: Any) -> Any:
        if isinstance(data, dict) and "twin" in data:
            twin = data["twin"]
            data = {k: v for k, v in data.items() if k != "twin"}
            data.setdefault("kind", None if twin is None else ("twin" if twin else "board"))
        return data


class DataRef(_Record):
    """The input data: folder path, kind ("esc50", "urbansound8k" or "npy"), number of samples (clips or
    tensors), the official folds used (``--fold``; None: every clip listed)."""

    path: str | None = None
    kind: str | None = None
    samples: int | None = None
    folds: list[int] | None = None


class Manifest(_Record):
    """manifest.json: what ran where. ``clock_hz`` in Hz; ``target`` "twin" or "board" (version 1's "hardware"
    is read as "board"); ``date`` an aware UTC datetime; ``energy_meter`` the power monitor (``KIND[:PORT]``,
    None: none); ``backend`` the deployment backend; ``preprocessing`` as the preprocessing describes itself."""

    schema_version: int = SCHEMA_VERSION
    tinyhil_version: str | None = None
    git_commit: str | None = None
    date: datetime | None = None
    model: ModelRef | None = None
    board: str | None = None
    board_title: str | None = None
    core: str | None = None
    clock_hz: int | None = None
    target: TargetKind = None
    twin: TwinInfo | None = None
    qemu: str | None = None
    firmware: Firmware | None = None
    timer_source: str | None = None
    energy_meter: str | None = None
    backend: str = "tinyhil"  # deployment backend: tinyhil, tflm, tflm-cmsis-nn (version 1: always tinyhil)
    data: DataRef | None = None
    preprocessing: dict[str, Any] | None = None

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value

    @field_serializer("date")
    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()  # "+00:00" as version 1 wrote, not "Z"


class Counts(_Record):
    """Per-inference counts in ``unit`` ("instructions" on twins, "cycles" on boards): median, min, max, n."""

    unit: str | None = None
    median: float | None = None
    min: int | None = None
    max: int | None = None
    n: int | None = None


class Components(_Record):
    """Bytes per firmware component (model_weights, tensor_arena, kernels, runtime, ...) in flash and in RAM."""

    flash: dict[str, int] | None = None
    ram: dict[str, int] | None = None


class Memory(_Record):
    """Memory use in bytes: flash, RAM (linked, reservations included), per ELF section, per component, the stack
    reservation, the peak stack measured by painting (``stack%``) and the peak RAM in use (linked RAM less the
    unused part of the stack reservation).  Every ``*_bytes`` field is also a history metric of that name."""

    flash_bytes: int | None = None
    ram_bytes: int | None = None
    sections: dict[str, int] | None = None
    components: Components | None = None
    peak_stack_bytes: int | None = None
    stack_bytes: int | None = None
    peak_ram_bytes: int | None = None


class Latency(_Record):
    """Latency per inference in ``unit`` (µs, "us"): median/min/max over the windows, ``estimate`` (True on twins:
    instructions x CPI / clock) and its ``source``; the median count per inference in ``count_unit``, number of
    windows, inferences per window, untimed warm-ups."""

    unit: str = "us"
    median: float | None = None
    min: float | None = None
    max: float | None = None
    estimate: bool | None = None
    source: str | None = None
    count_unit: str | None = None
    count_median: float | None = None
    windows: int | None = None
    inferences_per_window: int | None = None
    warmup: int | None = None


class Energy(_Record):
    """Energy per inference in ``unit`` (µJ, "uJ"), average power (mW), window length (s), inferences in the
    window, ``estimate`` (a power model, not a monitor) and its ``source`` (harness.metrics.energy EnergyResult)."""

    unit: str = "uJ"
    per_inference: float | None = None
    avg_power_mw: float | None = None
    estimate: bool | None = None
    source: str | None = None
    window_s: float | None = None
    inferences: int | None = None


class Variant(_Record):
    """A compression variant from its model card: name, method ("none": unmodified), base model, recipe hash."""

    name: str | None = None
    method: str | None = None
    base: str | None = None
    recipe_hash: str | None = None


class Summary(_Record):
    """summary.json: the results. ``accuracy`` top-1 fraction over labelled samples; ``arena_bytes``,
    ``weight_bytes`` bytes; ``macs`` per inference; ``bit_exact`` None when outputs were not checked;
    ``wall_time_s`` seconds; ``predictions``/``labels`` per sample id; ``params`` from the model card;
    ``profile`` a per-operator profile as ``tinyhil profile`` writes it."""

    schema_version: int = SCHEMA_VERSION
    model: str | None = None
    board: str | None = None
    backend: str = "tinyhil"  # deployment backend (harness.backends.Backend values)
    target: TargetKind = None
    samples: int | None = None
    inferences: int | None = None
    accuracy: float | None = None
    correct: int | None = None
    counts: Counts | None = None
    memory: Memory | None = None
    arena_bytes: int | None = None
    weight_bytes: int | None = None
    macs: int | None = None
    bit_exact: bool | None = None
    mismatches: int | None = None
    wall_time_s: float | None = None
    latency: Latency | None = None
    energy: Energy | None = None
    predictions: dict[str, int] | None = None
    labels: dict[str, int | None] | None = None
    variant: Variant | None = None
    params: int | None = None
    profile: list[dict[str, Any]] | dict[str, Any] | None = None
    tags: tuple[str, ...] = ()


class Inference(_Record):
    """One row of inferences.csv: input id, crop index, label (None: unlabelled), per-crop and per-clip
    prediction, the count in ``count_unit``, whether the output equals the reference (None: not checked), and
    the raw output values."""

    input_id: str
    crop: int
    label: int | None = None
    prediction: int
    clip_prediction: int
    count: int | None = None
    count_unit: str | None = None
    matches_reference: bool | None = None
    output: tuple[int | float, ...] = ()

    @classmethod
    def from_record(cls, rec: InferenceRecord, count_unit: str | None) -> "Inference":
        """The row of a runner :class:`~harness.runner.InferenceRecord` (its count in ``count_unit``)."""
        return cls(input_id=rec.sample_id, crop=rec.crop, label=rec.label, prediction=rec.prediction,
                   clip_prediction=rec.clip_prediction, count=rec.count, count_unit=count_unit,
                   matches_reference=rec.matches_reference, output=tuple(rec.output.reshape(-1).tolist()))


def as_manifest(value: Manifest | dict) -> Manifest:
    """``value`` as a :class:`Manifest` (a dict is validated). Raises pydantic.ValidationError (a ValueError)."""
    return value if isinstance(value, Manifest) else Manifest.model_validate(value)


def as_summary(value: Summary | dict) -> Summary:
    """``value`` as a :class:`Summary` (a dict is validated). Raises pydantic.ValidationError (a ValueError)."""
    return value if isinstance(value, Summary) else Summary.model_validate(value)


