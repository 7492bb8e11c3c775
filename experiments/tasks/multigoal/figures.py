"""Multi-goal, figures: Fig. 1 from the finished runs' artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.patches import Circle

from experiments import layout
from experiments.analysis import fidelity
from experiments.analysis.aggregate import load_runs
from experiments.analysis.figure_specs import DEFAULT_FIGURE_FORMATS
from experiments.analysis.measures import action_bounding
from experiments.analysis.plots import algo_colours, caption, learner_order, new_figure, save_figure
from experiments.claims import RUN_LABELS
from experiments.run_files import read_manifest_file
from experiments.tasks.multigoal import ACTION_SAMPLES, Q_PLOT_STATES, Q_VALUES, ROLLOUTS
from softq.envs.multigoal import GOAL_RADIUS, GOALS, POSITION_BOUND, multigoal_reward_surface


def figure_1(
    root: Path, out_dir: Path, profile: str | None = None, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS
) -> list[Path]:
    """Fig. 1: rows = algorithms; left, rollouts from the origin (all seeds) over the reward's level
    curves with the goals; right, Q contours over the action square at three states with the policy's
    sampled actions (first seed)."""
    df, _ = load_runs(root)
    df = df[df["experiment"] == "multigoal"]
    if profile is not None:
        df = df[df["profile"] == profile]
    if df.empty:
        return []
    runs = df.drop_duplicates(["algo", "seed"])[["algo", "env", "seed"]].sort_values(["algo", "seed"])
    algos = learner_order(runs["algo"])
    colours = algo_colours(algos)
    fig = new_figure(12, 3 * len(algos))
    axes = fig.subplots(len(algos), 4, squeeze=False)
    xs = np.linspace(-POSITION_BOUND, POSITION_BOUND, 200)
    surface = multigoal_reward_surface(np.stack(np.meshgrid(xs, xs), axis=-1))
    for row, algo in enumerate(algos):
        folders = [
            layout.run_dir(root, "multigoal", r.env, algo, r.seed) / layout.ARTIFACTS
            for r in runs[runs["algo"] == algo].itertuples()
        ]
        ax = axes[row, 0]
        ax.contour(xs, xs, surface, levels=15, colors="0.75", linewidths=0.6)
        for folder in folders:
            for _, path in pd.read_csv(folder / ROLLOUTS).groupby("rollout"):
                ax.plot(path["x"], path["y"], color=colours[algo], linewidth=0.6, alpha=0.6)
        ax.scatter(GOALS[:, 0], GOALS[:, 1], color="red", s=25, zorder=3)
        for goal in GOALS:
            ax.add_patch(_circle(goal))
        ax.set(xlim=(-POSITION_BOUND, POSITION_BOUND), ylim=(-POSITION_BOUND, POSITION_BOUND), aspect="equal")
        ax.set_ylabel(f"{algo}\ny")
        ax.set_title(f"rollouts from the origin ({len(folders)} seeds)" if row == 0 else "", fontsize=9)
        q_grid = pd.read_csv(folders[0] / Q_VALUES)
        samples = pd.read_csv(folders[0] / ACTION_SAMPLES)
        for column, state in enumerate(Q_PLOT_STATES, start=1):
            ax = axes[row, column]
            q = q_grid[q_grid["state"] == column - 1].pivot(index="action_y", columns="action_x", values="q")
            ax.contourf(q.columns, q.index, q.values, levels=20, cmap="coolwarm")
            s = samples[samples["state"] == column - 1]
            ax.scatter(s["action_x"], s["action_y"], marker="*", s=12, color="navy")
            ax.set(xlim=(-1, 1), ylim=(-1, 1), aspect="equal")
            if row == 0:
                ax.set_title(f"Q(s, .) at s = ({state[0]:g}, {state[1]:g})", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("x" if ax is axes[-1, 0] else "action x")
    fig.suptitle("Multi-goal (paper Fig. 1). " + caption(df), fontsize=8)
    return save_figure(fig, Path(out_dir) / "multigoal_fig1", formats)


def sampler_fidelity_figure(
    root: Path, out_dir: Path, profile: str | None = None, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS
) -> list[Path]:
    """Does the sampler draw from exp(Q)? For the first seed of each SQL label (one per action bounding),
    at each Q-plot state: contours of exp(Q) (the paper's policy) and of the label's own SVGD target
    (squash: exp(Q) prod_d (1 - a_d^2); clip: exp(Q) on the box) with the sampler's 100 actions on both."""
    df, _ = load_runs(root)
    df = df[(df["experiment"] == "multigoal") & df["algo"].isin(RUN_LABELS["sql"])]
    if profile is not None:
        df = df[df["profile"] == profile]
    if df.empty:
        return []
    firsts = df.sort_values("seed").drop_duplicates("algo")[["algo", "env", "seed"]]
    labels = learner_order(firsts["algo"])
    fig = new_figure(13, 2.6 * len(labels))
    axes = fig.subplots(len(labels), 2 * len(Q_PLOT_STATES), squeeze=False)
    for row, label in enumerate(labels):
        run = firsts[firsts["algo"] == label].iloc[0]
        folder = layout.run_dir(root, "multigoal", run.env, label, run.seed)
        manifest, _ = read_manifest_file(folder / layout.MANIFEST, required=())
        scheme = action_bounding(manifest or {})
        q_grid = pd.read_csv(folder / layout.ARTIFACTS / Q_VALUES)
        samples = pd.read_csv(folder / layout.ARTIFACTS / ACTION_SAMPLES)
        for index, state in enumerate(Q_PLOT_STATES):
            q = q_grid[q_grid["state"] == index].pivot(index="action_y", columns="action_x", values="q")
            targets = fidelity.target_densities(q.columns.to_numpy(float), q.to_numpy(float))
            own = targets["squash"] if scheme == "squash" else targets["exp_q"]
            s = samples[samples["state"] == index]
            panels = ((targets["exp_q"], "exp(Q)"), (own, f"{scheme} target"))
            for offset, (target, name) in enumerate(panels):
                ax = axes[row, 2 * index + offset]
                density = target.density / target.density.max()
                ax.contourf(q.columns, q.index, density, levels=12, cmap="Blues")
                ax.scatter(s["action_x"], s["action_y"], marker=".", s=8, color="crimson")
                ax.set(xlim=(-1, 1), ylim=(-1, 1), aspect="equal", xticks=[], yticks=[])
                ax.set_title(f"{name}, s = ({state[0]:g}, {state[1]:g})", fontsize=7)
        axes[row, 0].set_ylabel(f"{label} ({scheme})\nseed {run.seed}", fontsize=8)
    fig.suptitle(
        "Multi-goal: the sampler's 100 actions (red) on exp(Q), the paper's policy, and on the SVGD target "
        "its action bounding defines. " + caption(df),
        fontsize=8,
    )
    return save_figure(fig, Path(out_dir) / "multigoal_sampler_fidelity", formats)


def _circle(centre) -> Circle:
    return Circle(tuple(centre), GOAL_RADIUS, fill=False, color="red", linewidth=0.6)
