"""Multi-goal, training side: the ``goals_reached`` metric and the artifacts of Fig. 1 (see the package)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments.evaluation import BEHAVIOUR_NOISE, EVALUATION, Episode, derived_seed, rollout
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
    ROLLOUTS_NOISE_ON,
)

ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


def goals_reached(episodes: list[Episode]) -> int:
    """Distinct goals (0-4) in which the episodes end."""
    return len({episode.infos[-1]["goal"] for episode in episodes} - {-1})


class MultiGoalMetrics(TaskMetrics):
    """``goals_reached``: distinct goals (0-4) reached by the evaluation rollouts of the policy as it acts;
    ``goals_reached_noise_on`` (DDPG, TD3): the same for the actor with its training noise, from the same
    starts."""

    evaluates_behaviour_noise = True

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        return {"goals_reached": goals_reached(exploring)}

    def behaviour_noise_metrics(self, episodes: list[Episode]) -> dict[str, float]:
        return {"goals_reached_noise_on": goals_reached(episodes)}


def _write_rollouts(model: BaseAlgorithm, env: gym.Env, path: Path, behaviour_noise: bool = False) -> None:
    """N_ROLLOUTS rollouts of the policy as it acts (with ``behaviour_noise``: the actor with its training
    noise) from the origin, as rows (rollout, t, x, y)."""
    run_seed = int(model.seed or 0)
    rows = []
    for i in range(N_ROLLOUTS):
        seed = derived_seed(run_seed, EVALUATION, ARTIFACT_SEED_KEY, i)
        noise = (model.action_noise, derived_seed(run_seed, BEHAVIOUR_NOISE, ARTIFACT_SEED_KEY, i))
        episode = rollout(
            model,
            env,
            deterministic=behaviour_noise,
            seed=seed,
            options={"position": (0.0, 0.0)},
            behaviour_noise=noise if behaviour_noise else None,
        )
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    pd.DataFrame(rows, columns=["rollout", "t", "x", "y"]).to_csv(path, index=False)


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    _write_rollouts(model, env, folder / ROLLOUTS)
    if getattr(model, "action_noise", None) is not None:
        _write_rollouts(model, env, folder / ROLLOUTS_NOISE_ON, behaviour_noise=True)

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
