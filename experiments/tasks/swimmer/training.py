"""Swimmer, training side: the metrics of Fig. 3a and 6 from the training rollouts."""

from __future__ import annotations

from typing import Any

from experiments.evaluation import Episode
from experiments.metrics import TaskMetrics
from softq.envs.swimmer import crossed_finish_line


class SwimmerMetrics(TaskMetrics):
    """From the training rollouts (Fig. 3a, 6): ``max_forward_x``, the farthest forward torso x since
    training began; ``epoch_min_x``/``epoch_max_x``, this epoch's extreme signed torso x; and
    ``crossed_finish_line`` (1 once max_forward_x passed the finish line)."""

    def __init__(self) -> None:
        self.max_forward_x = float("-inf")
        self._epoch_xs: list[float] = []

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        for info in infos:
            self._epoch_xs.append(float(info["x_position"]))

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        low, high = min(self._epoch_xs), max(self._epoch_xs)
        self._epoch_xs = []
        self.max_forward_x = max(self.max_forward_x, high)
        return {
            "max_forward_x": self.max_forward_x,
            "epoch_min_x": low,
            "epoch_max_x": high,
            "crossed_finish_line": int(crossed_finish_line(self.max_forward_x)),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"max_forward_x": self.max_forward_x}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.max_forward_x = state["max_forward_x"]
