"""Run directories: the typed, self-describing record of one benchmark run.

``<out>/<run id>/`` holds ``manifest.json`` (:class:`Manifest`: what ran where), ``summary.json`` (:class:`Summary`:
the results), ``inferences.csv`` (:class:`Inference` rows, columns :data:`INFERENCE_COLUMNS`, raw outputs
space-separated) and transcripts copied in (serial.log, qemu.log). A run is written only once complete (to a hidden
temporary name, then renamed), so a failed run never leaves a directory that looks valid.

Schema versions: files without ``schema_version`` are version 1 (tinyhil 0.1.0) and read into the same models,
``target: "hardware"`` becoming ``"board"``. Version 2 writes exactly the models: every field, ``null`` for what was
not measured (never 0). Unknown keys are ignored when reading files (a newer file still reads) and refused
everywhere else (a misspelt field is an error, not a silently dropped value).

Modules: :mod:`.records` (the types), :mod:`.files` (write_run, read_run, Run), :mod:`.metrics` (summary_metrics,
latency_us, energy_uj, layer_profile).  Everything public is importable from ``harness.rundir``.
"""

from harness.rundir.files import Run, is_run_dir, read_run, write_run  # noqa: F401
from harness.rundir.metrics import Metric, energy_uj, latency_us, layer_profile, summary_metrics  # noqa: F401
from harness.rundir.records import (  # noqa: F401
    INFERENCE_COLUMNS, READ_CONTEXT, RUN_FILES, SCHEMA_VERSION, Components, Counts, DataRef, Energy, Firmware,
    Inference, Latency, Manifest, Memory, ModelRef, Summary, TwinInfo, Variant, as_manifest, as_summary,
    base_manifest, git_commit, new_run_id,
)
