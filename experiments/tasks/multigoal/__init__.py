"""Multi-goal (paper Sec. 5.1, Fig. 1): does SQL's policy reach all four goals (multi-modality)?

Per finished run, ``artifacts/`` holds (:mod:`.training` writes them, :mod:`.figures` draws Fig. 1)
- ``rollouts.csv``: 20 rollouts of the policy as it acts, from the origin (rollout, t, x, y);
- ``q_values.csv``: Q(s, a) on a grid over the action square at the paper's three states;
- ``action_samples.csv``: 100 actions of the policy as it acts at each of those states;
- ``rollouts_noise_on.csv`` (algorithms that train with action noise: DDPG, TD3): 20 rollouts of the actor
  with that noise on, from the origin, as ``rollouts.csv``.
"""

from __future__ import annotations

import numpy as np

from experiments.analysis.figure_specs import FigureSpec
from experiments.experiment import Experiment

Q_PLOT_STATES = np.array([[-2.5, 0.0], [0.0, 0.0], [2.5, 2.5]])  # [C18] plotter; the text says (-2, 0)
N_ROLLOUTS = 20
N_ACTION_SAMPLES = 100  # [C18] QFPolicyPlotter
GRID = 31
ROLLOUTS, Q_VALUES, ACTION_SAMPLES = "rollouts.csv", "q_values.csv", "action_samples.csv"
ROLLOUTS_NOISE_ON = "rollouts_noise_on.csv"

EXPERIMENT = Experiment(
    name="multigoal",
    description="2D point mass, four goals: does SQL's policy reach all of them (multi-modality)?",
    paper_figures="Fig. 1",
    task="multigoal",
    metrics=f"{__name__}.training:MultiGoalMetrics",
    write_artifacts=f"{__name__}.training:write_artifacts",
    figures=(f"{__name__}.figures:figure_1", f"{__name__}.figures:sampler_fidelity_figure"),
    figure_specs=(
        FigureSpec(
            "multigoal_goals_reached",
            "seed_lines",
            "multigoal",
            metric="goals_reached",
            title="Multi-goal: distinct goals reached by 20 rollouts of the policy as it acts",
        ),
    ),
)
