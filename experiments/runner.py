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
from stable_baselines3.common.noise import ActionNoise
from tqdm.auto import tqdm

import softq  # noqa: F401  (registers the softq/ env ids)
from experiments import layout
from experiments.config import ConfigError, ResolvedConfig, TaskConfig
from experiments.evaluation import Episode, evaluate
from experiments.experiment import EpochHook, Experiment
from experiments.layout import CorruptRunError, RunConflictError
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
    elif manifest["status"] != layout.FINISHED:
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


# What a call of :func:`run` did: layout.FINISHED (ran now), SKIPPED (was finished), RESUMED (finished after
# a resume).
SKIPPED, RESUMED = "skipped", "resumed"


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path
    status: str  # layout.FINISHED, SKIPPED or RESUMED


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
    if manifest is not None and manifest["status"] == layout.FINISHED:
        _check_same_run(manifest, spec, run_setup.config.preset, folder)
        folder.check_progress()
        return RunOutcome(spec, folder.path, SKIPPED)  # without taking the lock: it is never touched
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
    """Start or resume the run, train it to the end of its budget and mark it finished, or interrupted."""
    spec, folder = run_setup.spec, run_setup.folder
    # Read again under the lock: another process may have finished the run or removed its checkpoint.
    manifest = folder.read_manifest()
    if manifest is not None:
        _check_same_run(manifest, spec, run_setup.config.preset, folder)
        if manifest["status"] == layout.FINISHED:
            return RunOutcome(spec, folder.path, SKIPPED)
    checkpoint = folder.latest_checkpoint()
    if checkpoint is None and init is None:
        init = init_source(experiment.config, spec, root)  # the checkpoint seen before the lock is gone

    eval_env = gym.make(run_setup.config.env_id)
    metrics = experiment.load("metrics")()
    epoch_hook = experiment.load("epoch_hook")
    if checkpoint is None:
        model, epoch, wall_time = _start(run_setup, init)
        manifest = _new_manifest(run_setup, model, init, root)
    else:
        assert manifest is not None  # a folder with files but no manifest is corrupt: read_manifest raised
        model, epoch, wall_time = _resume(folder, checkpoint, metrics)
        _record_resume(manifest, epoch)
    manifest["commits"] = _commits(manifest)
    folder.write_manifest(manifest)

    training = _Training(run_setup, model, metrics, eval_env, epoch_hook, epoch, wall_time)
    try:
        training.train_to_end(progress=progress, checkpoint_every_s=checkpoint_every_s, on_epoch=on_epoch)
        _write_artifacts(experiment, training.model, eval_env, folder)
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C (the launchers turn both into KeyboardInterrupt)
        _mark_interrupted(folder, manifest)
        raise
    manifest.update(status=layout.FINISHED, finished_at=now(), wall_time_s=round(training.wall_time, 1))
    folder.write_manifest(manifest)
    return RunOutcome(spec, folder.path, RESUMED if checkpoint is not None else layout.FINISHED)


def _start(run_setup: Setup, init: InitSource | None) -> tuple[BaseAlgorithm, int, float]:
    """A new model (with ``init``'s weights, if any) at epoch 0; progress.csv of a run killed before its
    first checkpoint starts over."""
    config = run_setup.config
    model = make_model(config, training_env(config.env_id), seed=run_setup.spec.seed)
    if init is not None:
        load_weights(model, init.weights)
    run_setup.folder.truncate_progress(0)
    return model, 0, 0.0


def _resume(folder: RunFolder, checkpoint: Path, metrics: TaskMetrics) -> tuple[BaseAlgorithm, int, float]:
    """The checkpoint's model, epoch and wall time; progress.csv cut back to the checkpoint's epoch."""
    model, epoch, wall_time = _restore(checkpoint, metrics)
    folder.truncate_progress(epoch)
    return model, epoch, wall_time


def _record_resume(manifest: dict[str, Any], epoch: int) -> None:
    manifest.setdefault("resumes", []).append({"at": now(), "from_epoch": epoch, "git": git_state()})
    manifest["status"] = layout.RUNNING
    for stale in ("interrupted_at", "resumes_from_epoch"):  # of an earlier interruption, now resumed
        manifest.pop(stale, None)


def _mark_interrupted(folder: RunFolder, manifest: dict[str, Any]) -> None:
    checkpoint = folder.latest_checkpoint()
    manifest.update(
        status=layout.INTERRUPTED,
        interrupted_at=now(),
        resumes_from_epoch=0 if checkpoint is None else checkpoint_epoch(checkpoint),
    )
    folder.write_manifest(manifest)


def _write_artifacts(
    experiment: Experiment, model: BaseAlgorithm, eval_env: gym.Env, folder: RunFolder
) -> None:
    write_artifacts = experiment.load("write_artifacts")
    if write_artifacts is not None:
        folder.artifacts.mkdir(exist_ok=True)
        write_artifacts(model, eval_env, folder.artifacts)


@dataclass
class _Training:
    """A run's training from its current epoch to the end of its budget: one progress.csv row per epoch,
    a checkpoint every ``checkpoint_every_s`` seconds and after the last epoch."""

    run_setup: Setup
    model: BaseAlgorithm
    metrics: TaskMetrics
    eval_env: gym.Env
    epoch_hook: EpochHook | None
    epoch: int
    wall_time: float  # of training and evaluation, summed over the run's epochs (resumes included)

    def train_to_end(
        self, *, progress: bool, checkpoint_every_s: float, on_epoch: Callable[[int], None] | None
    ) -> None:
        spec, budget, folder = self.run_setup.spec, self.run_setup.config.budget, self.run_setup.folder
        callback = CallbackList([self.metrics.callback(), RunProgress(budget.total_steps)])
        last_checkpoint = time.monotonic()
        bar = tqdm(
            total=budget.n_epochs,
            initial=self.epoch,
            desc=spec.describe(),
            disable=not progress,
            unit="epoch",
        )
        while self.epoch < budget.n_epochs:
            folder.append_progress(self._train_epoch(callback))
            if self.epoch == budget.n_epochs or time.monotonic() - last_checkpoint >= checkpoint_every_s:
                save_checkpoint(folder, self.model, self.epoch, self.wall_time, self.metrics)
                last_checkpoint = time.monotonic()
            bar.update(1)
            if on_epoch is not None:
                on_epoch(budget.steps_per_epoch)
        bar.close()

    def _train_epoch(self, callback: BaseCallback) -> dict[str, Any]:
        """Train one epoch and evaluate it; its progress.csv row."""
        config, seed = self.run_setup.config, self.run_setup.spec.seed
        started = time.perf_counter()
        hook = self.epoch_hook
        scheduled = {} if hook is None else hook(self.model, self.epoch, config.schedule, seed)
        self.model.learn(config.budget.steps_per_epoch, reset_num_timesteps=False, callback=callback)
        self.epoch += 1
        deployed = self._evaluate(deterministic=True)
        exploring = self._evaluate(deterministic=False)
        noise = getattr(self.model, "action_noise", None)
        with_noise = (
            self.metrics.behaviour_noise_metrics(self._evaluate(deterministic=True, behaviour_noise=noise))
            if noise is not None and self.metrics.evaluates_behaviour_noise
            else {}
        )
        self.wall_time += time.perf_counter() - started
        return {
            layout.EPOCH: self.epoch,
            layout.STEP: self.model.num_timesteps,
            layout.WALL_TIME: round(self.wall_time, 3),
            **_returns(deployed, exploring, config.gamma),
            **scheduled,
            **self.metrics.epoch_metrics(deployed, exploring),
            **with_noise,
        }

    def _evaluate(self, deterministic: bool, behaviour_noise: ActionNoise | None = None) -> list[Episode]:
        return evaluate(
            self.model,
            self.eval_env,
            n_episodes=self.run_setup.config.eval_episodes,
            deterministic=deterministic,
            run_seed=self.run_setup.spec.seed,
            epoch=self.epoch,
            behaviour_noise=behaviour_noise,
        )


def _returns(deployed: list[Episode], exploring: list[Episode], gamma: float) -> dict[str, float]:
    """The mean undiscounted and discounted returns of the policy as deployed and as it explores."""
    return {
        layout.EVAL_RETURN_DEPLOYED: np.mean([e.undiscounted_return() for e in deployed]),
        layout.EVAL_RETURN_EXPLORING: np.mean([e.undiscounted_return() for e in exploring]),
        layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: np.mean([e.discounted_return(gamma) for e in deployed]),
        layout.EVAL_DISCOUNTED_RETURN_EXPLORING: np.mean([e.discounted_return(gamma) for e in exploring]),
    }


# --- what a run folder holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunState:
    """What a run's folder holds, for ``status``, ``reproduce`` and the launchers' step count.

    ``state``: one of ``layout.FOLDER_STATES``."""

    folder: Path
    state: str
    detail: str  # the profile and progress, or what is wrong
    steps_total: int
    steps_done: int = 0  # environment steps a (re)start begins from: its checkpoint's; all when finished
    spec: RunSpec | None = None  # None: a folder outside the request (``status`` lists it as extra)
    resumable: bool = True  # False: a partial run whose checkpoint this runner refuses (OlderCheckpointError)
    manifest: dict[str, Any] | None = None  # the manifest the state was read from; None if it has none

    @property
    def steps_to_train(self) -> int:
        return self.steps_total - self.steps_done


def inspect_run(experiment: Experiment, spec: RunSpec, root: str | Path) -> RunState:
    """The state of ``spec``'s run folder; reads files only."""
    run_setup = setup(experiment, spec, root)
    budget = run_setup.config.budget
    state = inspect_folder(run_setup.folder.path, budget.steps_per_epoch, budget.n_epochs)
    if state.state in (layout.FINISHED, layout.PARTIAL) and (
        conflict := _conflict(state.manifest or {}, spec, run_setup.config.preset, run_setup.folder)
    ):
        return RunState(state.folder, layout.CONFLICT, conflict, state.steps_total, spec=spec)
    return dataclasses.replace(state, spec=spec)


def inspect_folder(folder: Path, steps_per_epoch: int, n_epochs: int) -> RunState:
    """The state of a run folder, whatever run it holds (a budget of ``n_epochs`` x ``steps_per_epoch``)."""
    total = steps_per_epoch * n_epochs
    run_folder = RunFolder(folder)
    try:
        manifest = run_folder.read_manifest()
    except CorruptRunError as error:
        return RunState(folder, layout.CORRUPT, str(error), total)
    if manifest is None:
        return RunState(folder, layout.MISSING, "", total)
    state = _started_run_state(run_folder, manifest, steps_per_epoch, total)
    return dataclasses.replace(state, manifest=manifest)


def _started_run_state(
    run_folder: RunFolder, manifest: dict[str, Any], steps_per_epoch: int, total: int
) -> RunState:
    folder = run_folder.path
    try:
        if manifest["status"] == layout.FINISHED:
            run_folder.check_progress()
            return RunState(folder, layout.FINISHED, f"profile {manifest['profile']}", total, total)
        checkpoint = run_folder.latest_checkpoint()
    except OlderCheckpointError as error:
        detail = f"profile {manifest['profile']}, {manifest['status']}: {error}"
        return RunState(folder, layout.PARTIAL, detail, total, resumable=False)
    except CorruptRunError as error:
        return RunState(folder, layout.CORRUPT, str(error), total)
    resumes = 0 if checkpoint is None else checkpoint_epoch(checkpoint)
    detail = (
        f"profile {manifest['profile']}, {manifest['status']}, {run_folder.epochs_written()} epochs written, "
        f"resumes from epoch {resumes}"
    )
    return RunState(folder, layout.PARTIAL, detail, total, resumes * steps_per_epoch)


def _conflict(manifest: dict[str, Any], spec: RunSpec, preset: str, folder: RunFolder) -> str | None:
    try:
        _check_same_run(manifest, spec, preset, folder)
    except RunConflictError as error:
        return str(error)
    return None


# --- manifest -------------------------------------------------------------------------------------


def _new_manifest(
    run_setup: Setup, model: BaseAlgorithm, init: InitSource | None, root: str | Path
) -> dict[str, Any]:
    """What ran: the run's resolved configuration (with ``model``'s constructor arguments, defaults filled
    in), the run it started from, and where and with what it ran."""
    spec, config = run_setup.spec, run_setup.config
    manifest = {
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
        "status": layout.RUNNING,
        "git": git_state(),
        "versions": package_versions(),
        "hardware": hardware(),
        "started_at": now(),
        "finished_at": None,
        "resolved": model.resolved_arguments,
    }
    if config.algorithm != spec.algo:
        manifest["algorithm"] = config.algorithm
    if config.warmup != "random":
        manifest["warmup"] = config.warmup
    if init is not None:
        manifest["init_from"] = init.describe(root)
    return manifest


def _commits(manifest: dict[str, Any]) -> list[str]:
    """Every commit the run ran under, in order: the one it started at, then those of its resumes."""
    states = [manifest.get("git") or {}] + [resume.get("git") or {} for resume in manifest.get("resumes", [])]
    return list(dict.fromkeys(state["commit"] for state in states if state.get("commit")))


def _check_same_run(manifest: dict[str, Any], spec: RunSpec, preset: str, folder: RunFolder) -> None:
    """Raise RunConflictError if the folder's run recorded another profile or preset than ``spec``'s."""
    for key, wanted in (("profile", spec.profile), ("preset", preset)):
        if key in manifest and manifest[key] != wanted:
            raise RunConflictError(
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
