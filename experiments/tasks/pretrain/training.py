"""Ant pretraining, training side: the distance metrics and the artifacts (weights, centre-of-mass traces)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.evaluation import EVALUATION, Episode, derived_seed, rollout
from experiments.metrics import TaskMetrics, planar_travel_columns
from experiments.models import save_weights
from experiments.tasks.pretrain import N_TRACES, TRACES

ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


class PretrainMetrics(TaskMetrics):
    """From the evaluation rollouts of the ant pretraining task (Fig. 7), each rollout's planar displacement
    of the ant's centre of mass d = (x, y)_end - (x, y)_start (the env's ``com_travel_x``, ``com_travel_y``;
    the body whose speed the reward pays):

    - for the deterministic and the acting policy's rollouts, ``distance_*``, ``path_*`` and
      ``travel_ratio_*`` (:func:`~experiments.metrics.planar_travel_columns`): how far the ant got, the path
      the speed reward paid for, and whether that speed took it somewhere or went back and forth (or round
      in circles);
    - ``heading_concentration_exploring``: ||mean of d / ||d||||, 1 when every acting rollout ends up in the
      same direction, near 0 when the directions spread around the circle (the paper: lower alpha runs
      farther but less diversely). Rollouts that moved less than 1 cm are left out; NaN if none moved.
    """

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        _, deployed_columns = planar_travel_columns(deployed, "deployed")
        d, exploring_columns = planar_travel_columns(exploring, "exploring")
        norms = np.linalg.norm(d, axis=1)
        moved = norms > 0.01
        concentration = (
            float(np.linalg.norm((d[moved] / norms[moved, None]).mean(0))) if moved.any() else float("nan")
        )
        return {
            **deployed_columns,
            **exploring_columns,
            "heading_concentration_exploring": concentration,
        }


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    save_weights(model, folder / layout.WEIGHTS)
    run_seed = int(model.seed or 0)
    rows = []
    for i in range(N_TRACES):
        episode = rollout(
            model, env, deterministic=False, seed=derived_seed(run_seed, EVALUATION, ARTIFACT_SEED_KEY, i)
        )
        infos = [episode.reset_info, *episode.infos]
        rows += [(i, t, float(info["com_x"]), float(info["com_y"])) for t, info in enumerate(infos)]
    pd.DataFrame(rows, columns=["rollout", "t", "x", "y"]).to_csv(
        folder / TRACES, index=False, float_format="%.4f"
    )
