"""What an experiment of the suite is: a paper figure bound to a task file, its metrics, the artifacts its
finished runs write, its hooks and its figures. Each task package defines one
(``experiments/tasks/<task>/__init__.py``); :mod:`experiments.registry` collects them.

Code is named by reference (``"module:attribute"``, :mod:`experiments.refs`) so that the registry imports
neither torch nor matplotlib; a test may give a class or function directly instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from experiments import refs
from experiments.analysis.figure_specs import FigureSpec
from experiments.config import TaskConfig, load_task

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.base_class import BaseAlgorithm

    from experiments.metrics import TaskMetrics

# (model, eval env, artifacts folder) -> None; called once when a run finished its epochs
ArtifactWriter = Callable[["BaseAlgorithm", "gym.Env", Path], None]
# (root of results, output folder, profile or None for every profile, file formats) -> written figure paths
FigureMaker = Callable[[Path, Path, "str | None", Sequence[str]], list[Path]]
# (model, index of the epoch about to start, the preset's schedule, run seed)
# -> values to log in that epoch's row
EpochHook = Callable[["BaseAlgorithm", int, dict, int], dict[str, float]]
# (root of results, profile, seeds or None for the profile's) -> lines to print;
# runs after the experiment's runs
Finalizer = Callable[[Path, str, "list[int] | None"], list[str]]


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    paper_figures: str
    task: str | Path  # name of experiments/hyperparams/<task>.yaml, or a task file's path
    metrics: str | Callable[[], TaskMetrics] = "experiments.metrics:TaskMetrics"
    write_artifacts: str | ArtifactWriter | None = None
    figures: tuple[str | FigureMaker, ...] = field(default_factory=tuple)  # the experiment's own figure code
    figure_specs: tuple[FigureSpec, ...] = field(
        default_factory=tuple
    )  # generic figures of the analysis layer
    epoch_hook: str | EpochHook | None = None  # called by the runner at the start of every epoch
    finalize: str | Finalizer | None = None  # called by ``run``/``reproduce`` after the experiment's runs

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

    def load(self, name: str) -> Any:
        """The code field ``name`` refers to (``"metrics"``, ``"write_artifacts"``, ``"epoch_hook"``,
        ``"finalize"``), imported; None where the experiment has none."""
        return refs.load(getattr(self, name))

    def figure_makers(self) -> list[FigureMaker]:
        return [refs.load(ref) for ref in self.figures]
