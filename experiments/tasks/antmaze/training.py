"""Ant maze, training side: the metrics of Fig. 3b from the training rollouts."""

from __future__ import annotations

from typing import Any

from experiments.evaluation import Episode
from experiments.metrics import TaskMetrics
from softq.envs.ant import below_threshold


class AntMazeMetrics(TaskMetrics):
    """From the training rollouts (Fig. 3b): ``min_distance_to_target`` since training began, and
    ``below_threshold`` (1 once it went below the upper passage's best distance)."""

    def __init__(self) -> None:
        self.min_distance = float("inf")

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        for info in infos:
            self.min_distance = min(self.min_distance, float(info["distance_to_target"]))

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        return {
            "min_distance_to_target": self.min_distance,
            "below_threshold": int(below_threshold(self.min_distance)),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"min_distance": self.min_distance}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.min_distance = state["min_distance"]
