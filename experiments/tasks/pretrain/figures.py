"""Ant pretraining, figures: Fig. 7 (overhead traces) from the finished runs' artifacts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import layout
from experiments.analysis.aggregate import load_runs
from experiments.analysis.figure_specs import DEFAULT_FIGURE_FORMATS
from experiments.analysis.plots import new_figure, save_figure, slug, suptitle_with_caption
from experiments.tasks.pretrain import N_TRACES, TRACES


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


def figure_7(
    root: Path, out_dir: Path, profile: str | None = None, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS
) -> list[Path]:
    """Fig. 7: overhead traces of the pretrained policies' centre of mass as they act; rows = seeds,
    columns = alpha (then DDPG and SAC). One figure per profile."""
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
        traces = {
            r.run: pd.read_csv(Path(root) / r.run / layout.ARTIFACTS / TRACES) for r in runs.itertuples()
        }
        extent = max(3.0, max(float(np.abs(t[["x", "y"]].to_numpy()).max()) for t in traces.values()) * 1.05)
        fig = new_figure(2.4 * len(columns), 2.4 * len(seeds) + 0.9)
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
        suptitle_with_caption(
            fig,
            f"Ant pretraining: traces of {N_TRACES} rollouts of the policy as it acts, "
            "from the origin (Fig. 7)",
            part,
        )
        name = "pretrain_fig7_com_traces" + ("" if len(profiles) == 1 else f"__{slug(prof)}")
        paths += save_figure(fig, Path(out_dir) / name, formats)
    return paths
