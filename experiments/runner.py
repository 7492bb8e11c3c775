"""One run = (experiment, algo, env, seed, profile): train epoch by epoch, evaluate, write the run folder.

An algo whose task entry has ``init_from`` starts from the weights of another finished run (same seed and
profile; :func:`init_source` finds it, or raises :class:`MissingInitRunError` naming the folder and the
command that makes it). An experiment with an ``epoch_hook`` gets it called at the start of every epoch
with the preset's ``schedule`` (e.g. fine-tuning's temperature and noise-set schedules); what it returns
is written into that epoch's progress.csv row.

Resumable at any moment, exactly: a checkpoint holds the whole training state at the end of an epoch (the
model with its optimisers, replay buffer, action noise, episode counters and last observation; the
training env mid-episode, MuJoCo state, wrappers and RNG included; the global RNGs; the metric state). It
is written atomically (a complete ``checkpoint/epoch_N/`` first, then the ``LATEST`` pointer replaced in
one rename), and on resume progress.csv is cut back to the checkpoint's epoch. So a run killed anywhere
(SIGKILL included) and run again writes the progress.csv and artifacts an uninterrupted run writes, the
wall_time column aside. SIGTERM or Ctrl-C marks the run ``interrupted`` before it stops. A finished run
is skipped, never overwritten.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from tqdm.auto import tqdm

import softq  # noqa: F401  (registers the softq/ env ids)
from experiments import layout
from experiments.config import ConfigError, ResolvedConfig, TaskConfig
from experiments.evaluation import evaluate
from experiments.experiment import Experiment
from experiments.layout import CorruptRunError
from experiments.metrics import TaskMetrics
from experiments.models import load_weights, make_model
from experiments.provenance import git_state, hardware, package_versions
from experiments.registry import get_experiment
from experiments.run_folder import (  # noqa: F401  (_object_from_state: the name checkpoints written before RunFolder pickled)
    OlderCheckpointError,
    RunFolder,
    _object_from_state,
    checkpoint_epoch,
    now,
)
from experiments.training_env import training_env


class MissingInitRunError(ConfigError):
    """The run an algo starts from (``init_from``) is missing, unfinished or of another configuration."""


class RunProgress(BaseCallback):
    """Measure SB3's ``progress_remaining`` against the whole run's steps, not one ``learn()`` call's.

    The runner trains one epoch per ``learn(steps_per_epoch, reset_num_timesteps=False)``, and SB3 measures
    progress against that call's own end, so a schedule (rl-zoo3's ``lin_`` learning rates) would run down
    to 0 in every epoch. Setting the run's total after SB3's ``_setup_learn`` (the attribute is read only
    to compute the progress) makes it decay once, as in a single ``learn(total_steps)``; constant learning
    rates ignore progress, so every other run is unchanged.
    """

    def __init__(self, total_steps: int):
        super().__init__()
        self.total_steps = total_steps

    def _on_training_start(self) -> None:
        self.model._total_timesteps = self.total_steps

    def _on_step(self) -> bool:
        return True


@dataclass(frozen=True)
class RunSpec:
    experiment: str
    algo: str
    seed: int
    profile: str
    env: str | None = None  # None: the experiment's env (required when it has several)
    preset: str | None = None  # None: the task's default preset for the algo

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")

    def describe(self) -> str:
        env = f"{layout.env_slug(self.env)}/" if self.env else ""
        return f"{self.experiment}/{env}{self.algo}/seed_{self.seed} ({self.profile})"


@dataclass(frozen=True)
class InitSource:
    """The finished run whose weights a new run starts from."""

    folder: Path
    weights: Path
    manifest: dict[str, Any]

    def describe(self, root: str | Path) -> dict[str, Any]:
        try:
            folder = self.folder.relative_to(Path(root))
        except ValueError:
            folder = self.folder
        keys = ("experiment", "env", "algo", "seed", "profile", "preset")
        return {
            "run": folder.as_posix(),
            **{k: self.manifest.get(k) for k in keys},
            "git": self.manifest.get("git"),
            "weights": str(Path(layout.ARTIFACTS) / self.weights.name),
        }


def resolve_env(task: TaskConfig, spec: RunSpec) -> str:
    if spec.env is None:
        if len(task.envs) > 1:
            raise ConfigError(f"{spec.experiment} runs on several envs; name one of {list(task.envs)}")
        return task.env
    if spec.env not in task.envs:
        raise ConfigError(f"unknown env {spec.env!r} for {spec.experiment}; valid envs: {list(task.envs)}")
    return spec.env


def init_source(task: TaskConfig, spec: RunSpec, root: str | Path) -> InitSource | None:
    """The finished run ``spec``'s algo starts from (task file ``init_from``), or None if it starts fresh.

    Raises :class:`MissingInitRunError` naming the run folder and the command that makes it when that run
    is missing, unfinished, of another profile or preset, or has no weights artifact.
    """
    init = task.init_from(spec.algo)
    if init is None:
        return None
    source_task = get_experiment(init.experiment).config
    env = init.env or source_task.env
    if env not in source_task.envs or (init.env is None and len(source_task.envs) > 1):
        raise ConfigError(f"{task.name}: init_from of {spec.algo} needs env: one of {list(source_task.envs)}")
    folder = RunFolder.of(root, init.experiment, env, init.algo, spec.seed)
    weights = folder.artifacts / layout.WEIGHTS
    manifest = folder.read_manifest()
    if manifest is None:
        problem = "does not exist"
    elif manifest["status"] != layout.STATUS_FINISHED:
        problem = f"is not finished (status {manifest['status']!r})"
    elif manifest["profile"] != spec.profile:
        problem = f"ran with profile {manifest['profile']!r}, not {spec.profile!r}"
    elif manifest.get("preset") != init.preset:
        problem = f"ran with preset {manifest.get('preset')!r}, not {init.preset!r}"
    elif not weights.exists():
        problem = f"has no {layout.ARTIFACTS}/{layout.WEIGHTS}"
    else:
        return InitSource(folder.path, weights, manifest)
    command = (
        f"python -m experiments run {init.experiment} --algos {init.algo} --preset {init.preset} "
        f"--seeds {spec.seed} --profile {spec.profile} --out {root}"
    )
    raise MissingInitRunError(
        f"{spec.describe()} starts from the weights of the {init.experiment} run {folder.path}, "
        f"which {problem}; make it with: {command}"
        + ("" if manifest is None else " (after moving that folder away)")
    )


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path
    status: str  # "finished" (ran now), "skipped" (was finished), "resumed" (finished after a resume)


@dataclass(frozen=True)
class Setup:
    """Everything a run needs that follows from its spec alone; resolving it validates the request."""

    spec: RunSpec
    config: ResolvedConfig
    folder: RunFolder


def setup(experiment: Experiment, spec: RunSpec, root: str | Path) -> Setup:
    """Resolve ``spec`` against ``experiment``'s task file; raises ConfigError naming what does not exist."""
    if spec.experiment != experiment.name:
        raise ConfigError(f"{spec.describe()} is a run of {spec.experiment}, not of {experiment.name}")
    task = experiment.config
    env_id = resolve_env(task, spec)
    config = task.resolve(spec.algo, spec.profile, env_id, spec.preset)
    if config.schedule and experiment.epoch_hook is None:
        raise ConfigError(
            f"{spec.algo} on {spec.experiment} has a schedule, "
            "but the experiment has no epoch hook to apply it"
        )
    folder = RunFolder.of(root, spec.experiment, env_id, spec.algo, spec.seed)
    return Setup(spec, config, folder)


def run(
    experiment: Experiment,
    spec: RunSpec,
    root: str | Path = layout.RESULTS,
    *,
    progress: bool = False,
    checkpoint_every_s: float = 60.0,
    on_epoch: Callable[[int], None] | None = None,
) -> RunOutcome:
    """Run (or resume, or skip) one run of ``experiment``; see the module docstring. ``on_epoch`` is called
    after every epoch with the environment steps it trained (the launchers' progress bar)."""
    th.set_num_threads(1)
    run_setup = setup(experiment, spec, root)
    folder = run_setup.folder
    manifest = folder.read_manifest()  # a corrupt folder is reported before anything is written into it
    if manifest is not None and manifest["status"] == layout.STATUS_FINISHED:
        _check_same_run(manifest, spec, run_setup.config.preset, folder)
        folder.check_progress()
        return RunOutcome(
            spec, folder.path, "skipped"
        )  # without taking the lock: a finished run is never touched
    # A run that has a checkpoint resumes from it and needs no initial weights any more.
    init = init_source(experiment.config, spec, root) if folder.latest_checkpoint() is None else None
    with folder.exclusive():
        return _run_locked(
            experiment,
            run_setup,
            root,
            init,
            progress=progress,
            checkpoint_every_s=checkpoint_every_s,
            on_epoch=on_epoch,
        )


def _run_locked(
    experiment: Experiment,
    run_setup: Setup,
    root: str | Path,
    init: InitSource | None,
    *,
    progress: bool,
    checkpoint_every_s: float,
    on_epoch: Callable[[int], None] | None,
) -> RunOutcome:
    spec, folder, config = run_setup.spec, run_setup.folder, run_setup.config
    budget = config.budget
    task = experiment.config
    manifest = folder.read_manifest()
    if manifest is not None:
        _check_same_run(manifest, spec, config.preset, folder)
        if manifest["status"] == layout.STATUS_FINISHED:
            return RunOutcome(spec, folder.path, "skipped")
    checkpoint = folder.latest_checkpoint()
    if checkpoint is None and init is None:
        init = init_source(task, spec, root)  # the checkpoint seen before taking the lock is gone

    eval_env = gym.make(config.env_id)
    metrics = experiment.load("metrics")()
    epoch_hook = experiment.load("epoch_hook")
    eval_episodes = config.eval_episodes
    if checkpoint is None:
        model = make_model(config, training_env(config.env_id), seed=spec.seed)
        if init is not None:
            load_weights(model, init.weights)
        epoch, wall_time = 0, 0.0
        manifest = _new_manifest(run_setup)
        manifest["resolved"] = model.resolved_arguments
        if config.algorithm != spec.algo:
            manifest["algorithm"] = config.algorithm
        if config.warmup != "random":
            manifest["warmup"] = config.warmup
        if init is not None:
            manifest["init_from"] = init.describe(root)
        folder.truncate_progress(0)  # a run killed before its first checkpoint starts over
    else:
        model, epoch, wall_time = _restore(checkpoint, metrics)
        folder.truncate_progress(epoch)
        manifest.setdefault("resumes", []).append({"at": now(), "from_epoch": epoch, "git": git_state()})
        manifest["status"] = layout.STATUS_RUNNING
        for stale in ("interrupted_at", "resumes_from_epoch"):  # of an earlier interruption, now resumed
            manifest.pop(stale, None)
    manifest["commits"] = _commits(manifest)
    folder.write_manifest(manifest)

    callback = CallbackList([metrics.callback(), RunProgress(budget.total_steps)])
    last_checkpoint = time.monotonic()
    bar = tqdm(total=budget.n_epochs, initial=epoch, desc=spec.describe(), disable=not progress, unit="epoch")
    try:
        while epoch < budget.n_epochs:
            started = time.perf_counter()
            scheduled = {} if epoch_hook is None else epoch_hook(model, epoch, config.schedule, spec.seed)
            model.learn(budget.steps_per_epoch, reset_num_timesteps=False, callback=callback)
            epoch += 1
            deployed = evaluate(
                model, eval_env, n_episodes=eval_episodes, deterministic=True, run_seed=spec.seed, epoch=epoch
            )
            exploring = evaluate(
                model,
                eval_env,
                n_episodes=eval_episodes,
                deterministic=False,
                run_seed=spec.seed,
                epoch=epoch,
            )
            wall_time += time.perf_counter() - started
            row = {
                layout.EPOCH: epoch,
                layout.STEP: model.num_timesteps,
                layout.WALL_TIME: round(wall_time, 3),
                layout.EVAL_RETURN_DEPLOYED: np.mean([e.undiscounted_return() for e in deployed]),
                layout.EVAL_RETURN_EXPLORING: np.mean([e.undiscounted_return() for e in exploring]),
                layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: np.mean(
                    [e.discounted_return(config.gamma) for e in deployed]
                ),
                layout.EVAL_DISCOUNTED_RETURN_EXPLORING: np.mean(
                    [e.discounted_return(config.gamma) for e in exploring]
                ),
                **scheduled,
                **metrics.epoch_metrics(deployed, exploring),
            }
            folder.append_progress(row)
            if epoch == budget.n_epochs or time.monotonic() - last_checkpoint >= checkpoint_every_s:
                save_checkpoint(folder, model, epoch, wall_time, metrics)
                last_checkpoint = time.monotonic()
            bar.update(1)
            if on_epoch is not None:
                on_epoch(budget.steps_per_epoch)
        bar.close()
        write_artifacts = experiment.load("write_artifacts")
        if write_artifacts is not None:
            folder.artifacts.mkdir(exist_ok=True)
            write_artifacts(model, eval_env, folder.artifacts)
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C (the launchers turn both into KeyboardInterrupt)
        checkpoint = folder.latest_checkpoint()
        manifest.update(
            status=layout.STATUS_INTERRUPTED,
            interrupted_at=now(),
            resumes_from_epoch=0 if checkpoint is None else checkpoint_epoch(checkpoint),
        )
        folder.write_manifest(manifest)
        raise
    manifest.update(status=layout.STATUS_FINISHED, finished_at=now(), wall_time_s=round(wall_time, 1))
    folder.write_manifest(manifest)
    return RunOutcome(spec, folder.path, "resumed" if checkpoint is not None else "finished")


# --- what a run folder holds ------------------------------------------------------------------------

FINISHED, PARTIAL, MISSING, CORRUPT, CONFLICT = "finished", "partial", "missing", "corrupt", "conflict"
RUN_STATES = (FINISHED, PARTIAL, MISSING, CORRUPT, CONFLICT)


@dataclass(frozen=True)
class RunState:
    """What a run's folder holds, for ``status``, ``reproduce`` and the launchers' step count.

    ``state``: finished; partial (started: resumes from its checkpoint); missing; corrupt (a file cannot be
    read: the folder is left alone); conflict (it holds a run of another profile or preset)."""

    folder: Path
    state: str
    detail: str  # the profile and progress, or what is wrong
    steps_total: int
    steps_done: int = 0  # environment steps a (re)start begins from: its checkpoint's; all when finished
    spec: RunSpec | None = None  # None: a folder outside the request (``status`` lists it as extra)
    resumable: bool = True  # False: a partial run whose checkpoint this runner refuses (OlderCheckpointError)

    @property
    def steps_to_train(self) -> int:
        return self.steps_total - self.steps_done


def inspect_run(experiment: Experiment, spec: RunSpec, root: str | Path) -> RunState:
    """The state of ``spec``'s run folder; reads files only."""
    run_setup = setup(experiment, spec, root)
    budget = run_setup.config.budget
    state = inspect_folder(run_setup.folder.path, budget.steps_per_epoch, budget.n_epochs)
    if state.state in (FINISHED, PARTIAL) and (
        conflict := _conflict(run_setup.folder, spec, run_setup.config.preset)
    ):
        return RunState(state.folder, CONFLICT, conflict, state.steps_total, spec=spec)
    return dataclasses.replace(state, spec=spec)


def inspect_folder(folder: Path, steps_per_epoch: int, n_epochs: int) -> RunState:
    """The state of a run folder, whatever run it holds (a budget of ``n_epochs`` x ``steps_per_epoch``)."""
    total = steps_per_epoch * n_epochs
    run_folder = RunFolder(folder)
    try:
        manifest = run_folder.read_manifest()
        if manifest is None:
            return RunState(folder, MISSING, "", total)
        if manifest["status"] == layout.STATUS_FINISHED:
            run_folder.check_progress()
            return RunState(folder, FINISHED, f"profile {manifest['profile']}", total, total)
        checkpoint = run_folder.latest_checkpoint()
    except OlderCheckpointError as error:
        return RunState(
            folder,
            PARTIAL,
            f"profile {manifest['profile']}, {manifest['status']}: {error}",
            total,
            resumable=False,
        )
    except CorruptRunError as error:
        return RunState(folder, CORRUPT, str(error), total)
    resumes = 0 if checkpoint is None else checkpoint_epoch(checkpoint)
    detail = (
        f"profile {manifest['profile']}, {manifest['status']}, {run_folder.epochs_written()} epochs written, "
        f"resumes from epoch {resumes}"
    )
    return RunState(folder, PARTIAL, detail, total, resumes * steps_per_epoch)


def _conflict(folder: RunFolder, spec: RunSpec, preset: str) -> str | None:
    try:
        _check_same_run(folder.read_manifest() or {}, spec, preset, folder)
    except CorruptRunError as error:
        return str(error)
    return None


# --- manifest -------------------------------------------------------------------------------------


def _new_manifest(run_setup: Setup) -> dict[str, Any]:
    """What ran: the run's resolved configuration (its constructor arguments, defaults filled in, are
    added as ``resolved`` once the model is built), and where and with what it ran."""
    spec, config = run_setup.spec, run_setup.config
    return {
        "experiment": spec.experiment,
        "algo": spec.algo,
        "env": config.env_id,
        "seed": spec.seed,
        "profile": spec.profile,
        "preset": config.preset,
        "budget": config.budget.as_dict(),
        "hyperparameters": config.hyperparameters,
        "gamma": config.gamma,
        "eval_episodes": config.eval_episodes,
        "status": layout.STATUS_RUNNING,
        "git": git_state(),
        "versions": package_versions(),
        "hardware": hardware(),
        "started_at": now(),
        "finished_at": None,
    }


def _commits(manifest: dict[str, Any]) -> list[str]:
    """Every commit the run ran under, in order: the one it started at, then those of its resumes."""
    states = [manifest.get("git") or {}] + [resume.get("git") or {} for resume in manifest.get("resumes", [])]
    return list(dict.fromkeys(state["commit"] for state in states if state.get("commit")))


def _check_same_run(manifest: dict[str, Any], spec: RunSpec, preset: str, folder: RunFolder) -> None:
    """Raise CorruptRunError if the folder's run recorded another profile or preset than ``spec``'s."""
    for key, wanted in (("profile", spec.profile), ("preset", preset)):
        if key in manifest and manifest[key] != wanted:
            raise CorruptRunError(
                f"{folder.path} holds a run with {key}={manifest.get(key)!r}, not {wanted!r}; "
                "use another --out folder (runs are never overwritten)"
            )


# --- checkpoints ------------------------------------------------------------------------------------


def save_checkpoint(
    folder: RunFolder, model: BaseAlgorithm, epoch: int, wall_time: float, metrics: TaskMetrics
) -> None:
    """The whole training state after ``epoch``, in one pickle: the model object itself (optimisers, replay
    buffer, action noise, _last_obs, episode counters and ep_info_buffer, SQL's and DDPG's target-copy
    counters) with its training env, the global RNGs and the metric state."""
    folder.save_checkpoint(
        epoch,
        {
            "epoch": epoch,
            "wall_time": wall_time,
            "model": model,
            "metrics": metrics.state_dict(),
            "rng": {"torch": th.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},  # noqa: NPY002 (SB3 seeds the global RNGs)
        },
    )


def _restore(checkpoint: Path, metrics: TaskMetrics) -> tuple[BaseAlgorithm, int, float]:
    state = RunFolder.load_checkpoint(checkpoint)
    th.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])  # noqa: NPY002
    random.setstate(state["rng"]["python"])
    metrics.load_state_dict(state["metrics"])
    return state["model"], state["epoch"], state["wall_time"]
