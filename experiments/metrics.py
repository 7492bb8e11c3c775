"""Task metrics: what each experiment records per epoch beyond returns.

A :class:`TaskMetrics` sees every training step's ``infos`` (through an SB3 callback) and the epoch's
evaluation episodes, and returns the task's columns for that epoch's progress.csv row. Its state
(e.g. the best distance since training began) is checkpointed with the run. Each task's own metrics
subclass it in ``experiments/tasks/<task>/training.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from experiments.evaluation import Episode


def travel_ratio(travel: np.ndarray, path: np.ndarray) -> float:
    """sum |net centre-of-mass displacement| / sum centre-of-mass path length over episodes: 1 when every
    episode moves one way, near 0 when a velocity reward (which pays the path) came from going back and
    forth; NaN when nothing moved. ``travel`` holds signed displacements (one axis) or their norms."""
    total = float(np.sum(path))
    return float(np.sum(np.abs(travel)) / total) if total > 0 else math.nan


def planar_travel_columns(episodes: list[Episode], policy: str) -> tuple[np.ndarray, dict[str, float]]:
    """Per episode of an ant env, the centre of mass's planar displacement d since reset, shape (n, 2) (the
    env's ``com_travel_x``, ``com_travel_y`` at the episode's last step), and the episodes' columns for
    the policy that ran them (``deployed``, ``exploring``): ``distance_<policy>``, the mean ||d|| (m);
    ``path_<policy>``, the mean planar path (``com_path``, m), what a speed reward pays for; and
    ``travel_ratio_<policy>`` (:func:`travel_ratio` of ||d|| and the path), 1 when the speed paid went one
    way, near 0 when it went back and forth or round in circles."""
    last = [e.infos[-1] for e in episodes]
    travel = np.array([(i["com_travel_x"], i["com_travel_y"]) for i in last], dtype=float).reshape(-1, 2)
    path = np.array([i["com_path"] for i in last], dtype=float)
    distance = np.linalg.norm(travel, axis=1)
    return travel, {
        f"distance_{policy}": float(distance.mean()),
        f"path_{policy}": float(path.mean()),
        f"travel_ratio_{policy}": travel_ratio(distance, path),
    }


class TaskMetrics:
    """No task metrics: returns only. Subclasses override what they need.

    ``evaluates_behaviour_noise``: whether, for an algorithm that trains with action noise (DDPG, TD3), the
    runner also evaluates the actor with that noise on every epoch and passes the episodes to
    :meth:`behaviour_noise_metrics`."""

    evaluates_behaviour_noise = False

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        """Called after every environment step of training with the VecEnv's infos."""

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        return {}

    def behaviour_noise_metrics(self, episodes: list[Episode]) -> dict[str, float]:
        """The columns of the epoch's evaluation episodes of the actor with its training noise."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (on resume)."""

    def callback(self) -> BaseCallback:
        return _TrainingInfos(self)


class _TrainingInfos(BaseCallback):
    def __init__(self, metrics: TaskMetrics):
        super().__init__()
        self.metrics = metrics

    def _on_step(self) -> bool:
        self.metrics.observe_training_step(self.locals["infos"])
        return True
