"""Composition, figures: the rollouts of A, B and the composed policy over their tasks' reward surfaces."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
from matplotlib.patches import Circle

from experiments import layout
from experiments.analysis.aggregate import load_runs
from experiments.analysis.figure_specs import DEFAULT_FIGURE_FORMATS
from experiments.analysis.plots import new_figure, save_figure, slug, suptitle_with_caption
from experiments.tasks.composition import LABELS, NAME, ROLLOUTS, settings
from softq.envs.multigoal import GOAL_RADIUS, GOALS, POSITION_BOUND, goal_indices, subset_reward_surface


def figure(
    root: Path, out_dir: Path, profile: str | None = None, formats: Sequence[str] = DEFAULT_FIGURE_FORMATS
) -> list[Path]:
    """Rollouts from the origin of A, B and the composed policy (all seeds), over the level curves of the
    position reward of A, B and the composed task, with the fraction ending at the shared goal."""
    df, _ = load_runs(root)
    df = df[(df["experiment"] == NAME) & df["algo"].isin(LABELS)]
    profiles = [profile] if profile is not None else sorted(df["profile"].unique())
    paths: list[Path] = []
    xs = np.linspace(-POSITION_BOUND, POSITION_BOUND, 200)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1)
    for prof in profiles:
        part = df[df["profile"] == prof]
        if part.empty:
            continue
        cfg = settings(prof)
        subsets = [gym.spec(env_id).kwargs["goals"] for env_id in cfg["constituents"]]
        surfaces = [subset_reward_surface(grid, s) for s in subsets]
        surfaces.append((surfaces[0] + surfaces[1]) / 2)
        rewarded = [goal_indices(s) for s in subsets]
        rewarded.append(tuple(sorted(set(rewarded[0]) | set(rewarded[1]))))
        titles = [
            f"A: goals {', '.join(subsets[0])}",
            f"B: goals {', '.join(subsets[1])}",
            "composed: (Q_A + Q_B) / 2",
        ]
        fig = new_figure(12.0, 5.2)
        axes = fig.subplots(1, 3)
        for ax, label, surface, goals, title in zip(axes, LABELS, surfaces, rewarded, titles, strict=True):
            runs = part[part["algo"] == label].drop_duplicates("seed")
            ax.contour(xs, xs, surface, levels=15, colors="0.75", linewidths=0.6)
            for r in runs.itertuples():
                path = Path(root) / r.run / layout.ARTIFACTS / ROLLOUTS
                if path.exists():
                    for _, trace in pd.read_csv(path).groupby("rollout"):
                        ax.plot(trace["x"], trace["y"], color="tab:blue", linewidth=0.5, alpha=0.4)
            for g, centre in enumerate(GOALS):
                colour = "red" if g in goals else "0.6"
                ax.add_patch(Circle(tuple(centre), GOAL_RADIUS, fill=False, color=colour, linewidth=0.8))
            fraction = runs["shared_goal_fraction"]
            # mean +- sample std (ddof 1), as the tables
            ax.set_title(
                f"{title}\nat the shared goal: "
                f"{fraction.mean():.2f} +- {fraction.std(ddof=1):.2f} (n={len(runs)})",
                fontsize=8,
            )
            ax.set(
                xlim=(-POSITION_BOUND, POSITION_BOUND), ylim=(-POSITION_BOUND, POSITION_BOUND), aspect="equal"
            )
            ax.set_xlabel("x")
        axes[0].set_ylabel("y")
        suptitle_with_caption(
            fig,
            "Composition on multi-goal sub-tasks: rollouts from the origin of the policies as they act "
            "(red circles: goals rewarded)",
            part,
        )
        name = "composition_rollouts" + ("" if len(profiles) == 1 else f"__{slug(prof)}")
        paths += save_figure(fig, Path(out_dir) / name, formats)
    return paths
