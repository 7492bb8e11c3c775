"""Swimmer, training side: the metrics of Fig. 3a and 6 from the training rollouts, and the diagnostics
that separate travel from wiggle. Every position is the x of the whole swimmer's centre of mass (COM)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from experiments.evaluation import Episode
from experiments.metrics import TaskMetrics, travel_ratio
from softq.envs.swimmer import crossed_finish_line

# SB3's VecEnv marks the last step of an episode with this key in its info.
_EPISODE_END = "terminal_observation"


class SwimmerMetrics(TaskMetrics):
    """Per epoch, from the training rollouts (Fig. 3a, 6): ``max_forward_x``, the farthest forward COM x
    since training began; ``epoch_min_x``/``epoch_max_x``, this epoch's extreme signed COM x;
    ``crossed_finish_line`` (1 once max_forward_x passed the finish line); ``epoch_travel`` and
    ``epoch_path``, the mean net COM x displacement and the mean COM x path length (what the velocity
    reward paid for, sum |dx|) of the training episodes that ended in the epoch, and their
    ``epoch_travel_ratio`` (:func:`travel_ratio`; NaN where no episode ended).
    From the evaluation of the deployed policy: ``eval_end_x_deployed``, the mean final COM x of its
    episodes, and ``eval_travel_ratio_deployed`` (:func:`travel_ratio` of its episodes)."""

    def __init__(self) -> None:
        self.max_forward_x = float("-inf")
        self._epoch_xs: list[float] = []
        self._episodes: list[tuple[float, float]] = []  # (travel, path) of the epoch's ended episodes

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        for info in infos:
            self._epoch_xs.append(float(info["com_x"]))
            if _EPISODE_END in info:
                self._episodes.append((float(info["com_travel"]), float(info["com_path"])))

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        low, high = min(self._epoch_xs), max(self._epoch_xs)
        travel, path = np.array(self._episodes).reshape(-1, 2).T
        self._epoch_xs, self._episodes = [], []
        self.max_forward_x = max(self.max_forward_x, high)
        last = [episode.infos[-1] for episode in deployed]
        return {
            "max_forward_x": self.max_forward_x,
            "epoch_min_x": low,
            "epoch_max_x": high,
            "crossed_finish_line": int(crossed_finish_line(self.max_forward_x)),
            "epoch_travel": float(np.mean(travel)) if travel.size else math.nan,
            "epoch_path": float(np.mean(path)) if path.size else math.nan,
            "epoch_travel_ratio": travel_ratio(travel, path),
            "eval_end_x_deployed": float(np.mean([i["com_x"] for i in last])),
            "eval_travel_ratio_deployed": travel_ratio(
                np.array([i["com_travel"] for i in last]), np.array([i["com_path"] for i in last])
            ),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"max_forward_x": self.max_forward_x}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.max_forward_x = state["max_forward_x"]
