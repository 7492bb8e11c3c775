"""Run-level measures the claims need beyond progress.csv's columns, and every commit a run ran under.

:func:`add_run_measures` extends the tidy table of :func:`experiments.analysis.aggregate.load_runs` with

- one column per measure of :data:`experiments.claims.RUN_MEASURES` and
  :data:`experiments.claims.ALTERNATIVE_MEASURES` that the run's files allow, constant over the run's rows
  (read it with the ``final`` reduction): the swimmer measures from the per-epoch ``epoch_min_x``/
  ``epoch_max_x`` of the training rollouts, the multi-goal Q modes (and each state's runner-up prominence)
  from ``artifacts/q_values.csv``, the goals of the rollouts from the origin from ``artifacts/rollouts.csv``
  and, for SQL's runs, the sampler's fidelity to exp(Q) from ``artifacts/q_values.csv`` and
  ``artifacts/action_samples.csv`` (:mod:`experiments.analysis.fidelity`); NaN where a run lacks the inputs;
- ``commits``: every commit the run ran under (launch, resumes, and a ``commits`` list where the manifest
  has one), as short ids with ``+dirty`` where the source tree was dirty.

The definitions (thresholds, windows) are the constants of :mod:`experiments.claims`; this module only
computes them, at the pre-registered :data:`~experiments.claims.THRESHOLDS` or at scaled ones (the
alternatives of :mod:`experiments.analysis.robustness`). What a run's final files give is read once
(:func:`read_final_artifacts`, the costly part) and measured at any thresholds, and for any prefix of the
run's rows (:func:`run_measures`). Read-only: nothing under ``<root>/runs`` is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout
from experiments.analysis import aggregate, fidelity
from experiments.claims import (
    LATE_FRACTION,
    MULTIGOAL_GOAL_RADIUS,
    MULTIGOAL_GOALS,
    Q_MODE_PROMINENCE,
    Q_MODE_RUNNER_UP,
    Q_MODE_STATES,
    RUN_LABELS,
    THRESHOLDS,
    Thresholds,
)
from experiments.run_files import read_manifest_file

COMMITS = "commits"
Q_VALUES = "q_values.csv"  # experiments.tasks.multigoal.Q_VALUES, written by its training side
ACTION_SAMPLES = "action_samples.csv"  # experiments.tasks.multigoal.ACTION_SAMPLES
ROLLOUTS = "rollouts.csv"  # experiments.tasks.multigoal.ROLLOUTS
ROLLOUTS_NOISE_ON = "rollouts_noise_on.csv"  # experiments.tasks.multigoal.ROLLOUTS_NOISE_ON
_SHORT = 10  # characters of a commit id, as aggregate.describe_commits


def late_epochs(n_epochs: int) -> slice:
    """The last ``LATE_FRACTION`` of ``n_epochs`` rows, at least one."""
    return aggregate.last_rows(n_epochs, LATE_FRACTION)


def swimmer_measures(
    epoch_min_x: np.ndarray, epoch_max_x: np.ndarray, thresholds: Thresholds = THRESHOLDS
) -> dict[str, float]:
    """The swimmer's run-level measures from its per-epoch extreme centre-of-mass x (in step order); see
    ``RUN_MEASURES`` for each definition."""
    low, high = np.asarray(epoch_min_x, dtype=float), np.asarray(epoch_max_x, dtype=float)
    late = late_epochs(len(high))
    crossed = high > thresholds.finish_line_x
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
        "explored_both_directions": float(first.size > 0 and two_sided >= thresholds.explored_x),
        "ended_backward": float(late_backward >= thresholds.explored_x and late_backward > late_forward),
    }


def count_modes(grid: np.ndarray, prominence: float = Q_MODE_PROMINENCE) -> int:
    """Local maxima of a 2-D grid whose topographic prominence (:func:`prominences`) is at least
    ``prominence``."""
    return int(sum(p >= prominence for p in prominences(grid)))


def runner_up_prominence(peaks: np.ndarray) -> float:
    """The largest prominence of a maximum other than the highest (the last of :func:`prominences`); 0 where
    there is none."""
    return float(max(peaks[:-1], default=0.0))


def prominences(grid: np.ndarray) -> np.ndarray:
    """The topographic prominence of every local maximum of a 2-D grid (8 neighbours; cells on the edge have
    fewer): how far the surface must descend from the maximum before reaching higher ground; the highest
    maximum's, its height above the grid's lowest cell, comes last.

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

    found = []
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
            found.append(flat[peak[lower]] - flat[cell])
            parent[lower] = ranked[0]
        parent[cell] = ranked[0]
    found.append(flat[order[0]] - flat.min())
    return np.asarray(found, dtype=float)


def q_grid(q_values: pd.DataFrame, state: int) -> pd.DataFrame | None:
    """Q(s, .) at state index ``state`` of a q_values.csv table (state, action_x, action_y, q) as a grid
    (rows: action y, columns: action x); None where it is missing or incomplete."""
    part = q_values[q_values["state"] == state]
    grid = part.pivot_table(index="action_y", columns="action_x", values="q", aggfunc="first")
    complete = len(part) > 0 and grid.size == len(part) and not grid.isna().to_numpy().any()
    return grid if complete else None


def q_prominences(q_values: pd.DataFrame) -> dict[str, np.ndarray | None]:
    """The prominences of Q(s, .)'s local maxima at each state of ``Q_MODE_STATES`` from a q_values.csv
    table; None for a state whose grid is missing or incomplete."""
    out: dict[str, np.ndarray | None] = {}
    for name, (index, _) in Q_MODE_STATES.items():
        grid = q_grid(q_values, index)
        out[name] = None if grid is None else prominences(grid.to_numpy())
    return out


def q_mode_measures(
    peaks: Mapping[str, np.ndarray | None], thresholds: Thresholds = THRESHOLDS
) -> dict[str, float]:
    """Modes of Q(s, .) and the runner-up's prominence at each state, from :func:`q_prominences`; NaN for a
    state without a complete grid."""
    out = {}
    for name, found in peaks.items():
        missing = found is None
        out[name] = math.nan if missing else float(np.sum(found >= thresholds.q_mode_prominence))
        out[Q_MODE_RUNNER_UP[name]] = math.nan if missing else runner_up_prominence(found)
    return out


def fidelity_scores(
    q_values: pd.DataFrame, samples: pd.DataFrame, scheme: str
) -> tuple[fidelity.Fidelity, ...] | None:
    """The sampler's fidelity at each Q-plot state from a run's q_values.csv and action_samples.csv tables,
    for a sampler with action bounding ``scheme``; None where a state's grid or samples are missing."""
    scores = []
    for index, _ in Q_MODE_STATES.values():
        grid = q_grid(q_values, index)
        actions = samples.loc[samples["state"] == index, ["action_x", "action_y"]].to_numpy(float)
        if grid is None or len(actions) < 2:
            return None
        axis = grid.columns.to_numpy(float)
        scores.append(fidelity.sampler_fidelity(axis, grid.to_numpy(float), actions, scheme, index))
    return tuple(scores)


def fidelity_measures(
    scores: tuple[fidelity.Fidelity, ...] | None, thresholds: Thresholds = THRESHOLDS
) -> dict[str, float]:
    """The sampler-fidelity measures of ``RUN_MEASURES`` from :func:`fidelity_scores`; NaN without them."""
    if scores is None:
        return dict.fromkeys(_FIDELITY_MEASURES, math.nan)
    return {
        "sampler_mmd": float(np.mean([f.sampler for f in scores])),
        "sampler_mmd_scheme": float(np.mean([f.sampler_scheme for f in scores])),
        "uniform_mmd": float(np.mean([f.uniform for f in scores])),
        "sampler_mmd_floor": float(np.mean([f.floor for f in scores])),
        "sampler_at_floor": float(all(f.sampler <= thresholds.sampler_floor * f.floor for f in scores)),
        "sampler_beats_uniform": float(all(f.sampler < f.uniform for f in scores)),
    }


_FIDELITY_MEASURES = (
    "sampler_mmd",
    "sampler_mmd_scheme",
    "uniform_mmd",
    "sampler_mmd_floor",
    "sampler_at_floor",
    "sampler_beats_uniform",
)


def goals_reached_from_rollouts(rollouts: pd.DataFrame) -> float:
    """Distinct goals in whose radius the rollouts of a rollouts.csv table (rollout, t, x, y) end."""
    last = rollouts.sort_values(["rollout", "t"], kind="mergesort").groupby("rollout").tail(1)
    ends = last[["x", "y"]].to_numpy(float)
    distances = np.linalg.norm(ends[:, None, :] - np.asarray(MULTIGOAL_GOALS)[None], axis=-1)
    nearest, reached = distances.argmin(axis=1), distances.min(axis=1) < MULTIGOAL_GOAL_RADIUS
    return float(len(set(nearest[reached].tolist())))


def action_bounding(manifest: dict) -> str:
    """The SQL run's action bounding from its manifest's hyperparameters (absent: the default, squash)."""
    policy_kwargs = (manifest.get("hyperparameters") or {}).get("policy_kwargs") or {}
    return str(policy_kwargs.get("action_bounding", "squash"))


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


@dataclass(frozen=True)
class FinalArtifacts:
    """What a run's manifest and final artifacts give, read once (:func:`read_final_artifacts`): its
    commits, the prominences of Q's maxima at each Q-plot state, the sampler's fidelity scores and the goals
    of its rollouts from the origin (None where the run has not the files)."""

    commits: str
    q_prominences: Mapping[str, np.ndarray | None] | None = None
    fidelity: tuple[fidelity.Fidelity, ...] | None = None
    goals_reached_origin: float | None = None
    goals_reached_noise_on_origin: float | None = None


def read_final_artifacts(df: pd.DataFrame, root: str | Path) -> dict[str, FinalArtifacts]:
    """Run (its folder relative to ``root``, as ``df``'s ``run`` column) -> its :class:`FinalArtifacts`."""
    out = {}
    for run, rows in df.groupby("run", sort=True):
        artifacts = Path(root) / str(run) / layout.ARTIFACTS
        manifest, _ = read_manifest_file(Path(root) / str(run) / layout.MANIFEST, required=())
        launch = {"git": {"commit": rows["commit"].iloc[0], "dirty": bool(rows["dirty"].iloc[0])}}
        commits = ", ".join(run_commits(manifest or {}) or run_commits(launch))
        peaks = scores = goals = goals_noise_on = None
        if (artifacts / Q_VALUES).is_file():
            q_values = pd.read_csv(artifacts / Q_VALUES)
            peaks = q_prominences(q_values)
            if rows["algo"].iloc[0] in RUN_LABELS["sql"] and (artifacts / ACTION_SAMPLES).is_file():
                samples = pd.read_csv(artifacts / ACTION_SAMPLES)
                scores = fidelity_scores(q_values, samples, action_bounding(manifest or {}))
        if (artifacts / ROLLOUTS).is_file():
            goals = goals_reached_from_rollouts(pd.read_csv(artifacts / ROLLOUTS))
        if (artifacts / ROLLOUTS_NOISE_ON).is_file():
            goals_noise_on = goals_reached_from_rollouts(pd.read_csv(artifacts / ROLLOUTS_NOISE_ON))
        out[str(run)] = FinalArtifacts(commits, peaks, scores, goals, goals_noise_on)
    return out


def rethreshold(df: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """``df`` with the progress.csv columns that compare a logged quantity with a threshold recomputed at
    ``thresholds`` (``crossed_finish_line`` from ``max_forward_x``, ``below_threshold`` from
    ``min_distance_to_target``); unchanged at the pre-registered thresholds, where they stay as logged."""
    if thresholds == THRESHOLDS:
        return df
    df = df.copy()
    for column, quantity, crossed in (
        ("crossed_finish_line", "max_forward_x", lambda v: v > thresholds.finish_line_x),
        ("below_threshold", "min_distance_to_target", lambda v: v < thresholds.antmaze_threshold),
    ):
        if {column, quantity} <= set(df.columns):
            df[column] = crossed(df[quantity]).astype(float).where(df[quantity].notna())
    return df


# Measures whose value depends on a Thresholds field: what an alternative that scales them changes.
THRESHOLD_MEASURES = frozenset(
    {
        "crossed_finish_line",
        "below_threshold",
        "late_crossing_fraction",
        "two_sided_reach",
        "explored_both_directions",
        "ended_backward",
        "sampler_at_floor",
        *Q_MODE_STATES,
    }
)
# Measures read from a run's final artifacts: they exist for the final policy only.
FINAL_ARTIFACT_MEASURES = frozenset(
    {
        *Q_MODE_STATES,
        *Q_MODE_RUNNER_UP.values(),
        *_FIDELITY_MEASURES,
        "goals_reached_origin",
        "goals_reached_noise_on_origin",
    }
)


def run_measures(
    df: pd.DataFrame, finals: Mapping[str, FinalArtifacts], thresholds: Thresholds = THRESHOLDS
) -> pd.DataFrame:
    """One row per run of ``df`` (indexed by ``run``): its run-level measures at ``thresholds`` from its rows
    (whichever prefix of the run they are) and, where ``finals`` has the run, from its final artifacts."""
    swimmer_inputs = {"epoch_min_x", "epoch_max_x"} <= set(df.columns)
    per_run: dict[str, dict[str, float | str]] = {}
    for run, rows in df.groupby("run", sort=True):
        rows = rows.sort_values(layout.STEP, kind="mergesort")
        values: dict[str, float | str] = {}
        if swimmer_inputs:
            extremes = rows[["epoch_min_x", "epoch_max_x"]].dropna()
            if len(extremes):
                values.update(
                    swimmer_measures(
                        extremes["epoch_min_x"].to_numpy(), extremes["epoch_max_x"].to_numpy(), thresholds
                    )
                )
        final = finals.get(str(run))
        if final is not None:
            if final.q_prominences is not None:
                values.update(q_mode_measures(final.q_prominences, thresholds))
            if final.fidelity is not None:
                values.update(fidelity_measures(final.fidelity, thresholds))
            if final.goals_reached_origin is not None:
                values["goals_reached_origin"] = final.goals_reached_origin
            if final.goals_reached_noise_on_origin is not None:
                values["goals_reached_noise_on_origin"] = final.goals_reached_noise_on_origin
            values[COMMITS] = final.commits
        per_run[str(run)] = values
    return pd.DataFrame.from_dict(per_run, orient="index")


def add_run_measures(
    df: pd.DataFrame,
    root: str | Path | None = None,
    thresholds: Thresholds = THRESHOLDS,
    finals: Mapping[str, FinalArtifacts] | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` (from ``load_runs(root)``) with the run-level measure columns and ``commits``, at
    ``thresholds`` (and the threshold columns of progress.csv recomputed there: :func:`rethreshold`).
    ``finals``: the runs' :func:`read_final_artifacts` where already read (else read from ``root``; an empty
    mapping measures the rows alone). A measure that progress.csv already logs under the same name is left
    as logged."""
    if len(df) == 0:
        return df.assign(**{COMMITS: pd.Series(dtype=str)})
    if finals is None:
        if root is None:
            raise ValueError("add_run_measures needs the results root or the runs' final artifacts")
        finals = read_final_artifacts(df, root)
    df = rethreshold(df, thresholds)
    table = run_measures(df, finals, thresholds)
    table = table[[c for c in table.columns if c not in df.columns]]
    return df.join(table, on="run")
