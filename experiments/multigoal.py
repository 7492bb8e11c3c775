"""Multi-goal (paper Sec. 5.1): the per-run data Fig. 1 needs, and Fig. 1 itself.

Per finished run, ``artifacts/`` holds
- ``rollouts.csv``: 20 rollouts of the policy as it acts, from the origin (rollout, t, x, y);
- ``q_values.csv``: Q(s, a) on a grid over the action square at the paper's three states;
- ``action_samples.csv``: 100 actions of the policy as it acts at each of those states.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.algorithms import ALGORITHMS
from experiments.evaluation import EVALUATION, derived_seed, rollout
from experiments.models import q_values
from softq.envs.multigoal import GOAL_RADIUS, GOALS, POSITION_BOUND, multigoal_reward_surface

Q_PLOT_STATES = np.array([[-2.5, 0.0], [0.0, 0.0], [2.5, 2.5]])  # [C18] plotter; the text says (-2, 0)
N_ROLLOUTS = 20
N_ACTION_SAMPLES = 100  # [C18] QFPolicyPlotter
GRID = 31
ARTIFACT_SEED_KEY = 10**6  # derived seeds for artifacts never collide with per-epoch evaluation seeds


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    run_seed = int(model.seed or 0)
    rows = []
    for i in range(N_ROLLOUTS):
        seed = derived_seed(run_seed, EVALUATION, ARTIFACT_SEED_KEY, i)
        episode = rollout(model, env, deterministic=False, seed=seed, options={"position": (0.0, 0.0)})
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    pd.DataFrame(rows, columns=["rollout", "t", "x", "y"]).to_csv(folder / "rollouts.csv", index=False)

    axis = np.linspace(-1.0, 1.0, GRID)
    grid = np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)
    q_frames, sample_frames = [], []
    for index, state in enumerate(Q_PLOT_STATES):
        q = q_values(model, np.repeat(state[None], len(grid), axis=0), grid)
        q_frames.append(pd.DataFrame({"state": index, "action_x": grid[:, 0], "action_y": grid[:, 1], "q": q}))
        obs = np.repeat(state[None].astype(np.float32), N_ACTION_SAMPLES, axis=0)
        actions, _ = model.predict(obs, deterministic=False)
        sample_frames.append(pd.DataFrame({"state": index, "action_x": actions[:, 0], "action_y": actions[:, 1]}))
    pd.concat(q_frames).to_csv(folder / "q_values.csv", index=False, float_format="%.6g")
    pd.concat(sample_frames).to_csv(folder / "action_samples.csv", index=False, float_format="%.6g")


def figure_1(root: Path, out_dir: Path, profile: str | None = None) -> list[Path]:
    """Fig. 1: rows = algorithms; left, rollouts from the origin (all seeds) over the reward's level
    curves with the goals; right, Q contours over the action square at three states with the policy's
    sampled actions (first seed)."""
    from experiments.analysis.aggregate import load_runs
    from experiments.analysis.plots import algo_colours, caption, save_figure

    df, _ = load_runs(root)
    df = df[df["experiment"] == "multigoal"]
    if profile is not None:
        df = df[df["profile"] == profile]
    if df.empty:
        return []
    runs = df.drop_duplicates(["algo", "seed"])[["algo", "env", "seed"]].sort_values(["algo", "seed"])
    algos = [a for a in ALGORITHMS if a in set(runs["algo"])]
    colours = algo_colours(algos)
    fig = Figure(figsize=(12, 3 * len(algos)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(algos), 4, squeeze=False)
    xs = np.linspace(-POSITION_BOUND, POSITION_BOUND, 200)
    surface = multigoal_reward_surface(np.stack(np.meshgrid(xs, xs), axis=-1))
    for row, algo in enumerate(algos):
        folders = [layout.run_dir(root, "multigoal", r.env, algo, r.seed) / layout.ARTIFACTS for r in runs[runs["algo"] == algo].itertuples()]
        ax = axes[row, 0]
        ax.contour(xs, xs, surface, levels=15, colors="0.75", linewidths=0.6)
        for folder in folders:
            for _, path in pd.read_csv(folder / "rollouts.csv").groupby("rollout"):
                ax.plot(path["x"], path["y"], color=colours[algo], linewidth=0.6, alpha=0.6)
        ax.scatter(GOALS[:, 0], GOALS[:, 1], color="red", s=25, zorder=3)
        for goal in GOALS:
            ax.add_patch(_circle(goal))
        ax.set(xlim=(-POSITION_BOUND, POSITION_BOUND), ylim=(-POSITION_BOUND, POSITION_BOUND), aspect="equal")
        ax.set_ylabel(f"{algo}\ny")
        ax.set_title(f"rollouts from the origin ({len(folders)} seeds)" if row == 0 else "", fontsize=9)
        q_grid = pd.read_csv(folders[0] / "q_values.csv")
        samples = pd.read_csv(folders[0] / "action_samples.csv")
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
    return save_figure(fig, Path(out_dir) / "multigoal_fig1")


def _circle(centre):
    from matplotlib.patches import Circle

    return Circle(tuple(centre), GOAL_RADIUS, fill=False, color="red", linewidth=0.6)
