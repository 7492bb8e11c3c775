"""The experiments of the suite: each binds a paper figure to a task file, its metrics and its figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import gymnasium as gym
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import composition, finetune, multigoal, pretrain
from experiments.analysis.plots import FigureSpec, generic_return_specs
from experiments.config import ConfigError, TaskConfig, load_task
from experiments.metrics import AntMazeMetrics, MultiGoalMetrics, PretrainMetrics, SwimmerMetrics, TaskMetrics
from softq.envs.ant import ANTMAZE_THRESHOLD
from softq.envs.swimmer import FINISH_LINE_X

ArtifactWriter = Callable[[BaseAlgorithm, gym.Env, Path], None]
# (root of results, output folder, profile) -> written figure paths
FigureMaker = Callable[[Path, Path, str], list[Path]]
# (model, index of the epoch about to start, the preset's schedule, run seed) -> values to log in that epoch's row
EpochHook = Callable[[BaseAlgorithm, int, dict, int], dict[str, float]]
# (root of results, profile, seeds or None for the profile's) -> lines to print; runs after the experiment's runs
Finalizer = Callable[[Path, str, "list[int] | None"], list[str]]


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    paper_figures: str
    task: str | Path  # name of experiments/hyperparams/<task>.yaml, or a task file's path
    metrics: Callable[[], TaskMetrics] = TaskMetrics
    write_artifacts: ArtifactWriter | None = None
    figures: tuple[FigureMaker, ...] = field(default_factory=tuple)  # experiment-specific figure code
    figure_specs: tuple[FigureSpec, ...] = field(default_factory=tuple)  # generic figures of the analysis layer
    epoch_hook: EpochHook | None = None  # called by the runner at the start of every epoch
    finalize: Finalizer | None = None  # called by ``run``/``reproduce`` after the experiment's runs

    @cached_property
    def config(self) -> TaskConfig:
        return load_task(self.task)

    @property
    def dependencies(self) -> set[str]:
        """Experiments whose runs this one's runs start from (task file ``init_from``)."""
        return self.config.dependencies()

    @property
    def algos(self) -> list[str]:
        """The algorithms run by default (others in the task file run on request)."""
        return list(self.config.default_algos)


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
            figure_specs=(
                FigureSpec("multigoal_goals_reached", "seed_lines", "multigoal", metric="goals_reached",
                           title="Multi-goal: distinct goals reached by 20 rollouts of the policy as it acts"),
            ),
        ),
        Experiment(
            name="swimmer",
            description="Undirected swimmer with a forward finish line: does exploration find the bonus?",
            paper_figures="Fig. 3a, Fig. 6",
            task="swimmer",
            metrics=SwimmerMetrics,
            figure_specs=(
                FigureSpec("swimmer_fig3a_max_forward_x", "seed_lines", "swimmer", metric="max_forward_x",
                           ref=FINISH_LINE_X, ref_label="finish line", ylabel="max forward distance (m)",
                           title="Swimmer: max forward torso x since the start of training (Fig. 3a)"),
                FigureSpec("swimmer_fig6_bands", "seed_bands", "swimmer", low="epoch_min_x", high="epoch_max_x",
                           ref=FINISH_LINE_X, ref_label="finish line", ylabel="torso x (m)",
                           title="Swimmer: min..max torso x of each epoch's training rollouts, one row per seed (Fig. 6)"),
            ),
        ),
        Experiment(
            name="antmaze",
            description="Ant in a two-passage maze, upper passage blocked: does exploration find the lower route?",
            paper_figures="Fig. 3b",
            task="antmaze",
            metrics=AntMazeMetrics,
            figure_specs=(
                FigureSpec("antmaze_fig3b_min_distance", "seed_lines", "antmaze", metric="min_distance_to_target",
                           ref=ANTMAZE_THRESHOLD, ref_label="upper-passage threshold", ylabel="min distance to target (m)",
                           title="Ant maze: min distance to the target since the start of training (Fig. 3b)"),
            ),
        ),
        Experiment(
            name="pretrain",
            description="Ant in an open arena, reward = speed in any direction: max-ent pretraining (alpha sweep)",
            paper_figures="Fig. 4a, Fig. 7",
            task="pretrain",
            metrics=PretrainMetrics,
            write_artifacts=pretrain.write_artifacts,
            figures=(pretrain.figure_7,),
            figure_specs=(
                FigureSpec("pretrain_distance", "mean_std", "pretrain", metric="distance_exploring",
                           ylabel="distance from the start (m)",
                           title="Ant pretraining: distance travelled by evaluation rollouts of the policy as it acts"),
            ),
        ),
        Experiment(
            name="finetune",
            description="Pretrained ant policies fine-tuned on a wide and a narrow hallway and a U-maze",
            paper_figures="Fig. 4b-d, Fig. 5",
            task="finetune",
            epoch_hook=finetune.apply_schedule,
            figure_specs=(
                FigureSpec("finetune_fig5_discounted_return", "mean_std", "finetune",
                           metric="eval_discounted_return_deployed", ylabel="average discounted return",
                           title="Fine-tuning: discounted return of the deployed policy, mean +- 1 std over seeds (Fig. 5)"),
            ),
        ),
        Experiment(
            name="pendulum",
            description="Pendulum-v1, an SB3 sanity task: SQL's tuned zoo settings against SAC, TD3, DDPG",
            paper_figures="beyond the paper",
            task="pendulum",
        ),
        Experiment(
            name="composition",
            description="Two SQL policies on multi-goal sub-tasks composed by averaging their Q functions (ICRA 2018)",
            paper_figures="beyond the paper",
            task="composition",
            metrics=MultiGoalMetrics,
            write_artifacts=composition.write_artifacts,
            figures=(composition.figure,),
            finalize=composition.finalize,
        ),
    ]
}


def dependency_order(names) -> list[list[str]]:
    """Experiments in stages: each stage only starts from runs of earlier stages (``init_from``)."""
    levels: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise ConfigError(f"experiments start from each other in a cycle: {' -> '.join((*seen, name))}")
        if name not in levels:
            deps = get_experiment(name).dependencies
            levels[name] = 1 + max((level(d, (*seen, name)) for d in deps), default=-1)
        return levels[name]

    names = list(dict.fromkeys(names))
    stages: dict[int, list[str]] = {}
    for name in names:
        stages.setdefault(level(name), []).append(name)
    return [stages[k] for k in sorted(stages)]


def figure_specs() -> list[FigureSpec]:
    """Every experiment's generic figures, plus a deployed-return curve for each."""
    specs = [spec for experiment in EXPERIMENTS.values() for spec in experiment.figure_specs]
    return specs + generic_return_specs(sorted(EXPERIMENTS))


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; valid experiments: {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name]
