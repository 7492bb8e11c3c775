"""The experiments of the suite: one per package under ``experiments/tasks/`` (its ``EXPERIMENT``).

Imports neither torch nor matplotlib (each experiment names its code by reference), so that ``list``,
``plot``, ``tables`` and ``verify`` stay light.
"""

from __future__ import annotations

import importlib
import pkgutil

from experiments import tasks
from experiments.analysis.figure_specs import FigureSpec, generic_return_specs
from experiments.config import ConfigError
from experiments.experiment import Experiment

__all__ = ["EXPERIMENTS", "Experiment", "dependency_order", "figure_specs", "get_experiment"]


def _discover() -> dict[str, Experiment]:
    experiments = [
        importlib.import_module(f"{tasks.__name__}.{module.name}").EXPERIMENT
        for module in pkgutil.iter_modules(tasks.__path__)
        if module.ispkg
    ]
    return {experiment.name: experiment for experiment in experiments}


EXPERIMENTS: dict[str, Experiment] = _discover()


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
