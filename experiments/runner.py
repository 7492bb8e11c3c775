"""One run = (experiment, algo, env, seed, profile): train epoch by epoch, evaluate, write the run folder.

An algo whose task entry has ``init_from`` starts from the weights of another finished run (same seed and
profile; :func:`init_source` finds it, or raises :class:`MissingInitRunError` naming the folder and the
command that makes it). An experiment with an ``epoch_hook`` gets it called at the start of every epoch
with the preset's ``schedule`` (e.g. fine-tuning's temperature and noise-set schedules); what it returns
is written into that epoch's progress.csv row.

Resumable at any moment: a checkpoint (model, replay buffer, RNG states, metric state) is written
atomically (a complete ``checkpoint/epoch_N/`` first, then the ``LATEST`` pointer replaced in one
rename), and on resume progress.csv is cut back to the checkpoint's epoch, so a run killed anywhere
ends with no duplicated or missing epochs. A finished run is skipped, never overwritten.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import pickle
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from tqdm.auto import tqdm

import softq  # noqa: F401  (registers the softq/ env ids)
from experiments import layout
from experiments.config import ConfigError, TaskConfig
from experiments.evaluation import RESUME, derived_seed, evaluate
from experiments.models import load_model, load_weights, make_model
from experiments.provenance import git_state, hardware, package_versions
from experiments.registry import get_experiment

LATEST = "LATEST"
LOCK = ".lock"


class CorruptRunError(RuntimeError):
    """A run folder that cannot be read or resumed; it is left exactly as it is."""


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
        f"{spec.describe()} starts from the weights of the {init.experiment} run {folder}, which {problem}. "
        f"Make it with:\n  {command}" + ("" if manifest is None else "\n(after moving that folder away)")
    )


@dataclass(frozen=True)
class RunOutcome:
    spec: RunSpec
    folder: Path
    status: str  # "finished" (ran now), "skipped" (was finished), "resumed" (finished after a resume)


def run(spec: RunSpec, root: str | Path = "results", *, progress: bool = False, checkpoint_every_s: float = 60.0) -> RunOutcome:
    """Run (or resume, or skip) one run; see the module docstring."""
    th.set_num_threads(1)
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
    manifest = read_manifest(folder)  # a corrupt folder is reported before anything is written into it
    if manifest is not None and manifest["status"] == layout.STATUS_FINISHED:
        _check_same_run(manifest, spec, preset, folder)
        return RunOutcome(spec, folder, "skipped")  # without taking the lock: a finished run is never touched
    # A run that has a checkpoint resumes from it and needs no initial weights any more.
    init = init_source(task, spec, root) if latest_checkpoint(folder) is None else None
    with _exclusive(folder):
        return _run_locked(spec, experiment, env_id, budget, preset, hyperparameters, folder, progress, checkpoint_every_s, init, root)


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the run folder: two processes never write one run (an orphaned pool
    worker, a second launcher). The OS drops the lock when the holder dies, so a killed run resumes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise CorruptRunError(f"{folder} is being run by another process; wait for it or stop it") from error
        yield


def _run_locked(spec, experiment, env_id, budget, preset, hyperparameters, folder, progress, checkpoint_every_s, init, root) -> RunOutcome:
    task = experiment.config
    manifest = read_manifest(folder)
    if manifest is not None:
        _check_same_run(manifest, spec, preset, folder)
        if manifest["status"] == layout.STATUS_FINISHED:
            return RunOutcome(spec, folder, "skipped")
    checkpoint = latest_checkpoint(folder)
    if checkpoint is None and init is None:
        init = init_source(task, spec, root)  # the checkpoint seen before taking the lock is gone

    env = gym.make(env_id)
    eval_env = gym.make(env_id)
    metrics = experiment.metrics()
    algorithm, warmup = task.algorithm(spec.algo), task.warmup(spec.algo)
    eval_episodes = task.eval_episodes_for(spec.profile)
    schedule = hyperparameters.get("schedule") or {}
    model_kwargs = {k: v for k, v in hyperparameters.items() if k != "schedule"}
    if checkpoint is None:
        model = make_model(
            algorithm, env, model_kwargs, gamma=task.gamma, seed=spec.seed, total_steps=budget.total_steps, warmup=warmup
        )
        epoch, wall_time = 0, 0.0
        manifest = _new_manifest(spec, env_id, preset, hyperparameters, task.gamma, eval_episodes, budget)
        manifest["resolved"] = model.resolved_arguments
        if algorithm != spec.algo:
            manifest["algorithm"] = algorithm
        if warmup != "random":
            manifest["warmup"] = warmup
        if init is not None:
            load_weights(model, init.weights)
            manifest["init_from"] = init.describe(root)
        _truncate_progress(folder, 0)  # a run killed before its first checkpoint starts over
        write_manifest(folder, manifest)
    else:
        model, epoch, wall_time = _restore(checkpoint, spec, env, metrics, algorithm, warmup)
        _truncate_progress(folder, epoch)
        manifest.setdefault("resumes", []).append({"at": _now(), "from_epoch": epoch, "git": git_state()})
        write_manifest(folder, manifest)

    callback = metrics.callback()
    last_checkpoint = time.monotonic()
    bar = tqdm(total=budget.n_epochs, initial=epoch, desc=spec.describe(), disable=not progress, unit="epoch")
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
    bar.close()

    if experiment.write_artifacts is not None:
        artifacts = folder / layout.ARTIFACTS
        artifacts.mkdir(exist_ok=True)
        experiment.write_artifacts(model, eval_env, artifacts)
    manifest.update(status=layout.STATUS_FINISHED, finished_at=_now(), wall_time_s=round(wall_time, 1))
    write_manifest(folder, manifest)
    return RunOutcome(spec, folder, "resumed" if checkpoint is not None else "finished")


# --- manifest -------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The run's manifest; None if the folder does not exist. Raises CorruptRunError on anything odd."""
    path = folder / layout.MANIFEST
    if not folder.exists():
        return None
    if not path.exists():
        if any(p.name != LOCK for p in folder.iterdir()):
            raise CorruptRunError(f"{folder} has files but no {layout.MANIFEST}; move it away to rerun this run")
        return None
    try:
        manifest = json.loads(path.read_text())
        manifest["status"], manifest["profile"]  # noqa: B018  (required keys)
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise CorruptRunError(f"{path} is not a valid manifest ({error!r}); move the folder away to rerun it") from error
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    _atomic_write_text(folder / layout.MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")


def _new_manifest(spec: RunSpec, env_id: str, preset: str, hyperparameters: dict, gamma: float, eval_episodes: int, budget) -> dict[str, Any]:
    return {
        "experiment": spec.experiment,
        "algo": spec.algo,
        "env": env_id,
        "seed": spec.seed,
        "profile": spec.profile,
        "preset": preset,
        "budget": budget.as_dict(),
        "hyperparameters": hyperparameters,
        "gamma": gamma,
        "eval_episodes": eval_episodes,
        "status": layout.STATUS_RUNNING,
        "git": git_state(),
        "versions": package_versions(),
        "hardware": hardware(),
        "started_at": _now(),
        "finished_at": None,
    }


def _check_same_run(manifest: dict[str, Any], spec: RunSpec, preset: str, folder: Path) -> None:
    for key, wanted in (("profile", spec.profile), ("preset", preset)):
        if manifest.get(key) != wanted:
            raise CorruptRunError(
                f"{folder} holds a run with {key}={manifest.get(key)!r}, not {wanted!r}; "
                "use another --out folder (runs are never overwritten)"
            )


# --- progress.csv -----------------------------------------------------------------------------------


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
    """Keep the rows of epochs <= ``epoch`` (those the checkpoint covers); drop the header if none."""
    path = folder / layout.PROGRESS
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [r for r in rows[1:] if r and int(r[0]) <= epoch]
    if len(kept) == len(rows) - 1:
        return
    if not kept:
        path.unlink()
        return
    text = "".join(",".join(r) + "\n" for r in [rows[0], *kept])
    _atomic_write_text(path, text)


# --- checkpoints ------------------------------------------------------------------------------------


def latest_checkpoint(folder: Path) -> Path | None:
    pointer = folder / layout.CHECKPOINT / LATEST
    if not pointer.exists():
        return None
    path = folder / layout.CHECKPOINT / pointer.read_text().strip()
    if not (path / "state.pkl").exists():
        raise CorruptRunError(f"{pointer} points to {path}, which is incomplete; move the folder away to rerun it")
    return path


def save_checkpoint(folder: Path, model, epoch: int, wall_time: float, metrics) -> None:
    checkpoints = folder / layout.CHECKPOINT
    target = checkpoints / f"epoch_{epoch:05d}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    model.save(target / "model.zip")
    model.save_replay_buffer(target / "replay_buffer.pkl")
    state = {
        "epoch": epoch,
        "wall_time": wall_time,
        "metrics": metrics.state_dict(),
        "rng": {"torch": th.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},  # noqa: NPY002 (SB3 seeds the global RNGs)
    }
    with open(target / "state.pkl", "wb") as f:
        pickle.dump(state, f)
    _atomic_write_text(checkpoints / LATEST, target.name + "\n")
    for old in checkpoints.glob("epoch_*"):
        if old != target:
            shutil.rmtree(old)


def _restore(checkpoint: Path, spec: RunSpec, env: gym.Env, metrics, algorithm: str, warmup: str):
    with open(checkpoint / "state.pkl", "rb") as f:
        state = pickle.load(f)
    model = load_model(algorithm, str(checkpoint / "model.zip"), env, warmup)
    model.load_replay_buffer(checkpoint / "replay_buffer.pkl")
    # load() re-seeds the env with the run's seed; give the resumed episodes their own seed instead.
    model.env.seed(derived_seed(spec.seed, RESUME, state["epoch"]))
    model._last_obs = None  # start from a fresh reset: the saved env state is gone
    th.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])  # noqa: NPY002
    random.setstate(state["rng"]["python"])
    metrics.load_state_dict(state["metrics"])
    return model, state["epoch"], state["wall_time"]


# --- helpers ----------------------------------------------------------------------------------------


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
