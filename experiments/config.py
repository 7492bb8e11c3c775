"""Per-task hyperparameter files (``experiments/hyperparams/<task>.yaml``): budgets per profile and
per-(algo, preset) hyperparameters, each value citing its source in the file.

A task file names its env (``env: <id>``) or several (``envs: [<id>, ...]``: every algo runs on each).
Besides ``default`` and ``presets``, an algo entry may say

- ``algorithm``: which algorithm it is (a key of :data:`experiments.algorithms.ALGORITHMS`); default the
  algo's name, so that e.g. ``sql_pretrained`` and ``sql_alpha10`` are labels of SQL runs;
- ``init_from: {experiment, algo, preset[, env]}``: start from the weights of the finished run of that
  experiment/algo with the same seed and profile (``artifacts/model.zip``; see
  :func:`experiments.models.load_weights`);
- ``warmup: policy``: act with the policy during SB3's warm-up (``learning_starts``) instead of SB3's
  uniform random actions; for initialised policies, whose behaviour is the point (default ``random``).

A preset may carry a ``schedule`` mapping, handed to the experiment's epoch hook (it is not an argument
of the algorithm). Other top-level keys of the file (e.g. ``composition``) are kept in
:attr:`TaskConfig.sections` for the experiment's own code.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from experiments.algorithms import ALGORITHMS

HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"
PROFILES = ("smoke", "quick", "standard", "paper")


class ConfigError(ValueError):
    """A request that names something that does not exist, or a budget that cannot run."""


@dataclass(frozen=True)
class Budget:
    steps_per_epoch: int
    n_epochs: int
    seeds: tuple[int, ...]
    learning_starts: int | None = None  # smoke budgets shorten the warm-up so that updates still run
    eval_episodes: int | None = None  # None: the task's eval_episodes
    algo_seeds: dict[str, tuple[int, ...]] = field(default_factory=dict)  # the profile's own algos and seeds
    core_hours: float | None = None  # measured cost of the whole profile of this task, for ``status``

    def seeds_for(self, algo: str) -> tuple[int, ...]:
        """The seeds ``algo`` runs at this profile: its own list if the profile names one, else ``seeds``."""
        return self.algo_seeds.get(algo, self.seeds)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.n_epochs

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps_per_epoch": self.steps_per_epoch,
            "n_epochs": self.n_epochs,
            "total_steps": self.total_steps,
        }


WARMUPS = ("random", "policy")
_ALGO_KEYS = {"default", "presets", "algorithm", "init_from", "warmup"}
_KNOWN_KEYS = {"env", "envs", "gamma", "eval_episodes", "profiles", "algos", "default_algos"}


@dataclass(frozen=True)
class InitFrom:
    """Where an algo's initial weights come from: the finished run (experiment, env, algo) of the same
    seed and profile, which must have run with ``preset``."""

    experiment: str
    algo: str
    preset: str
    env: str | None = None  # None: that experiment's (only) env


@dataclass(frozen=True)
class TaskConfig:
    name: str
    env: str  # the first (for most tasks the only) env
    gamma: float
    eval_episodes: int
    profiles: dict[str, Budget]
    algos: dict[str, dict[str, Any]]  # algo -> {"default": preset, "presets": {preset: hyperparameters}, ...}
    default_algos: tuple[str, ...]  # run unless --algos says otherwise
    envs: tuple[str, ...] = ()  # every env the algos run on; () means (env,)
    sections: dict[str, Any] = field(default_factory=dict)  # other top-level keys of the task file

    def __post_init__(self) -> None:
        if not self.envs:
            object.__setattr__(self, "envs", (self.env,))

    def _algo(self, algo: str) -> dict[str, Any]:
        if algo not in self.algos:
            raise ConfigError(f"unknown algo {algo!r} for {self.name}; valid algos: {sorted(self.algos)}")
        return self.algos[algo]

    def algorithm(self, algo: str) -> str:
        """The algorithm (key of :data:`experiments.algorithms.ALGORITHMS`) of an algo label."""
        return self._algo(algo).get("algorithm", algo)

    def init_from(self, algo: str) -> InitFrom | None:
        spec = self._algo(algo).get("init_from")
        return None if spec is None else InitFrom(**spec)

    def warmup(self, algo: str) -> str:
        return self._algo(algo).get("warmup", "random")

    def eval_episodes_for(self, profile: str) -> int:
        budget = self.budget(profile)
        return self.eval_episodes if budget.eval_episodes is None else budget.eval_episodes

    def dependencies(self) -> set[str]:
        """Experiments whose runs some algo of this task starts from."""
        return {init.experiment for algo in self.algos if (init := self.init_from(algo)) is not None}

    def budget(self, profile: str) -> Budget:
        if profile not in self.profiles:
            raise ConfigError(
                f"unknown profile {profile!r} for {self.name}; valid profiles: {sorted(self.profiles)}"
            )
        return self.profiles[profile]

    def hyperparameters(self, algo: str, preset: str | None = None) -> tuple[str, dict[str, Any]]:
        """(preset name, hyperparameters) of ``algo``; the task's default preset when ``preset`` is None.

        A deep copy: YAML merge keys share nested dicts between algos, and SB3 mutates ``policy_kwargs``
        (DDPG sets ``n_critics``), which would otherwise leak into the next run of a pooled worker.
        """
        presets = self._algo(algo)["presets"]
        preset = preset or self.algos[algo]["default"]
        if preset not in presets:
            raise ConfigError(
                f"unknown preset {preset!r} for {algo} on {self.name}; valid presets: {sorted(presets)}"
            )
        return preset, copy.deepcopy(presets[preset])

    def resolve(self, algo: str, profile: str, env_id: str, preset: str | None = None) -> ResolvedConfig:
        """Everything a run of ``algo`` on ``env_id`` at ``profile`` is built from (``preset``: None for the
        algo's default); raises ConfigError naming what does not exist."""
        budget = self.budget(profile)
        preset, hyperparameters = self.hyperparameters(algo, preset)
        if budget.learning_starts is not None:
            hyperparameters["learning_starts"] = budget.learning_starts
        algorithm = self.algorithm(algo)
        return ResolvedConfig(
            algo=algo,
            algorithm=algorithm,
            env_id=env_id,
            profile=profile,
            budget=budget,
            preset=preset,
            hyperparameters=hyperparameters,
            arguments=resolve_arguments(
                algorithm, hyperparameters, gamma=self.gamma, total_steps=budget.total_steps
            ),
            schedule=hyperparameters.get("schedule") or {},
            gamma=self.gamma,
            eval_episodes=self.eval_episodes_for(profile),
            warmup=self.warmup(algo),
            init_from=self.init_from(algo),
        )


@dataclass(frozen=True)
class ResolvedConfig:
    """Every value one run is built from, resolved once (:meth:`TaskConfig.resolve`): the task file (the
    algo's entry and preset), the algorithm's named preset (SQL's ``softq/configs/presets.yaml``), the
    profile, and what the budget implies. The runner, the model builder
    (:func:`experiments.models.make_model`) and the run's manifest read it, and nothing else."""

    algo: str  # the task file's label
    algorithm: str  # its key in experiments.algorithms.ALGORITHMS
    env_id: str
    profile: str
    budget: Budget
    preset: str
    hyperparameters: dict[str, Any]  # the task file's preset as written, with the profile's learning_starts
    arguments: dict[str, Any]  # the algorithm's constructor arguments (:func:`resolve_arguments`)
    schedule: dict[str, Any]  # handed to the experiment's epoch hook
    gamma: float  # the task's, for discounted evaluation returns
    eval_episodes: int
    warmup: str
    init_from: InitFrom | None


def resolve_arguments(
    algorithm: str, hyperparameters: dict[str, Any], *, gamma: float, total_steps: int
) -> dict[str, Any]:
    """Constructor arguments of ``algorithm`` from a task preset's ``hyperparameters``: the algorithm's
    named preset (SQL's ``preset:``) filled in under them, the replay buffer capped at the run's total
    steps (a buffer that can never fill behaves identically, and checkpoints stay small; deviation
    ``buffer-capped-at-budget``), and the task's ``gamma`` unless the preset sets its own (rl-zoo3's
    Swimmer gamma). A ``schedule`` is not an argument and is left out."""
    arguments = {k: v for k, v in hyperparameters.items() if k != "schedule"}
    if ALGORITHMS[algorithm].presets is not None:
        presets, name = ALGORITHMS[algorithm].load_presets(), arguments.pop("preset")
        if name not in presets:
            raise ConfigError(f"unknown {algorithm} preset {name!r}; valid presets: {sorted(presets)}")
        arguments = {**presets[name], **arguments}
    arguments["buffer_size"] = min(int(arguments.get("buffer_size", 1_000_000)), total_steps)
    arguments.setdefault("gamma", gamma)
    return arguments


def load_task(name: str | Path) -> TaskConfig:
    """A task by name (``experiments/hyperparams/<name>.yaml``) or by the path of a task file."""
    path = Path(name) if str(name).endswith(".yaml") else HYPERPARAMS_DIR / f"{name}.yaml"
    with open(path) as f:
        raw = yaml.safe_load(f)
    profiles = {}
    for profile, spec in raw["profiles"].items():
        algo_seeds = {algo: tuple(int(s) for s in seeds) for algo, seeds in (spec.get("algos") or {}).items()}
        seeds = spec.get("seeds", sorted({s for algo in algo_seeds.values() for s in algo}))
        budget = Budget(
            int(spec["steps_per_epoch"]),
            int(spec["n_epochs"]),
            tuple(int(s) for s in seeds),
            spec.get("learning_starts"),
            spec.get("eval_episodes"),
            algo_seeds,
            spec.get("core_hours"),
        )
        if budget.total_steps <= 0 or not budget.seeds or not all(algo_seeds.values()):
            raise ConfigError(f"{path}: profile {profile!r} has a zero budget or no seeds: {spec}")
        unknown = set(algo_seeds) - set(raw["algos"])
        if unknown:
            raise ConfigError(f"{path}: profile {profile!r} names unknown algo(s) {sorted(unknown)}")
        profiles[profile] = budget
    if ("env" in raw) == ("envs" in raw):
        raise ConfigError(f"{path}: give exactly one of env: <id> or envs: [<id>, ...]")
    envs = (raw["env"],) if "env" in raw else tuple(raw["envs"])
    if not envs or len(set(envs)) != len(envs):
        raise ConfigError(f"{path}: envs must be a non-empty list without repeats, got {list(envs)}")
    for algo, entry in raw["algos"].items():
        unknown = set(entry) - _ALGO_KEYS
        if unknown:
            raise ConfigError(
                f"{path}: algo {algo!r} has unknown key(s) {sorted(unknown)}; valid: {sorted(_ALGO_KEYS)}"
            )
        if entry.get("algorithm", algo) not in ALGORITHMS:
            raise ConfigError(f"{path}: algo {algo!r} needs algorithm: one of {list(ALGORITHMS)}")
        if entry.get("warmup", "random") not in WARMUPS:
            raise ConfigError(f"{path}: algo {algo!r} has warmup {entry['warmup']!r}; valid: {list(WARMUPS)}")
        if "init_from" in entry and set(entry["init_from"]) - {"experiment", "algo", "preset", "env"}:
            raise ConfigError(f"{path}: algo {algo!r}: init_from takes experiment, algo, preset and env")
    return TaskConfig(
        name=path.stem,
        env=envs[0],
        gamma=float(raw["gamma"]),
        eval_episodes=int(raw["eval_episodes"]),
        profiles=profiles,
        algos=raw["algos"],
        default_algos=tuple(raw.get("default_algos", raw["algos"])),
        envs=envs,
        sections={
            k: v for k, v in raw.items() if k not in _KNOWN_KEYS and k != "shared" and not k.startswith("_")
        },
    )
