"""Run-level measures the claims need beyond progress.csv's columns, and every commit a run ran under.

:func:`add_run_measures` extends the tidy table of :func:`experiments.analysis.aggregate.load_runs` with

- one column per measure of :data:`experiments.claims.RUN_MEASURES` that the run's files allow, constant
  over the run's rows (read it with the ``final`` reduction): the swimmer measures from the per-epoch
  ``epoch_min_x``/``epoch_max_x`` of the training rollouts, the multi-goal Q modes from
  ``artifacts/q_values.csv``; NaN where a run lacks the inputs;
- ``commits``: every commit the run ran under (launch, resumes, and a ``commits`` list where the manifest
  has one), as short ids with ``+dirty`` where the source tree was dirty.

The definitions (thresholds, windows) are the constants of :mod:`experiments.claims`; this module only
computes them. Read-only: nothing under ``<root>/runs`` is written.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout
from experiments.analysis import aggregate
from experiments.claims import (
    LATE_FRACTION,
    Q_MODE_PROMINENCE,
    Q_MODE_STATES,
    SWIMMER_EXPLORED_X,
    SWIMMER_FINISH_LINE_X,
)

COMMITS = "commits"
Q_VALUES = "q_values.csv"  # experiments.tasks.multigoal.Q_VALUES, written by its training side
_SHORT = 10  # characters of a commit id, as aggregate.describe_commits


def late_epochs(n_epochs: int) -> slice:
    """The last ``LATE_FRACTION`` of ``n_epochs`` rows, at least one."""
    count = max(1, math.ceil(round(LATE_FRACTION * n_epochs, 9)))
    return slice(n_epochs - count, n_epochs)


def swimmer_measures(epoch_min_x: np.ndarray, epoch_max_x: np.ndarray) -> dict[str, float]:
    """The swimmer's run-level measures from its per-epoch extreme centre-of-mass x (in step order); see
    ``RUN_MEASURES`` for each definition."""
    low, high = np.asarray(epoch_min_x, dtype=float), np.asarray(epoch_max_x, dtype=float)
    late = late_epochs(len(high))
    crossed = high > SWIMMER_FINISH_LINE_X
    late_forward = float(np.mean(high[late]))
    late_backward = float(np.mean(-low[late]))
    first = np.flatnonzero(crossed)
    until = int(first[0]) + 1 if first.size else len(high)  # up to and including the first crossing
    two_sided = float(min(high[:until].max(), (-low[:until]).max()))
    return {
        "late_crossing_fraction": float(np.mean(crossed[late])),
        "late_forward_x": late_forward,
        "late_backward_x": late_backward,
        "two_sided_reach": two_sided,
        "explored_both_directions": float(first.size > 0 and two_sided >= SWIMMER_EXPLORED_X),
        "ended_backward": float(late_backward >= SWIMMER_EXPLORED_X and late_backward > late_forward),
    }


def count_modes(grid: np.ndarray, prominence: float = Q_MODE_PROMINENCE) -> int:
    """Local maxima of a 2-D grid (8 neighbours; cells on the edge have fewer) whose topographic prominence is
    at least ``prominence``: how far the surface must descend from the maximum before reaching higher ground
    (for the highest maximum, its height above the grid's lowest cell).

    Computed by flooding from the top: cells in decreasing order join the regions of their already-flooded
    neighbours; where two regions meet, the one with the lower peak ends, with prominence peak - this cell.
    """
    values = np.asarray(grid, dtype=float)
    if values.ndim != 2 or values.size == 0 or np.isnan(values).any():
        raise ValueError("count_modes needs a complete 2-D grid")
    n_rows, n_cols = values.shape
    flat = values.ravel()
    parent = np.full(flat.size, -1)
    peak: dict[int, int] = {}  # region root -> its highest cell

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    prominences = []
    order = np.argsort(-flat, kind="stable")
    for cell in order:
        r, c = divmod(int(cell), n_cols)
        regions = {
            root(rr * n_cols + cc)
            for rr in range(max(r - 1, 0), min(r + 2, n_rows))
            for cc in range(max(c - 1, 0), min(c + 2, n_cols))
            if parent[rr * n_cols + cc] >= 0
        }
        if not regions:
            parent[cell] = cell
            peak[int(cell)] = int(cell)
            continue
        ranked = sorted(regions, key=lambda g: (-flat[peak[g]], peak[g]))
        for lower in ranked[1:]:
            prominences.append(flat[peak[lower]] - flat[cell])
            parent[lower] = ranked[0]
        parent[cell] = ranked[0]
    prominences.append(flat[order[0]] - flat.min())
    return int(sum(p >= prominence for p in prominences))


def q_mode_measures(q_values: pd.DataFrame) -> dict[str, float]:
    """Modes of Q(s, .) at each state of ``Q_MODE_STATES`` from a q_values.csv table (state, action_x,
    action_y, q); NaN for a state whose grid is missing or incomplete."""
    out = {}
    for name, (index, _) in Q_MODE_STATES.items():
        part = q_values[q_values["state"] == index]
        grid = part.pivot_table(index="action_y", columns="action_x", values="q", aggfunc="first")
        complete = len(part) > 0 and grid.size == len(part) and not grid.isna().to_numpy().any()
        out[name] = float(count_modes(grid.to_numpy())) if complete else math.nan
    return out


def _commit_state(entry) -> tuple[str, bool] | None:
    """(short id, dirty) from a manifest's {"commit", "dirty"} mapping or a bare commit id."""
    if isinstance(entry, str) and entry:
        return entry[:_SHORT], False
    if isinstance(entry, dict) and entry.get("commit"):
        return str(entry["commit"])[:_SHORT], bool(entry.get("dirty"))
    return None


def run_commits(manifest: dict) -> list[str]:
    """Every commit a run ran under, in order, once each, as 'abcdef0123' or 'abcdef0123+dirty' (dirty if
    any launch or resume at it was): its launch (``git``), each resume (``resumes[].git``) and each entry of
    a ``commits`` list (ids or {"commit", "dirty"} mappings)."""
    entries = [manifest.get("git")]
    entries += [r.get("git") for r in manifest.get("resumes") or [] if isinstance(r, dict)]
    entries += list(manifest.get("commits") or [])
    dirty: dict[str, bool] = {}
    for state in filter(None, map(_commit_state, entries)):
        dirty[state[0]] = dirty.get(state[0], False) or state[1]
    return [f"{commit}{'+dirty' if d else ''}" for commit, d in dirty.items()]


def add_run_measures(df: pd.DataFrame, root: str | Path) -> pd.DataFrame:
    """A copy of ``df`` (from ``load_runs(root)``) with the run-level measure columns and ``commits``.
    A measure that progress.csv already logs under the same name is left as logged."""
    if len(df) == 0:
        return df.assign(**{COMMITS: pd.Series(dtype=str)})
    swimmer_inputs = {"epoch_min_x", "epoch_max_x"} <= set(df.columns)
    per_run: dict[str, dict[str, float | str]] = {}
    for run, rows in df.groupby("run", sort=True):
        rows = rows.sort_values(layout.STEP, kind="mergesort")
        values: dict[str, float | str] = {}
        if swimmer_inputs:
            extremes = rows[["epoch_min_x", "epoch_max_x"]].dropna()
            if len(extremes):
                values.update(
                    swimmer_measures(extremes["epoch_min_x"].to_numpy(), extremes["epoch_max_x"].to_numpy())
                )
        q_path = Path(root) / str(run) / layout.ARTIFACTS / Q_VALUES
        if q_path.is_file():
            values.update(q_mode_measures(pd.read_csv(q_path)))
        manifest, _ = aggregate.read_manifest_file(Path(root) / str(run) / layout.MANIFEST, required=())
        launch = {"git": {"commit": rows["commit"].iloc[0], "dirty": bool(rows["dirty"].iloc[0])}}
        values[COMMITS] = ", ".join(run_commits(manifest or {}) or run_commits(launch))
        per_run[str(run)] = values
    table = pd.DataFrame.from_dict(per_run, orient="index")
    table = table[[c for c in table.columns if c not in df.columns]]
    return df.join(table, on="run")
