"""Where each verdict is heading with budget: every claim row checked again, by the same rule, on the first
10%, 20%, ..., 100% of every run's own budget (:data:`experiments.claims.TRAJECTORY_FRACTIONS`).

A run's prefix is its progress.csv rows up to that step, with its budget cut to match (so that an
``auc:<frac>`` reduction reads the prefix's own first half, and the late window of the swimmer's measures
is the prefix's last epochs), and its run-level measures recomputed from those rows. Only for the
experiments of :data:`~experiments.claims.BUDGET_INDEPENDENT_SCHEDULES`, where a prefix is the run a
shorter budget would have made; measures read from the final artifacts have no prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments import layout
from experiments.analysis import aggregate, measures, scorecard, stats
from experiments.analysis.scorecard import ClaimResult, Outcome
from experiments.claims import (
    BUDGET_INDEPENDENT_SCHEDULES,
    CLAIMS,
    RUN_LABELS,
    TRAJECTORY_FRACTIONS,
    Claim,
    RateSpec,
)


def prefix(runs: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """Every run's rows up to ``fraction`` of its budget (runs without a row there are left out), with the
    budget cut to that step."""
    budget = runs["budget_steps"]
    kept = runs[runs[layout.STEP] <= fraction * budget + 1e-9].copy()
    kept["budget_steps"] = fraction * kept["budget_steps"]
    kept["n_epochs"] = fraction * kept["n_epochs"]
    return kept


def measured_prefix(runs: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """:func:`prefix` with the run-level measures its rows give (none from the final artifacts)."""
    return measures.add_run_measures(prefix(runs, fraction), finals={})


def no_trajectory(claim: Claim) -> str:
    """Why ``claim`` has no budget trajectory; "" if it has one."""
    if claim.experiment not in BUDGET_INDEPENDENT_SCHEDULES:
        return f"{claim.experiment}'s training schedule depends on the total budget"
    final = [m.metric for m in claim.spec.measured() if m.metric in measures.FINAL_ARTIFACT_MEASURES]
    if final:
        return f"{', '.join(dict.fromkeys(final))} exists for the final policy only (read from its artifacts)"
    return ""


def check_trajectories(
    results: list[ClaimResult],
    runs: pd.DataFrame,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> None:
    """Fill each result's ``trajectory`` (one :class:`Outcome` per fraction, named by it) or
    ``no_trajectory``."""
    claims = [c for c in dict.fromkeys(r.claim for r in results) if not no_trajectory(c)]
    by_fraction = {}
    for fraction in TRAJECTORY_FRACTIONS:
        table = measured_prefix(runs, fraction)
        by_fraction[fraction] = {
            r.key: r for claim in claims for r in scorecard.evaluate_claim(claim, table, reps, seed)
        }
    for result in results:
        result.no_trajectory = no_trajectory(result.claim)
        if result.no_trajectory or result.verdict == scorecard.NOT_RUN:
            continue
        for fraction, found in by_fraction.items():
            name = scorecard.percent(fraction)
            changed = found.get(result.key)
            if changed is None or changed.verdict == scorecard.NOT_RUN:
                result.trajectory.append(Outcome(name, None, "no run has an epoch this early"))
            else:
                result.trajectory.append(Outcome(name, changed.verdict, changed.brief))


# ------------------------------------------------------------------------------------------------
# Each arm against steps (the figures)

PANEL_COLUMNS = ["arm", "env", "profile", "preset", "fraction", "steps", "point", "low", "high"]


@dataclass(frozen=True)
class Panel:
    """One panel of an experiment's budget-trajectory figure: each arm's success rate under one success
    condition of its rate and comparative claims, with the Wilson interval (``rate`` True), or else each
    arm's mean of one measure its other claims read, with a bootstrap interval; ``rows`` as
    :data:`PANEL_COLUMNS`, one per arm and fraction; ``paper``: the paper's proportion per arm where a rate
    claim gives one."""

    title: str
    rate: bool
    rows: pd.DataFrame
    paper: dict[str, float]


def _labels(algos: tuple[str, ...]) -> list[str]:
    return [label for algo in algos for label in RUN_LABELS.get(algo, (algo,))]


def trajectory_panels(
    runs: pd.DataFrame,
    experiment: str,
    claims: tuple[Claim, ...] = CLAIMS,
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> list[Panel]:
    """The panels of ``experiment``'s figure, in claim order: one per success condition, else one per
    measure; [] where none of its claims has a trajectory or it has no runs."""
    here = runs[runs["experiment"] == experiment] if len(runs) else runs
    panels: dict[tuple, dict[str, float | None]] = {}  # (condition or (metric, reduction)) -> arm -> paper
    for claim in claims:
        spec = claim.spec
        if claim.experiment != experiment or no_trajectory(claim):
            continue
        condition = getattr(spec, "success_condition", None)
        measured = spec.measured()[-1]
        key = (condition,) if condition is not None else (measured.metric, measured.reduction)
        arms = panels.setdefault(key, {})
        for label in _labels(spec.algos):
            paper = spec.paper_rate if isinstance(spec, RateSpec) else None
            arms[label] = paper if arms.get(label) is None else arms[label]
    if not panels or len(here) == 0:
        return []
    tables = {fraction: measured_prefix(here, fraction) for fraction in TRAJECTORY_FRACTIONS}
    out = []
    for key, arms in panels.items():
        rate = len(key) == 1
        metric, reduction = (key[0].metric, key[0].reduction) if rate else key
        rows = []
        for fraction, table in tables.items():
            values = aggregate.run_values(table, metric, reduction).dropna(subset=["value"])
            values = values[values["algo"].isin(arms)]
            for (algo, env, profile, preset), group in values.groupby(["algo", "env", "profile", "preset"]):
                if rate:
                    ci = stats.wilson_interval(
                        int(sum(key[0].success(v) for v in group["value"])), len(group)
                    )
                else:
                    ci = stats.bootstrap_ci(group["value"].to_numpy(float), reps=reps, seed=seed)
                steps = float(np.median(group["budget_steps"]))
                rows.append((algo, env, profile, preset, fraction, steps, ci.point, ci.low, ci.high))
        title = key[0].describe() if rate else f"mean {reduction} {metric}"
        drawn = {row[0] for row in rows}
        paper = {arm: value for arm, value in arms.items() if value is not None and arm in drawn}
        if rows:
            out.append(Panel(title, rate, pd.DataFrame(rows, columns=PANEL_COLUMNS), paper))
    return out
