"""Tables of SQL on standard tasks (beyond the paper): its tuned zoo settings against SB3's SAC, TD3 and
DDPG at rl-zoo3's hyperparameters, and the reward_scale sweeps that chose the settings.

- ``zoo_returns``: per task, the interquartile mean over seeds of the deployed policy's final evaluation
  return, with a 95% percentile-bootstrap interval, for every algorithm that ran there.
- ``zoo_sweeps``: per task and swept reward_scale (the ``sql_scale*`` runs), each seed's final return, their
  mean, and which scale the selection rule keeps (the highest mean; softq/configs/zoo.yaml must hold it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats as sps

from experiments import layout
from experiments.analysis import aggregate, ledger, stats
from experiments.analysis.tables import CONFIDENCE, Rendered, fmt, write_table
from experiments.run_files import read_manifest_file

# The standard-task experiments (experiments/hyperparams/<name>.yaml) and the order of the table's columns.
ZOO_EXPERIMENTS = ("pendulum", "mountaincar", "lunarlander")
ZOO_ALGOS = ("sql", "sac", "td3", "ddpg")
SWEEP_PREFIX = "sql_scale"
METRIC, REDUCTION = layout.EVAL_RETURN_DEPLOYED, "final"
LEDGER_LABEL = "standard tasks"  # the tables list the ledger's entries that apply to every experiment


def _iqm_rows(x: np.ndarray) -> np.ndarray:
    """IQM (25% trimmed mean) of each row: the statistic for :func:`stats.bootstrap_ci`."""
    return sps.trim_mean(x, proportiontocut=0.25, axis=1)


def _final_returns(df: pd.DataFrame) -> pd.DataFrame:
    sub = df[df["experiment"].isin(ZOO_EXPERIMENTS)]
    return aggregate.run_values(sub, METRIC, REDUCTION).dropna(subset=["value"])


def returns_table(
    df: pd.DataFrame, reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED
) -> pd.DataFrame:
    """One row per (task, algo) of :data:`ZOO_ALGOS` that ran: IQM and interval over seeds, the seeds, the
    budget. Sweep runs are left out (they chose the setting; seeds 0-4 measure it)."""
    rows = []
    for (experiment, env, algo), g in _final_returns(df).groupby(["experiment", "env", "algo"], sort=True):
        if algo not in ZOO_ALGOS:
            continue
        ci = stats.bootstrap_ci(g["value"], reps=reps, confidence=CONFIDENCE, seed=seed, statistic=_iqm_rows)
        rows.append(
            {
                "experiment": experiment,
                "env": env,
                "algo": algo,
                "preset": ",".join(sorted(set(g["preset"]))),
                "n": len(g),
                "seeds": ",".join(str(s) for s in sorted(g["seed"])),
                "budget_steps": aggregate.describe_budget(g["budget_steps"]),
                "iqm": ci.point,
                "ci_low": ci.low,
                "ci_high": ci.high,
            }
        )
    t = pd.DataFrame(rows)
    if len(t):
        t["order"] = t["algo"].map(ZOO_ALGOS.index)
        t = t.sort_values(["experiment", "env", "order"], kind="mergesort").drop(columns="order")
    return t.reset_index(drop=True)


def sweep_table(df: pd.DataFrame, root: str | Path) -> pd.DataFrame:
    """One row per (task, swept reward_scale): per-seed final returns, their mean, and ``chosen`` for the
    highest mean of its task (the selection rule of softq/configs/zoo.yaml)."""
    vals = _final_returns(df)
    vals = vals[vals["algo"].str.startswith(SWEEP_PREFIX)]
    rows = []
    for (experiment, env, algo), g in vals.groupby(["experiment", "env", "algo"], sort=True):
        scales = {_reward_scale(root, run) for run in g.itertuples()}
        if len(scales) != 1:
            raise ValueError(f"{experiment}/{env}/{algo}: runs with different reward_scale {sorted(scales)}")
        g = g.sort_values("seed")
        rows.append(
            {
                "experiment": experiment,
                "env": env,
                "reward_scale": scales.pop(),
                "seeds": ",".join(str(s) for s in g["seed"]),
                "budget_steps": aggregate.describe_budget(g["budget_steps"]),
                "returns": ", ".join(fmt(v) for v in g["value"]),
                "mean": float(g["value"].mean()),
            }
        )
    t = pd.DataFrame(rows)
    if len(t):
        t = t.sort_values(["experiment", "env", "reward_scale"], kind="mergesort").reset_index(drop=True)
        best = t.groupby(["experiment", "env"])["mean"].transform("max")
        t["chosen"] = t["mean"] == best
    return t


def _reward_scale(root: str | Path, run) -> float:
    folder = layout.run_dir(root, run.experiment, run.env, run.algo, run.seed)
    manifest, why = read_manifest_file(folder / layout.MANIFEST, required=("resolved",))
    if manifest is None:
        raise ValueError(f"{folder}: {why}")
    return float(manifest["resolved"]["reward_scale"])


def write_zoo_tables(
    df: pd.DataFrame,
    root: str | Path,
    out_dir: str | Path,
    deviations: list[ledger.Deviation],
    reps: int = stats.DEFAULT_REPS,
    seed: int = stats.DEFAULT_SEED,
) -> list[Path]:
    """Write ``zoo_returns`` and ``zoo_sweeps`` (.md/.csv/.tex) to ``out_dir`` when their runs exist."""
    paths: list[Path] = []
    pct = f"{CONFIDENCE:.0%} CI"
    returns = returns_table(df, reps, seed)
    if len(returns):
        display = pd.DataFrame(
            {
                "env": returns["env"],
                "algo": returns["algo"],
                "preset": returns["preset"],
                "seeds": returns["n"].astype(str) + " (" + returns["seeds"] + ")",
                "budget (steps)": returns["budget_steps"],
                "IQM return": [fmt(v) for v in returns["iqm"]],
                pct: [
                    f"[{fmt(lo)}, {fmt(hi)}]"
                    for lo, hi in zip(returns["ci_low"], returns["ci_high"], strict=True)
                ],
            }
        )
        notes = [
            "Return of the deployed (deterministic) policy at the final evaluation (mean over the task's "
            "evaluation episodes), per seed; interquartile mean over seeds with a "
            f"{CONFIDENCE:.0%} percentile bootstrap interval ({reps} resamples, generator seed {seed}). "
            "SQL: softq/configs/zoo.yaml; SAC, TD3, DDPG: rl-baselines3-zoo's hyperparameters "
            "(experiments/hyperparams/<task>.yaml cites each value)."
        ]
        rendered = Rendered(
            "Standard tasks: SQL against SB3's SAC, TD3 and DDPG", returns, display, notes, LEDGER_LABEL
        )
        paths += write_table(rendered, Path(out_dir) / "zoo_returns", deviations)
    sweeps = sweep_table(df, root)
    if len(sweeps):
        display = pd.DataFrame(
            {
                "env": sweeps["env"],
                "reward_scale": [fmt(v) for v in sweeps["reward_scale"]],
                "seeds": sweeps["seeds"],
                "budget (steps)": sweeps["budget_steps"],
                "final returns": sweeps["returns"],
                "mean": [fmt(v) for v in sweeps["mean"]],
                "chosen": np.where(sweeps["chosen"], "yes", ""),
            }
        )
        notes = [
            "SQL's reward_scale sweeps: the deployed policy's final evaluation return of each sweep seed "
            "(seeds apart from the reported ones); the scale with the highest mean is kept in "
            "softq/configs/zoo.yaml."
        ]
        rendered = Rendered("Standard tasks: SQL reward_scale sweeps", sweeps, display, notes, LEDGER_LABEL)
        paths += write_table(rendered, Path(out_dir) / "zoo_sweeps", deviations)
    return paths
