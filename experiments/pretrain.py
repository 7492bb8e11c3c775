"""Maximum-entropy pretraining on the ant (paper Sec. 5.3, Fig. 4a and Fig. 7).

Per finished run, ``artifacts/`` holds
- ``model.zip`` (:data:`experiments.layout.WEIGHTS`): the policy weights the fine-tuning runs of the same
  seed start from (:func:`experiments.models.save_weights`: online networks only, about 0.2 MB for SQL
  at 2 x 128);
- ``com_traces.csv``: overhead traces of :data:`N_TRACES` rollouts of the policy as it acts (SQL's
  sampler with fresh noise, SAC's Gaussian, DDPG's actor without its noise) from the start,
  columns ``rollout, t, x, y``. x, y is the torso position (observation entries 0, 1): the body the
  speed reward is measured on, our centre-of-mass proxy (the legs move the whole-body COM by a few cm).

Fig. 7: rows = seeds, columns = SQL's temperature alpha (10, 1, 0.1, 0.01, read from each run's
reward_scale = 1 / alpha), then DDPG and SAC if they ran.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.evaluation import EVALUATION, derived_seed, rollout
from experiments.models import save_weights

N_TRACES = 5
TRACES = "com_traces.csv"
ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    save_weights(model, folder / layout.WEIGHTS)
    run_seed = int(model.seed or 0)
    rows = []
    for i in range(N_TRACES):
        episode = rollout(model, env, deterministic=False, seed=derived_seed(run_seed, EVALUATION, ARTIFACT_SEED_KEY, i))
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    pd.DataFrame(rows, columns=["rollout", "t", "x", "y"]).to_csv(folder / TRACES, index=False, float_format="%.4f")


def run_columns(root: Path, runs: pd.DataFrame) -> list[tuple[str, list]]:
    """Fig. 7's columns: (label, runs) for SQL by decreasing alpha, then the other algorithms.

    ``runs``: one row per run with ``algo``, ``seed`` and ``run`` (folder relative to ``root``)."""
    sql, other = {}, {}
    for r in runs.itertuples():
        manifest = json.loads((Path(root) / r.run / layout.MANIFEST).read_text())
        algorithm = manifest.get("algorithm", manifest["algo"])
        if algorithm == "sql":
            alpha = 1.0 / float(manifest["hyperparameters"]["reward_scale"])
            sql.setdefault(alpha, []).append(r)
        else:
            other.setdefault(algorithm, []).append(r)
    columns = [(f"SQL, alpha = {alpha:g}", sql[alpha]) for alpha in sorted(sql, reverse=True)]
    return columns + [(name.upper(), other[name]) for name in sorted(other)]


def figure_7(root: Path, out_dir: Path, profile: str | None = None) -> list[Path]:
    """Fig. 7: overhead torso traces of the pretrained policies as they act; rows = seeds, columns = alpha
    (then DDPG and SAC). One figure per profile."""
    from experiments.analysis.aggregate import load_runs
    from experiments.analysis.plots import _new_figure, _slug, _title, save_figure

    df, _ = load_runs(root)
    df = df[df["experiment"] == "pretrain"]
    profiles = [profile] if profile is not None else sorted(df["profile"].unique())
    paths: list[Path] = []
    for prof in profiles:
        part = df[df["profile"] == prof]
        runs = part.drop_duplicates(["algo", "seed"])[["algo", "seed", "run"]]
        runs = runs[[(Path(root) / r / layout.ARTIFACTS / TRACES).exists() for r in runs["run"]]]
        if runs.empty:
            continue
        columns = run_columns(root, runs)
        seeds = sorted(runs["seed"].unique())
        traces = {r.run: pd.read_csv(Path(root) / r.run / layout.ARTIFACTS / TRACES) for r in runs.itertuples()}
        extent = max(3.0, max(float(np.abs(t[["x", "y"]].to_numpy()).max()) for t in traces.values()) * 1.05)
        fig = _new_figure(2.4 * len(columns), 2.4 * len(seeds) + 0.9)
        axes = fig.subplots(len(seeds), len(columns), squeeze=False, sharex=True, sharey=True)
        for j, (label, column_runs) in enumerate(columns):
            by_seed = {r.seed: r for r in column_runs}
            for i, seed in enumerate(seeds):
                ax = axes[i, j]
                if seed in by_seed:
                    for _, path in traces[by_seed[seed].run].groupby("rollout"):
                        ax.plot(path["x"], path["y"], linewidth=0.8, alpha=0.8)
                    ax.plot([0], [0], marker="o", color="black", markersize=3)
                else:
                    ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center", fontsize=7)
                ax.set(xlim=(-extent, extent), ylim=(-extent, extent), aspect="equal")
                ax.tick_params(labelsize=6)
                if i == 0:
                    ax.set_title(label, fontsize=8)
                if j == 0:
                    ax.set_ylabel(f"seed {seed}\ny (m)", fontsize=7)
            axes[-1, j].set_xlabel("x (m)", fontsize=7)
        _title(fig, f"Ant pretraining: torso traces of {N_TRACES} rollouts of the policy as it acts, from the origin (Fig. 7)", part)
        name = "pretrain_fig7_com_traces" + ("" if len(profiles) == 1 else f"__{_slug(prof)}")
        paths += save_figure(fig, Path(out_dir) / name)
    return paths
