"""Ant pretraining, training side: the distance metrics and the artifacts (weights, centre-of-mass traces)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.evaluation import EVALUATION, Episode, derived_seed, rollout
from experiments.metrics import TaskMetrics, planar_com_travel, travel_ratio
from experiments.models import save_weights
from experiments.tasks.pretrain import N_TRACES, TRACES

ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


class PretrainMetrics(TaskMetrics):
    """From the evaluation rollouts of the ant pretraining task (Fig. 7), each rollout's planar displacement
    of the ant's centre of mass d = (x, y)_end - (x, y)_start (the env's ``com_travel_x``, ``com_travel_y``;
    the body whose speed the reward pays):

    - ``distance_deployed``, ``distance_exploring``: mean ||d|| of the deterministic / acting policy's
      rollouts;
    - ``heading_concentration_exploring``: ||mean of d / ||d||||, 1 when every acting rollout ends up in the
      same direction, near 0 when the directions spread around the circle (the paper: lower alpha runs
      farther but less diversely). Rollouts that moved less than 1 cm are left out; NaN if none moved;
    - ``path_deployed``, ``path_exploring``: the mean planar path of the centre of mass (``com_path``), what
      the speed reward paid for, and ``travel_ratio_deployed``, ``travel_ratio_exploring``
      (:func:`~experiments.metrics.travel_ratio` of ||d|| and the path): whether the speed the reward paid
      took the ant somewhere or went back and forth (or round in circles).
    """

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        (d_det, path_det), (d_exp, path_exp) = planar_com_travel(deployed), planar_com_travel(exploring)
        norms_det, norms = np.linalg.norm(d_det, axis=1), np.linalg.norm(d_exp, axis=1)
        moved = norms > 0.01
        concentration = (
            float(np.linalg.norm((d_exp[moved] / norms[moved, None]).mean(0)))
            if moved.any()
            else float("nan")
        )
        return {
            "distance_deployed": float(norms_det.mean()),
            "distance_exploring": float(norms.mean()),
            "heading_concentration_exploring": concentration,
            "path_deployed": float(path_det.mean()),
            "path_exploring": float(path_exp.mean()),
            "travel_ratio_deployed": travel_ratio(norms_det, path_det),
            "travel_ratio_exploring": travel_ratio(norms, path_exp),
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
