"""Task metrics: what each experiment records per epoch beyond returns.

A :class:`TaskMetrics` sees every training step's ``infos`` (through an SB3 callback) and the epoch's
evaluation episodes, and returns the task's columns for that epoch's progress.csv row. Its state
(e.g. the best distance since training began) is checkpointed with the run.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from experiments.evaluation import Episode


class TaskMetrics:
    """No task metrics: returns only. Subclasses override what they need."""

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        """Called after every environment step of training with the VecEnv's infos."""

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
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


class MultiGoalMetrics(TaskMetrics):
    """``goals_reached``: distinct goals (0-4) reached by the evaluation rollouts of the policy as it acts."""

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        goals = {episode.infos[-1]["goal"] for episode in exploring} - {-1}
        return {"goals_reached": len(goals)}


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
        from softq.envs.swimmer import crossed_finish_line

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


class AntMazeMetrics(TaskMetrics):
    """From the training rollouts (Fig. 3b): ``min_distance_to_target`` since training began, and
    ``below_threshold`` (1 once it went below the upper passage's best distance)."""

    def __init__(self) -> None:
        self.min_distance = float("inf")

    def observe_training_step(self, infos: list[dict[str, Any]]) -> None:
        for info in infos:
            self.min_distance = min(self.min_distance, float(info["distance_to_target"]))

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        from softq.envs.ant import below_threshold

        return {"min_distance_to_target": self.min_distance, "below_threshold": int(below_threshold(self.min_distance))}

    def state_dict(self) -> dict[str, Any]:
        return {"min_distance": self.min_distance}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.min_distance = state["min_distance"]


class PretrainMetrics(TaskMetrics):
    """From the evaluation rollouts of the ant pretraining task (Fig. 7), each rollout's planar torso
    displacement d = (x, y)_end - (x, y)_start (observation entries 0 and 1):

    - ``distance_deployed``, ``distance_exploring``: mean ||d|| of the deterministic / acting policy's rollouts;
    - ``heading_concentration_exploring``: ||mean of d / ||d||||, 1 when every acting rollout ends up in the
      same direction, near 0 when the directions spread around the circle (the paper: lower alpha runs
      farther but less diversely). Rollouts that moved less than 1 cm are left out; NaN if none moved.
    """

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        import numpy as np

        def displacements(episodes: list[Episode]) -> np.ndarray:
            return np.array([np.asarray(e.observations[-1][:2]) - np.asarray(e.observations[0][:2]) for e in episodes])

        d_det, d_exp = displacements(deployed), displacements(exploring)
        norms = np.linalg.norm(d_exp, axis=1)
        moved = norms > 0.01
        concentration = float(np.linalg.norm((d_exp[moved] / norms[moved, None]).mean(0))) if moved.any() else float("nan")
        return {
            "distance_deployed": float(np.linalg.norm(d_det, axis=1).mean()),
            "distance_exploring": float(norms.mean()),
            "heading_concentration_exploring": concentration,
        }
