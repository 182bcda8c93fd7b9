"""Measurement as the field does it (issue 4): latency under MLPerf Tiny run rules, per-operator profiles,
memory by section and component, peak stack, model cards.  Energy lives in :mod:`harness.metrics.energy`.

Every figure derived from a twin's instruction count (latency, energy) is an ESTIMATE and says so in its
field names (``latency_us_est``) and flags (``estimate: true``); hardware figures come from cycles.
"""

from harness.errors import TinyhilError


class MeasurementError(TinyhilError):
    """A measurement cannot be made or would not be valid (no CPI for a twin's core, a run-rule violation,
    a profile that does not add up).  The message names the problem and the fix."""
