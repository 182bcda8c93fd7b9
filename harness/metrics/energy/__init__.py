"""Energy per inference: power monitors synchronised by the DUT's GPIO timestamp pulses, or a labelled
estimate from the board's power model.

The scheme is MLPerf Tiny's energy mode: the firmware pulses its timestamp GPIO (``th_port_timestamp()``)
right before the first and right after the last timed inference of ``infer N W%``; the monitor records
current (and voltage) together with that line; the host integrates power between exactly two pulses and
divides by N.  A capture with fewer than two pulses (a lost trigger), more than two, or missing samples
inside the window (monitor overflow) raises :class:`EnergyError`: it is never turned into a number.

Seam: :class:`~harness.metrics.energy.base.EnergyMeter` (``start``, ``stop -> Capture``, ``close``).  Drivers:
:mod:`.joulescope` (JS220/JS110, package ``joulescope``), :mod:`.ppk2` (Nordic PPK2, package ``ppk2-api``),
:mod:`.lpm01a` (ST X-NUCLEO-LPM01A, serial text protocol via pyserial); the packages are the ``energy`` extra.
:mod:`.simulators` implements each monitor's wire protocol or API from its documentation, so the tests run
the real driver code.  Without a monitor, :func:`~harness.metrics.energy.model.estimate_energy` gives an ESTIMATE.
"""

from harness.metrics.energy.base import Capture, EnergyError, EnergyMeter, EnergyResult, window_energy  # noqa: F401
