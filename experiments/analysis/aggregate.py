"""Run folders -> one tidy long DataFrame, and per-run scalars from it.

Read-only: nothing here writes, moves or deletes anything under ``<root>/runs``.

The table :func:`load_runs` returns has one row per (run, epoch) with the identifying columns
:data:`ID_COLUMNS`, provenance columns (:data:`META_COLUMNS`) and every column of the run's
``progress.csv`` (numeric). A run that cannot be trusted is left out and reported as a :class:`Problem`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout
from experiments.run_files import find_run_dirs, read_manifest_file, read_progress_text

# Identifying columns of a run, in this order, then META_COLUMNS, then the progress.csv columns.
ID_COLUMNS = ("experiment", "env", "algo", "seed", "profile", "preset", "commit")
# Provenance columns: dirty working tree at launch, manifest status, budget from the manifest,
# and the run folder relative to the results root (for messages).
META_COLUMNS = ("dirty", "status", "budget_steps", "steps_per_epoch", "n_epochs", "run")
# Columns that identify one run (one seed of one configuration).
RUN_KEY = ("experiment", "env", "algo", "profile", "preset", "seed")
# Columns that identify one configuration whose seeds are pooled into one statistic.
GROUP_KEY = ("experiment", "env", "algo", "profile", "preset")

NO_PRESET = "none"
UNKNOWN_COMMIT = "unknown"

_SEED_DIR = re.compile(r"^seed_(-?\d+)$")


@dataclass(frozen=True)
class Problem:
    """A run folder that was left out (``skipped=True``) or kept with a warning. ``unreadable``: left out
    because a file of it is missing, corrupt or truncated (not merely unfinished), so that a command that
    needed it can refuse to give an answer without it."""

    path: Path
    reason: str
    skipped: bool = True
    unreadable: bool = False

    def describe(self, root: str | Path | None = None) -> str:
        path = self.path
        if root is not None:
            try:
                path = self.path.relative_to(Path(root))
            except ValueError:
                pass
        what = "left out" if self.skipped else "kept, warning"
        return f"{path.as_posix()}: {self.reason} ({what})"

    def __str__(self) -> str:
        return self.describe()


def read_progress(path: Path) -> tuple[pd.DataFrame | None, str | None]:
    """(table, None), or (None, why it cannot be used: see :func:`experiments.run_files.read_progress_text`).
    pandas parses the values: its float parser and Python's differ in the last bit of some."""
    text, why = read_progress_text(path)
    if text is None:
        return None, why
    return pd.read_csv(StringIO(text)).apply(pd.to_numeric, errors="coerce").astype(float), None


def _check_identity(run_dir: Path, runs_dir: Path, manifest: dict) -> str | None:
    rel = run_dir.relative_to(runs_dir).parts  # experiment, env slug, algo, seed_k
    seed_match = _SEED_DIR.match(rel[3])
    if seed_match is None:
        return f"folder name {rel[3]!r} is not seed_<k>"
    try:
        seed = int(manifest["seed"])
    except (TypeError, ValueError):
        return f"manifest seed {manifest['seed']!r} is not an integer"
    expected = {
        "experiment": (rel[0], str(manifest["experiment"])),
        "env": (rel[1], layout.env_slug(str(manifest["env"]))),
        "algo": (rel[2], str(manifest["algo"])),
        "seed": (int(seed_match.group(1)), seed),
    }
    for key, (from_path, from_manifest) in expected.items():
        if from_path != from_manifest:
            return f"manifest {key} {from_manifest!r} does not match the folder ({from_path!r})"
    return None


def _budget(manifest: dict) -> tuple[float, float, float]:
    budget = manifest.get("budget") or {}
    out = []
    for key in ("total_steps", "steps_per_epoch", "n_epochs"):
        try:
            out.append(float(budget.get(key)))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out[0], out[1], out[2]


def _commit(manifest: dict) -> tuple[str, bool]:
    git = manifest.get("git") or {}
    commit = git.get("commit") or UNKNOWN_COMMIT
    return str(commit), bool(git.get("dirty", False))


def load_runs(root: str | Path, include_partial: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Read every run folder under ``root/runs`` into one tidy long DataFrame.

    Left out, each with a :class:`Problem` naming the folder and the reason: a missing or unparseable
    manifest, a manifest that disagrees with its folder, a missing, corrupt or truncated progress.csv (all
    ``unreadable``), and a status other than "finished" (with ``include_partial=True`` "running" runs are
    kept, for status views). A finished run whose last step is short of its budget is kept with a warning
    Problem.
    """
    root = Path(root)
    runs_dir = root / layout.RUNS
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    for run_dir in find_run_dirs(root):
        manifest, why = read_manifest_file(run_dir / layout.MANIFEST)
        if manifest is None:
            problems.append(Problem(run_dir, why, unreadable=True))
            continue
        why = _check_identity(run_dir, runs_dir, manifest)
        if why is not None:
            problems.append(Problem(run_dir, why, unreadable=True))
            continue
        status = str(manifest["status"])
        allowed = {layout.FINISHED} | ({layout.RUNNING} if include_partial else set())
        if status not in allowed:
            problems.append(Problem(run_dir, f"status is {status!r}, not {layout.FINISHED!r}"))
            continue
        progress, why = read_progress(run_dir / layout.PROGRESS)
        if progress is None:
            problems.append(Problem(run_dir, why, unreadable=True))
            continue
        total, per_epoch, n_epochs = _budget(manifest)
        last_step = float(progress[layout.STEP].iloc[-1])
        if status == layout.FINISHED and not math.isnan(total) and last_step < total:
            problems.append(
                Problem(
                    run_dir,
                    f"finished, but progress.csv ends at step {last_step:.0f} < budget {total:.0f}",
                    False,
                )
            )
        commit, dirty = _commit(manifest)
        ids = {
            "experiment": str(manifest["experiment"]),
            "env": str(manifest["env"]),
            "algo": str(manifest["algo"]),
            "seed": int(manifest["seed"]),
            "profile": str(manifest["profile"]),
            "preset": str(manifest.get("preset") or NO_PRESET),
            "commit": commit,
            "dirty": dirty,
            "status": status,
            "budget_steps": total,
            "steps_per_epoch": per_epoch,
            "n_epochs": n_epochs,
            "run": run_dir.relative_to(root).as_posix(),
        }
        clash = [c for c in progress.columns if c in ids]
        if clash:
            problems.append(
                Problem(run_dir, f"progress.csv has reserved column(s) {clash}; they were ignored", False)
            )
            progress = progress.drop(columns=clash)
        head = pd.DataFrame({k: [v] * len(progress) for k, v in ids.items()})
        frames.append(pd.concat([head, progress.reset_index(drop=True)], axis=1))
    if not frames:
        columns = list(ID_COLUMNS) + list(META_COLUMNS) + [layout.EPOCH, layout.STEP]
        return pd.DataFrame(columns=columns), problems
    df = pd.concat(frames, ignore_index=True, sort=False)
    fixed = list(ID_COLUMNS) + list(META_COLUMNS)
    rest = [c for c in df.columns if c not in fixed]
    df = df[fixed + rest]
    df["seed"] = df["seed"].astype(int)
    df = df.sort_values(list(RUN_KEY) + [layout.STEP, layout.EPOCH], kind="mergesort").reset_index(drop=True)
    return df, problems


# ------------------------------------------------------------------------------------------------
# Per-run scalars


def last_rows(n_rows: int, fraction: float) -> slice:
    """The last ``fraction`` of ``n_rows`` rows (rounded up), at least one."""
    count = max(1, math.ceil(round(fraction * n_rows, 9)))
    return slice(n_rows - count, n_rows)


_FRACTIONAL = ("auc", "late_median")  # the reductions that take a fraction


@dataclass(frozen=True)
class Reduction:
    """How one run's curve becomes one number.

    ``final``: the value at the last epoch; ``max``/``min``: over all epochs; ``mean``: over all epochs;
    ``auc``: the time-average over the first ``frac`` of the step budget (trapezoidal area under the
    metric-vs-step curve over ``[first step, frac * budget]`` divided by that span); ``late_median``: the
    median over the last ``frac`` of the epochs that log the metric (at least one).
    """

    how: str = "final"
    frac: float = 1.0

    @classmethod
    def parse(cls, spec: str | Reduction) -> Reduction:
        if isinstance(spec, Reduction):
            return spec
        how, _, frac = str(spec).partition(":")
        if how not in ("final", "max", "min", "mean", "auc", "late_median"):
            raise ValueError(
                f"unknown reduction {spec!r}: use final, max, min, mean, auc[:frac] or late_median[:frac]"
            )
        if how in _FRACTIONAL:
            f = float(frac) if frac else 1.0
            if not 0.0 < f <= 1.0:
                raise ValueError(f"{how} fraction must be in (0, 1], got {f}")
            return cls(how, f)
        if frac:
            raise ValueError(f"only {' and '.join(_FRACTIONAL)} take a fraction, got {spec!r}")
        return cls(how)

    @property
    def label(self) -> str:
        return f"{self.how}:{self.frac:g}" if self.how in _FRACTIONAL else self.how

    def describe(self, metric: str) -> str:
        if self.how == "final":
            return f"{metric} at the final evaluation"
        if self.how in ("max", "min"):
            return f"{self.how} of {metric} over all evaluations during training"
        if self.how == "mean":
            return f"mean of {metric} over all evaluations during training"
        if self.how == "late_median":
            return f"median of {metric} over the last {self.frac:.0%} of evaluations (at least one)"
        return (
            f"time-average of {metric} over the first {self.frac:.0%} of the step budget "
            "(trapezoidal area under the curve vs. step, divided by the step span)"
        )

    def apply(self, steps: np.ndarray, values: np.ndarray, budget: float) -> float:
        ok = ~np.isnan(values)
        steps, values = steps[ok], values[ok]
        if len(values) == 0:
            return math.nan
        if self.how == "final":
            return float(values[-1])
        if self.how == "max":
            return float(values.max())
        if self.how == "min":
            return float(values.min())
        if self.how == "mean":
            return float(values.mean())
        if self.how == "late_median":
            return float(np.median(values[last_rows(len(values), self.frac)]))
        end = self.frac * (budget if not math.isnan(budget) else steps[-1])
        keep = steps <= end + 1e-9
        if not keep.any():
            return math.nan
        s, v = steps[keep], values[keep]
        if len(v) == 1 or s[-1] == s[0]:
            return float(v.mean())
        area = float(np.sum((s[1:] - s[:-1]) * (v[1:] + v[:-1]) / 2.0))
        return area / float(s[-1] - s[0])


def run_values(df: pd.DataFrame, metric: str, reduction: str | Reduction = "final") -> pd.DataFrame:
    """One row per run: RUN_KEY, commit, dirty, budget_steps and ``value`` (the reduced metric).

    Runs without the metric column, or with only empty cells in it, get ``value`` NaN.
    """
    red = Reduction.parse(reduction)
    cols = list(RUN_KEY) + ["commit", "dirty", "budget_steps", "value"]
    if len(df) == 0:
        return pd.DataFrame(columns=cols)
    rows = []
    has_metric = metric in df.columns
    for key, run in df.groupby(list(RUN_KEY), sort=True, dropna=False):
        run = run.sort_values(layout.STEP, kind="mergesort")
        budget = float(run["budget_steps"].iloc[0])
        if has_metric:
            value = red.apply(run[layout.STEP].to_numpy(float), run[metric].to_numpy(float), budget)
        else:
            value = math.nan
        rows.append((*key, run["commit"].iloc[0], bool(run["dirty"].iloc[0]), budget, value))
    return pd.DataFrame(rows, columns=cols)


def label_configs(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose ``algo`` reads ``"<algo> (<preset>)"`` for algorithms run with more than one preset in
    ``df``, so that curves, IQM rows and comparisons never pool two configurations of one algorithm.
    (Different algorithms normally have different preset names: sql "code", ddpg "paper", sac "sb3".)"""
    if len(df) == 0:
        return df
    n_presets = df.groupby("algo")["preset"].nunique()
    multi = set(n_presets[n_presets > 1].index)
    if not multi:
        return df
    df = df.copy()
    several = df["algo"].isin(multi)
    df.loc[several, "algo"] = df.loc[several, "algo"] + " (" + df.loc[several, "preset"] + ")"
    return df


def describe_seeds(seeds) -> str:
    """``[0, 1, 2, 4]`` -> ``"0-2,4"``."""
    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        return "-"
    parts, start, prev = [], seeds[0], seeds[0]
    for s in seeds[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ",".join(parts)


def describe_commits(commits, dirty=None) -> str:
    """Short commit ids, sorted, with ``+dirty`` where a run started from a dirty tree."""
    pairs = sorted(set(zip(commits, dirty if dirty is not None else [False] * len(commits), strict=True)))
    return ", ".join(f"{c[:10]}{'+dirty' if d else ''}" for c, d in pairs) or "-"


def describe_budget(budgets) -> str:
    values = sorted({float(b) for b in budgets if not (isinstance(b, float) and math.isnan(b))})
    if not values:
        return "unknown"
    return " / ".join(f"{v:,.0f}" for v in values)
