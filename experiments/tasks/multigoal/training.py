"""Multi-goal, training side: the ``goals_reached`` metric and the artifacts of Fig. 1 (see the package)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments.evaluation import EVALUATION, Episode, derived_seed, rollout
from experiments.metrics import TaskMetrics
from experiments.models import q_values
from experiments.tasks.multigoal import (
    ACTION_SAMPLES,
    GRID,
    N_ACTION_SAMPLES,
    N_ROLLOUTS,
    Q_PLOT_STATES,
    Q_VALUES,
    ROLLOUTS,
)

ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


class MultiGoalMetrics(TaskMetrics):
    """``goals_reached``: distinct goals (0-4) reached by the evaluation rollouts of the policy as it acts."""

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        goals = {episode.infos[-1]["goal"] for episode in exploring} - {-1}
        return {"goals_reached": len(goals)}


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    run_seed = int(model.seed or 0)
    rows = []
    for i in range(N_ROLLOUTS):
        seed = derived_seed(run_seed, EVALUATION, ARTIFACT_SEED_KEY, i)
        episode = rollout(model, env, deterministic=False, seed=seed, options={"position": (0.0, 0.0)})
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    pd.DataFrame(rows, columns=["rollout", "t", "x", "y"]).to_csv(folder / ROLLOUTS, index=False)

    axis = np.linspace(-1.0, 1.0, GRID)
    grid = np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)
    q_frames, sample_frames = [], []
    for index, state in enumerate(Q_PLOT_STATES):
        q = q_values(model, np.repeat(state[None], len(grid), axis=0), grid)
        q_frames.append(
            pd.DataFrame({"state": index, "action_x": grid[:, 0], "action_y": grid[:, 1], "q": q})
        )
        obs = np.repeat(state[None].astype(np.float32), N_ACTION_SAMPLES, axis=0)
        actions, _ = model.predict(obs, deterministic=False)
        sample_frames.append(
            pd.DataFrame({"state": index, "action_x": actions[:, 0], "action_y": actions[:, 1]})
        )
    pd.concat(q_frames).to_csv(folder / Q_VALUES, index=False, float_format="%.6g")
    pd.concat(sample_frames).to_csv(folder / ACTION_SAMPLES, index=False, float_format="%.6g")
