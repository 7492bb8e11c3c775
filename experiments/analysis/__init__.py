"""The analysis layer: run folders -> tidy table -> statistics -> figures, tables and the scorecard.

Works on files alone (no torch, SB3 or softq imports). Entry points for the CLI:

- :func:`make_tables` (``python -m experiments tables``): ``<out_dir>/tables/*.{md,csv,tex}``
- :func:`make_scorecard` (``python -m experiments verify``): ``<out_path>`` (e.g. results/SCORECARD.md)
- :func:`make_generic_figures` (``python -m experiments plot``): ``<out_dir>/figures/*.png`` (PDF on request)
- :func:`make_budget_trajectory_figures` (``plot`` too): ``<out_dir>/figures/<experiment>_budget_trajectory``

Importing this package loads neither pandas nor scipy: every training worker imports the experiment
registry, which declares its figures with :mod:`experiments.analysis.figure_specs`. The entry points (in
:mod:`experiments.analysis.outputs`) and aggregate's names below are imported on first use.

Outputs are deterministic: the same runs give byte-identical files. Nothing under ``<root>/runs`` is written.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.analysis.aggregate import Problem, Reduction, load_runs, run_values
    from experiments.analysis.outputs import (
        make_budget_trajectory_figures,
        make_generic_figures,
        make_scorecard,
        make_tables,
    )

FIGURES = "figures"
TABLES = "tables"
SCORECARD = "SCORECARD.md"

_MODULE_OF = {
    **dict.fromkeys(("Problem", "Reduction", "load_runs", "run_values"), "experiments.analysis.aggregate"),
    **dict.fromkeys(
        (
            "make_budget_trajectory_figures",
            "make_generic_figures",
            "make_scorecard",
            "make_tables",
        ),
        "experiments.analysis.outputs",
    ),
}

__all__ = [
    "FIGURES",
    "SCORECARD",
    "TABLES",
    "Problem",
    "Reduction",
    "load_runs",
    "make_budget_trajectory_figures",
    "make_generic_figures",
    "make_scorecard",
    "make_tables",
    "run_values",
]


def __getattr__(name: str) -> Any:
    """The names of ``_MODULE_OF``, imported on first use (PEP 562)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
