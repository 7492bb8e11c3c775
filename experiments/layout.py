"""Where runs live and what their files are called: the one contract between the runner and the analysis.

A run is (experiment, algo, env, seed) at one profile. Its folder is
``<root>/runs/<experiment>/<env slug>/<algo>/seed_<k>/`` and holds

- ``progress.csv``: tidy, one row per epoch. Columns ``epoch, step, wall_time`` then every metric
  (the ``EVAL_*`` columns below for every task, plus the task's own metrics).
- ``manifest.json``: what ran (config, preset, profile, budget, git commit and dirty flag, package
  versions, torch threads, CPU/GPU, start and end time) and ``status``.
- ``artifacts/``: small per-run files that figures need (e.g. rollouts, Q-value grids) and, for runs that
  other runs start from, the policy weights (``WEIGHTS``), committed.
- ``checkpoint/``: the whole training state for an exact resume; gitignored.
- ``.lock``: held by the process running the run; gitignored.

The quick profile's runs live under ``results/``; every other profile's under ``results/<profile>/``
(:func:`default_root`), so that one profile's figures, tables and scorecard never mix in another's runs.
"""

from __future__ import annotations

from pathlib import Path

RUNS = "runs"
PROGRESS = "progress.csv"
MANIFEST = "manifest.json"
ARTIFACTS = "artifacts"
CHECKPOINT = "checkpoint"
LOCK = ".lock"
# artifacts/model.zip: the policy weights a finished run hands to another (pretraining -> fine-tuning,
# constituents -> composition); written by experiments.models.save_weights, small, committed.
WEIGHTS = "model.zip"

# A run's states, one vocabulary. Its manifest's ``status`` is RUNNING, INTERRUPTED (stopped by SIGTERM or
# Ctrl-C: resumes from its last checkpoint when run again) or FINISHED. What ``status``, ``reproduce`` and
# the launchers find in its folder (experiments.runner.inspect_run) is one of FOLDER_STATES: FINISHED;
# PARTIAL (started: resumes from its checkpoint); MISSING; CORRUPT (a file cannot be read: the folder is
# left alone); CONFLICT (it holds a run of another profile or preset).
RUNNING = "running"
INTERRUPTED = "interrupted"
FINISHED = "finished"
PARTIAL = "partial"
MISSING = "missing"
CORRUPT = "corrupt"
CONFLICT = "conflict"
FOLDER_STATES = (FINISHED, PARTIAL, MISSING, CORRUPT, CONFLICT)

RESULTS = Path("results")
MAIN_PROFILE = "quick"  # the profile whose runs are results/ itself

# Columns every progress.csv has.
EPOCH = "epoch"
STEP = "step"
WALL_TIME = "wall_time"
# Evaluation of the policy as deployed (deterministic=True) and as it acts while exploring
# (deterministic=False: SQL's sampler with fresh noise, SAC's Gaussian, DDPG's actor without its noise).
EVAL_RETURN_DEPLOYED = "eval_return_deployed"
EVAL_RETURN_EXPLORING = "eval_return_exploring"
EVAL_DISCOUNTED_RETURN_DEPLOYED = "eval_discounted_return_deployed"
EVAL_DISCOUNTED_RETURN_EXPLORING = "eval_discounted_return_exploring"


class RunFolderError(RuntimeError):
    """A run folder that cannot be run now; it is left exactly as it is. The message is one line per
    problem, which the CLI prints as its error."""


class CorruptRunError(RunFolderError):
    """A run folder that cannot be read or resumed."""


class RunLockedError(RunFolderError):
    """A run folder that another process is running."""


class RunConflictError(RunFolderError):
    """A run folder that holds a run of another profile or preset than the one requested."""


def env_slug(env_id: str) -> str:
    """File-system name of an env id: ``softq/MultiGoal-v0`` -> ``softq-MultiGoal-v0``."""
    return env_id.replace("/", "-")


def run_dir(root: str | Path, experiment: str, env_id: str, algo: str, seed: int) -> Path:
    return Path(root) / RUNS / experiment / env_slug(env_id) / algo / f"seed_{seed}"


def default_root(profile: str) -> Path:
    """Where a profile's runs live by default: ``results`` for the quick profile, else
    ``results/<profile>``."""
    return RESULTS if profile == MAIN_PROFILE else RESULTS / profile


def profile_roots(root: str | Path, profiles) -> list[Path]:
    """``root`` and, below it, the root of each of ``profiles`` that holds runs (``root/<profile>/runs``)."""
    root = Path(root)
    return [root] + [root / p for p in profiles if p != MAIN_PROFILE and (root / p / RUNS).is_dir()]
