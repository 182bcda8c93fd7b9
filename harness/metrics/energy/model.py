"""Energy ESTIMATE from the board's power model (boards.yaml ``power``) and a latency.

``E [uJ] = I_active [mA] * V [V] * t [us] / 1000`` with the datasheet's active current at the catalog clock.
Labelled ``estimate: true``: it ignores the workload's own current profile, memory wait states and the
board's regulators and LEDs.  No power model -> None ("not measured", never 0)."""

from __future__ import annotations

from harness.boards import Board
from harness.metrics.energy.base import EnergyResult


def estimate_energy(board: Board, latency_us: float, latency_source: str) -> EnergyResult | None:
    """Energy per inference (µJ) and power (mW) from ``board.power`` and ``latency_us`` (µs, measured or
    estimated); None when the board has no power model."""
    pm = board.power
    if pm is None:
        return None
    p_mw = pm.active_power_mw
    return EnergyResult(p_mw * latency_us / 1000.0, p_mw, None, True,
                        f"ESTIMATE: power model {pm.active_current_ma:g} mA x {pm.supply_v:g} V ({pm.source}) x "
                        f"latency ({latency_source})")
