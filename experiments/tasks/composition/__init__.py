"""Composing maximum-entropy policies (beyond the paper; Haarnoja et al., ICRA 2018) on multi-goal sub-tasks.

Two SQL constituents train as ordinary runs on two sub-tasks of the multi-goal env that share one goal:
A = ``softq/MultiGoalRightUp-v0`` (goals right and up rewarded) and B = ``softq/MultiGoalUpLeft-v0`` (up
and left). Each finished constituent writes its weights (``artifacts/model.zip``). Then :func:`finalize`
(run by ``python -m experiments run|reproduce composition`` after the runs) builds, per seed, the
composed policy for exp((Q_A + Q_B) / 2) with :func:`softq.composition.compose`: a fresh sampler fitted
by amortized SVGD on a grid of states, with no new environment samples. The composed task's reward,
(r_A + r_B) / 2, is highest at the shared goal (up).

Evaluation: :data:`N_ROLLOUTS` rollouts from the origin of each of A, B and the composed policy as they
act, in ``softq/MultiGoal-v0`` (every goal ends an episode), and the fraction ending at each goal. Each is
written as a one-row "evaluation run" ``runs/composition/softq-MultiGoal-v0/<label>/seed_<k>/``
(labels :data:`LABELS`) with ``progress.csv`` (columns ``shared_goal_fraction``, ``goal_fraction_<name>``,
``no_goal_fraction``; ``step`` = the environment steps behind the policy: its own run's, or both
constituents' for the composed one), ``manifest.json`` (``kind: composition``; the commit, package
versions and hardware of the evaluation, and the commits the constituents trained at) and
``artifacts/rollouts.csv``.
"""

from __future__ import annotations

from typing import Any

from experiments.config import load_task
from experiments.experiment import Experiment

NAME = "composition"  # the experiment's name and its task file's
LABELS = ("constituent_a", "constituent_b", "composed")
N_ROLLOUTS = 50
GRID = 57  # fit states: a 57 x 57 grid over the position box (0.25 m apart)
ROLLOUTS = "rollouts.csv"


def settings(profile: str) -> dict[str, Any]:
    """The task file's ``composition`` section, with the fit's per-profile update count resolved."""
    section = dict(load_task(NAME).sections["composition"])
    fit = dict(section["fit"])
    updates = fit.pop("n_updates")
    fit["n_updates"] = int(updates[profile] if isinstance(updates, dict) else updates)
    section["fit"] = fit
    return section


EXPERIMENT = Experiment(
    name=NAME,
    description="Two SQL policies on multi-goal sub-tasks composed by averaging their Q functions "
    "(ICRA 2018)",
    paper_figures="beyond the paper",
    task=NAME,
    metrics="experiments.tasks.multigoal.training:MultiGoalMetrics",
    write_artifacts=f"{__name__}.training:write_artifacts",
    figures=(f"{__name__}.figures:figure",),
    finalize=f"{__name__}.training:finalize",
)
