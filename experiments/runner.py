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

import csv
import dataclasses
import fcntl
import json
import os
import pickle
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium.utils import EzPickle
from stable_baselines3.common.base_class import BaseAlgorithm
from tqdm.auto import tqdm

import softq  # noqa: F401  (registers the softq/ env ids)
from experiments import layout
from experiments.analysis.aggregate import read_manifest_file, read_progress
from experiments.config import Budget, ConfigError, TaskConfig
from experiments.evaluation import evaluate
from experiments.layout import CorruptRunError
from experiments.metrics import TaskMetrics
from experiments.models import load_weights, make_model
from experiments.provenance import git_state, hardware, package_versions
from experiments.registry import get_experiment

LATEST = "LATEST"
TRAINING_STATE = "training_state.pkl"  # the one file of a checkpoint


class MissingInitRunError(ConfigError):
    """The run an algo starts from (``init_from``) is missing, unfinished or of another configuration."""


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
        return {"run": folder.as_posix(), **{k: self.manifest.get(k) for k in keys}, "git": self.manifest.get("git"),
                "weights": str(Path(layout.ARTIFACTS) / self.weights.name)}


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
    folder = layout.run_dir(root, init.experiment, env, init.algo, spec.seed)
    weights = folder / layout.ARTIFACTS / layout.WEIGHTS
    manifest = read_manifest(folder)
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
        return InitSource(folder, weights, manifest)
    command = (
        f"python -m experiments run {init.experiment} --algos {init.algo} --preset {init.preset} "
        f"--seeds {spec.seed} --profile {spec.profile} --out {root}"
    )
    raise MissingInitRunError(
        f"{spec.describe()} starts from the weights of the {init.experiment} run {folder}, which {problem}; "
        f"make it with: {command}" + ("" if manifest is None else " (after moving that folder away)")
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
    env_id: str
    budget: Budget
    preset: str
    hyperparameters: dict[str, Any]
    folder: Path


def setup(spec: RunSpec, root: str | Path) -> Setup:
    """Resolve ``spec`` against its task file; raises ConfigError naming what does not exist."""
    experiment = get_experiment(spec.experiment)
    task = experiment.config
    env_id = resolve_env(task, spec)
    budget = task.budget(spec.profile)
    preset, hyperparameters = task.hyperparameters(spec.algo, spec.preset)
    if budget.learning_starts is not None:
        hyperparameters["learning_starts"] = budget.learning_starts
    if "schedule" in hyperparameters and experiment.epoch_hook is None:
        raise ConfigError(f"{spec.algo} on {spec.experiment} has a schedule, but the experiment has no epoch hook to apply it")
    folder = layout.run_dir(root, spec.experiment, env_id, spec.algo, spec.seed)
    return Setup(spec, env_id, budget, preset, hyperparameters, folder)


def run(
    spec: RunSpec,
    root: str | Path = layout.RESULTS,
    *,
    progress: bool = False,
    checkpoint_every_s: float = 60.0,
    on_epoch: Callable[[int], None] | None = None,
) -> RunOutcome:
    """Run (or resume, or skip) one run; see the module docstring. ``on_epoch`` is called after every
    epoch with the environment steps it trained (the launchers' progress bar)."""
    th.set_num_threads(1)
    run_setup = setup(spec, root)
    folder = run_setup.folder
    manifest = read_manifest(folder)  # a corrupt folder is reported before anything is written into it
    if manifest is not None and manifest["status"] == layout.STATUS_FINISHED:
        _check_same_run(manifest, spec, run_setup.preset, folder)
        _check_progress(folder)
        return RunOutcome(spec, folder, "skipped")  # without taking the lock: a finished run is never touched
    # A run that has a checkpoint resumes from it and needs no initial weights any more.
    task = get_experiment(spec.experiment).config
    init = init_source(task, spec, root) if latest_checkpoint(folder) is None else None
    with _exclusive(folder):
        return _run_locked(run_setup, progress, checkpoint_every_s, on_epoch, init, root)


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run folder: two processes never write one run (an orphaned pool
    worker, a second launcher). The OS drops the lock when the holder dies, so a killed run resumes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / layout.LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise CorruptRunError(f"{folder} is being run by another process; wait for it or stop it") from error
        yield


def _run_locked(
    run_setup: Setup,
    progress: bool,
    checkpoint_every_s: float,
    on_epoch: Callable[[int], None] | None,
    init: InitSource | None,
    root: str | Path,
) -> RunOutcome:
    spec, folder, budget = run_setup.spec, run_setup.folder, run_setup.budget
    experiment = get_experiment(spec.experiment)
    task = experiment.config
    manifest = read_manifest(folder)
    if manifest is not None:
        _check_same_run(manifest, spec, run_setup.preset, folder)
        if manifest["status"] == layout.STATUS_FINISHED:
            return RunOutcome(spec, folder, "skipped")
    checkpoint = latest_checkpoint(folder)
    if checkpoint is None and init is None:
        init = init_source(task, spec, root)  # the checkpoint seen before taking the lock is gone

    eval_env = gym.make(run_setup.env_id)
    metrics = experiment.metrics()
    eval_episodes = task.eval_episodes_for(spec.profile)
    schedule = run_setup.hyperparameters.get("schedule") or {}
    if checkpoint is None:
        model = _new_model(run_setup, task, init)
        epoch, wall_time = 0, 0.0
        manifest = _new_manifest(run_setup, task.gamma, eval_episodes)
        manifest["resolved"] = model.resolved_arguments
        algorithm, warmup = task.algorithm(spec.algo), task.warmup(spec.algo)
        if algorithm != spec.algo:
            manifest["algorithm"] = algorithm
        if warmup != "random":
            manifest["warmup"] = warmup
        if init is not None:
            manifest["init_from"] = init.describe(root)
        _truncate_progress(folder, 0)  # a run killed before its first checkpoint starts over
    else:
        model, epoch, wall_time = _restore(checkpoint, metrics)
        _truncate_progress(folder, epoch)
        manifest.setdefault("resumes", []).append({"at": _now(), "from_epoch": epoch, "git": git_state()})
        manifest["status"] = layout.STATUS_RUNNING
        for stale in ("interrupted_at", "resumes_from_epoch"):  # of an earlier interruption, now resumed
            manifest.pop(stale, None)
    manifest["commits"] = _commits(manifest)
    write_manifest(folder, manifest)

    callback = metrics.callback()
    last_checkpoint = time.monotonic()
    bar = tqdm(total=budget.n_epochs, initial=epoch, desc=spec.describe(), disable=not progress, unit="epoch")
    try:
        while epoch < budget.n_epochs:
            started = time.perf_counter()
            scheduled = {} if experiment.epoch_hook is None else experiment.epoch_hook(model, epoch, schedule, spec.seed)
            model.learn(budget.steps_per_epoch, reset_num_timesteps=False, callback=callback)
            epoch += 1
            deployed = evaluate(model, eval_env, n_episodes=eval_episodes, deterministic=True, run_seed=spec.seed, epoch=epoch)
            exploring = evaluate(model, eval_env, n_episodes=eval_episodes, deterministic=False, run_seed=spec.seed, epoch=epoch)
            wall_time += time.perf_counter() - started
            row = {
                layout.EPOCH: epoch,
                layout.STEP: model.num_timesteps,
                layout.WALL_TIME: round(wall_time, 3),
                layout.EVAL_RETURN_DEPLOYED: np.mean([e.undiscounted_return() for e in deployed]),
                layout.EVAL_RETURN_EXPLORING: np.mean([e.undiscounted_return() for e in exploring]),
                layout.EVAL_DISCOUNTED_RETURN_DEPLOYED: np.mean([e.discounted_return(task.gamma) for e in deployed]),
                layout.EVAL_DISCOUNTED_RETURN_EXPLORING: np.mean([e.discounted_return(task.gamma) for e in exploring]),
                **scheduled,
                **metrics.epoch_metrics(deployed, exploring),
            }
            _append_progress(folder, row)
            if epoch == budget.n_epochs or time.monotonic() - last_checkpoint >= checkpoint_every_s:
                save_checkpoint(folder, model, epoch, wall_time, metrics)
                last_checkpoint = time.monotonic()
            bar.update(1)
            if on_epoch is not None:
                on_epoch(budget.steps_per_epoch)
        bar.close()
        if experiment.write_artifacts is not None:
            artifacts = folder / layout.ARTIFACTS
            artifacts.mkdir(exist_ok=True)
            experiment.write_artifacts(model, eval_env, artifacts)
    except KeyboardInterrupt:  # SIGTERM or Ctrl-C (the launchers turn both into KeyboardInterrupt)
        checkpoint = latest_checkpoint(folder)
        manifest.update(status=layout.STATUS_INTERRUPTED, interrupted_at=_now(),
                        resumes_from_epoch=0 if checkpoint is None else _checkpoint_epoch(checkpoint))
        write_manifest(folder, manifest)
        raise
    manifest.update(status=layout.STATUS_FINISHED, finished_at=_now(), wall_time_s=round(wall_time, 1))
    write_manifest(folder, manifest)
    return RunOutcome(spec, folder, "resumed" if checkpoint is not None else "finished")


def _new_model(run_setup: Setup, task: TaskConfig, init: InitSource | None) -> BaseAlgorithm:
    spec = run_setup.spec
    model_kwargs = {k: v for k, v in run_setup.hyperparameters.items() if k != "schedule"}
    model = make_model(
        task.algorithm(spec.algo), gym.make(run_setup.env_id), model_kwargs, gamma=task.gamma, seed=spec.seed,
        total_steps=run_setup.budget.total_steps, warmup=task.warmup(spec.algo),
    )
    if init is not None:
        load_weights(model, init.weights)
    return model


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


def inspect_run(spec: RunSpec, root: str | Path) -> RunState:
    """The state of ``spec``'s run folder; reads files only."""
    run_setup = setup(spec, root)
    state = inspect_folder(run_setup.folder, run_setup.budget.steps_per_epoch, run_setup.budget.n_epochs)
    if state.state in (FINISHED, PARTIAL) and (conflict := _conflict(state.folder, spec, run_setup.preset)):
        return RunState(state.folder, CONFLICT, conflict, state.steps_total, spec=spec)
    return dataclasses.replace(state, spec=spec)


def inspect_folder(folder: Path, steps_per_epoch: int, n_epochs: int) -> RunState:
    """The state of a run folder, whatever run it holds (a budget of ``n_epochs`` x ``steps_per_epoch``)."""
    total = steps_per_epoch * n_epochs
    try:
        manifest = read_manifest(folder)
        if manifest is None:
            return RunState(folder, MISSING, "", total)
        if manifest["status"] == layout.STATUS_FINISHED:
            _check_progress(folder)
            return RunState(folder, FINISHED, f"profile {manifest['profile']}", total, total)
        checkpoint = latest_checkpoint(folder)
    except OlderCheckpointError as error:
        return RunState(folder, PARTIAL, f"profile {manifest['profile']}, {manifest['status']}: {error}", total, resumable=False)
    except CorruptRunError as error:
        return RunState(folder, CORRUPT, str(error), total)
    resumes = 0 if checkpoint is None else _checkpoint_epoch(checkpoint)
    detail = (f"profile {manifest['profile']}, {manifest['status']}, {_epochs_written(folder)} epochs written, "
              f"resumes from epoch {resumes}")
    return RunState(folder, PARTIAL, detail, total, resumes * steps_per_epoch)


def _conflict(folder: Path, spec: RunSpec, preset: str) -> str | None:
    try:
        _check_same_run(read_manifest(folder), spec, preset, folder)
    except CorruptRunError as error:
        return str(error)
    return None


def _epochs_written(folder: Path) -> int:
    path = folder / layout.PROGRESS
    return max(0, path.read_bytes().count(b"\n") - 1) if path.exists() else 0


# --- manifest -------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The run's manifest; None if the folder does not exist or holds nothing but the lock of a run that
    is starting. Raises CorruptRunError on anything odd."""
    path = folder / layout.MANIFEST
    if not folder.exists():
        return None
    if not path.exists():
        if any(p.name != layout.LOCK for p in folder.iterdir()):
            raise CorruptRunError(f"{folder} has files but no {layout.MANIFEST}; move it away to rerun this run")
        return None
    manifest, why = read_manifest_file(path, required=("status", "profile"))
    if manifest is None:
        raise CorruptRunError(f"{path} is not a valid manifest ({why}); move the folder away to rerun it")
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    _atomic_write_text(folder / layout.MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def _new_manifest(run_setup: Setup, gamma: float, eval_episodes: int) -> dict[str, Any]:
    spec = run_setup.spec
    return {
        "experiment": spec.experiment,
        "algo": spec.algo,
        "env": run_setup.env_id,
        "seed": spec.seed,
        "profile": spec.profile,
        "preset": run_setup.preset,
        "budget": run_setup.budget.as_dict(),
        "hyperparameters": run_setup.hyperparameters,
        "gamma": gamma,
        "eval_episodes": eval_episodes,
        "status": layout.STATUS_RUNNING,
        "git": git_state(),
        "versions": package_versions(),
        "hardware": hardware(),
        "started_at": _now(),
        "finished_at": None,
    }


def _commits(manifest: dict[str, Any]) -> list[str]:
    """Every commit the run ran under, in order: the one it started at, then those of its resumes."""
    states = [manifest.get("git") or {}] + [resume.get("git") or {} for resume in manifest.get("resumes", [])]
    return list(dict.fromkeys(state["commit"] for state in states if state.get("commit")))


def _check_same_run(manifest: dict[str, Any], spec: RunSpec, preset: str, folder: Path) -> None:
    """Raise CorruptRunError if the folder's run recorded another profile or preset than ``spec``'s."""
    for key, wanted in (("profile", spec.profile), ("preset", preset)):
        if key in manifest and manifest[key] != wanted:
            raise CorruptRunError(
                f"{folder} holds a run with {key}={manifest.get(key)!r}, not {wanted!r}; "
                "use another --out folder (runs are never overwritten)"
            )


# --- progress.csv -----------------------------------------------------------------------------------


def _check_progress(folder: Path) -> None:
    """Raise CorruptRunError if a finished run's progress.csv is missing, corrupt or truncated."""
    _, why = read_progress(folder / layout.PROGRESS)
    if why is not None:
        raise CorruptRunError(f"{folder}: {why}; move the folder away to rerun it")


def _append_progress(folder: Path, row: dict[str, Any]) -> None:
    path = folder / layout.PROGRESS
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow({k: _format(v) for k, v in row.items()})
        f.flush()
        os.fsync(f.fileno())


def _format(value: Any) -> Any:
    return repr(float(value)) if isinstance(value, float | np.floating) else value


def _truncate_progress(folder: Path, epoch: int) -> None:
    """Keep the header and the rows of epochs 1..``epoch`` (those the checkpoint covers), byte for byte;
    drop the file if none. Rows after them (also one cut mid-line by a kill) are written again."""
    path = folder / layout.PROGRESS
    if not path.exists():
        return
    if epoch == 0:
        path.unlink()
        return
    lines = path.read_bytes().splitlines(keepends=True)
    kept = lines[: epoch + 1]
    epochs = [line.split(b",", 1)[0] for line in kept[1:]]
    if epochs != [str(e).encode() for e in range(1, epoch + 1)] or not all(line.endswith(b"\n") for line in kept):
        raise CorruptRunError(f"{path} lacks the rows of epochs 1..{epoch} its checkpoint covers; move the folder away to rerun it")
    if len(kept) < len(lines):
        _atomic_write_bytes(path, b"".join(kept))


# --- checkpoints ------------------------------------------------------------------------------------


class OlderCheckpointError(CorruptRunError):
    """A checkpoint of the runner before exact resume (model.zip, replay buffer and RNG states, without the
    training env): a resume from it would diverge from an uninterrupted run, so it is refused."""


def latest_checkpoint(folder: Path) -> Path | None:
    pointer = folder / layout.CHECKPOINT / LATEST
    if not pointer.exists():
        return None
    path = folder / layout.CHECKPOINT / pointer.read_text().strip()
    if not (path / TRAINING_STATE).exists():
        if (path / "model.zip").exists():
            raise OlderCheckpointError(f"{path} is a checkpoint of the runner before exact resume, which cannot resume "
                                       "exactly; let the process that runs it finish, or move the folder away to rerun it")
        raise CorruptRunError(f"{pointer} points to {path}, which is incomplete; move the folder away to rerun it")
    return path


def _checkpoint_epoch(checkpoint: Path) -> int:
    return int(checkpoint.name.removeprefix("epoch_"))


class _TrainingStatePickler(pickle.Pickler):
    """Pickles gymnasium's ``EzPickle`` objects (the MuJoCo envs) by their state. EzPickle pickles an env
    as its constructor arguments, which unpickle into a fresh env; a resumed run needs the env it left:
    mid-episode, with its MuJoCo state (MjData pickles exactly) and RNG."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, EzPickle):
            return _object_from_state, (type(obj), obj.__dict__)
        return NotImplemented


def _object_from_state(cls: type, state: dict[str, Any]) -> Any:
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def save_checkpoint(folder: Path, model: BaseAlgorithm, epoch: int, wall_time: float, metrics: TaskMetrics) -> None:
    """The whole training state after ``epoch``, in one pickle: the model object itself (optimisers, replay
    buffer, action noise, _last_obs, episode counters and ep_info_buffer, SQL's and DDPG's target-copy
    counters) with its training env, the global RNGs and the metric state."""
    checkpoints = folder / layout.CHECKPOINT
    target = checkpoints / f"epoch_{epoch:05d}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    state = {
        "epoch": epoch,
        "wall_time": wall_time,
        "model": model,
        "metrics": metrics.state_dict(),
        "rng": {"torch": th.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},  # noqa: NPY002 (SB3 seeds the global RNGs)
    }
    with open(target / TRAINING_STATE, "wb") as f:
        _TrainingStatePickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
        f.flush()
        os.fsync(f.fileno())
    _atomic_write_text(checkpoints / LATEST, target.name + "\n")
    for old in checkpoints.glob("epoch_*"):
        if old != target:
            shutil.rmtree(old)


def _restore(checkpoint: Path, metrics: TaskMetrics) -> tuple[BaseAlgorithm, int, float]:
    with open(checkpoint / TRAINING_STATE, "rb") as f:
        state = pickle.load(f)
    th.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])  # noqa: NPY002
    random.setstate(state["rng"]["python"])
    metrics.load_state_dict(state["metrics"])
    return state["model"], state["epoch"], state["wall_time"]


# --- helpers ----------------------------------------------------------------------------------------


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode())


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
