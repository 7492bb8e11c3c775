"""Per-task hyperparameter files (``experiments/hyperparams/<task>.yaml``): budgets per profile and
per-(algo, preset) hyperparameters, each value citing its source in the file."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"
PROFILES = ("smoke", "quick", "paper")


class ConfigError(ValueError):
    """A request that names something that does not exist, or a budget that cannot run."""


@dataclass(frozen=True)
class Budget:
    steps_per_epoch: int
    n_epochs: int
    seeds: tuple[int, ...]
    learning_starts: int | None = None  # smoke budgets shorten the warm-up so that updates still run

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.n_epochs

    def as_dict(self) -> dict[str, Any]:
        return {"steps_per_epoch": self.steps_per_epoch, "n_epochs": self.n_epochs, "total_steps": self.total_steps}


@dataclass(frozen=True)
class TaskConfig:
    name: str
    env: str
    gamma: float
    eval_episodes: int
    profiles: dict[str, Budget]
    algos: dict[str, dict[str, Any]]  # algo -> {"default": preset, "presets": {preset: hyperparameters}}
    default_algos: tuple[str, ...]  # run unless --algos says otherwise

    def budget(self, profile: str) -> Budget:
        if profile not in self.profiles:
            raise ConfigError(f"unknown profile {profile!r} for {self.name}; valid profiles: {sorted(self.profiles)}")
        return self.profiles[profile]

    def hyperparameters(self, algo: str, preset: str | None = None) -> tuple[str, dict[str, Any]]:
        """(preset name, hyperparameters) of ``algo``; the task's default preset when ``preset`` is None.

        A deep copy: YAML merge keys share nested dicts between algos, and SB3 mutates ``policy_kwargs``
        (DDPG sets ``n_critics``), which would otherwise leak into the next run of a pooled worker.
        """
        if algo not in self.algos:
            raise ConfigError(f"unknown algo {algo!r} for {self.name}; valid algos: {sorted(self.algos)}")
        presets = self.algos[algo]["presets"]
        preset = preset or self.algos[algo]["default"]
        if preset not in presets:
            raise ConfigError(f"unknown preset {preset!r} for {algo} on {self.name}; valid presets: {sorted(presets)}")
        return preset, copy.deepcopy(presets[preset])


def load_task(name: str | Path) -> TaskConfig:
    """A task by name (``experiments/hyperparams/<name>.yaml``) or by the path of a task file."""
    path = Path(name) if str(name).endswith(".yaml") else HYPERPARAMS_DIR / f"{name}.yaml"
    with open(path) as f:
        raw = yaml.safe_load(f)
    profiles = {}
    for profile, spec in raw["profiles"].items():
        budget = Budget(
            int(spec["steps_per_epoch"]),
            int(spec["n_epochs"]),
            tuple(int(s) for s in spec["seeds"]),
            spec.get("learning_starts"),
        )
        if budget.total_steps <= 0 or not budget.seeds:
            raise ConfigError(f"{path}: profile {profile!r} has a zero budget or no seeds: {spec}")
        profiles[profile] = budget
    return TaskConfig(
        name=path.stem,
        env=raw["env"],
        gamma=float(raw["gamma"]),
        eval_episodes=int(raw["eval_episodes"]),
        profiles=profiles,
        algos=raw["algos"],
        default_algos=tuple(raw.get("default_algos", raw["algos"])),
    )
