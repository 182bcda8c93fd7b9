"""Reports of runs: console tables (``console``), the platform trade-off table in every format (``table``),
figures (``tradeoff``: accuracy vs cost per board; ``bars``: per-board grouped bars; ``detail``: confusion
matrices and per-operator profiles; ``style``: print sizes, palette, PDF + PNG), statistics (``stats``: Wilson
interval, confusion), units (``units``), notes (``notes``), the static HTML report (``html``), and the report
writer (``build``).

Only the console tables are imported here (rich only); the other modules need pandas/matplotlib and are
imported where used. New console tables belong in ``console.py`` and are re-exported below.
"""

from harness.report.console import print_runs, run_table

__all__ = ["print_runs", "run_table"]
