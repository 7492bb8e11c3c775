"""The experiments of the suite: each binds a paper figure to a task file, its metrics and its figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import gymnasium as gym
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import multigoal
from experiments.config import ConfigError, TaskConfig, load_task
from experiments.metrics import MultiGoalMetrics, TaskMetrics

ArtifactWriter = Callable[[BaseAlgorithm, gym.Env, Path], None]
# (root of results, output folder, profile) -> written figure paths
FigureMaker = Callable[[Path, Path, str], list[Path]]


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    paper_figures: str
    task: str | Path  # name of experiments/hyperparams/<task>.yaml, or a task file's path
    metrics: Callable[[], TaskMetrics] = TaskMetrics
    write_artifacts: ArtifactWriter | None = None
    figures: tuple[FigureMaker, ...] = field(default_factory=tuple)

    @cached_property
    def config(self) -> TaskConfig:
        return load_task(self.task)

    @property
    def algos(self) -> list[str]:
        return list(self.config.algos)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in [
        Experiment(
            name="multigoal",
            description="2D point mass, four goals: does SQL's policy reach all of them (multi-modality)?",
            paper_figures="Fig. 1",
            task="multigoal",
            metrics=MultiGoalMetrics,
            write_artifacts=multigoal.write_artifacts,
            figures=(multigoal.figure_1,),
        ),
    ]
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; valid experiments: {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name]
