"""Composing maximum-entropy policies (beyond the paper; Haarnoja et al., ICRA 2018) on multi-goal sub-tasks.

Two SQL constituents train as ordinary runs on two sub-tasks of the multi-goal env that share one goal:
A = ``softq/MultiGoalRightUp-v0`` (goals right and up rewarded) and B = ``softq/MultiGoalUpLeft-v0`` (up
and left). Each finished constituent writes its weights (``artifacts/model.zip``). Then :func:`finalize`
(run by ``python -m experiments run|reproduce composition`` after the runs) builds, per seed, the
composed policy for exp((Q_A + Q_B) / 2) with :func:`softq.composition.compose`: a fresh sampler fitted
by amortized SVGD on a grid of states, with no new environment samples. The composed task's reward,
(r_A + r_B) / 2, is highest at the shared goal (up).

Evaluation: :data:`N_ROLLOUTS` rollouts from the origin of each of A, B and the composed policy as they
act, in ``softq/MultiGoal-v0`` (every goal ends an episode), and the fraction ending at each goal. Each is
written as a one-row "evaluation run" ``runs/composition/softq-MultiGoal-v0/<label>/seed_<k>/``
(labels :data:`LABELS`) with ``progress.csv`` (columns ``shared_goal_fraction``, ``goal_fraction_<name>``,
``no_goal_fraction``; ``step`` = the environment steps behind the policy: its own run's, or both
constituents' for the composed one), ``manifest.json`` (``kind: composition``; the commit, package versions and
hardware of the evaluation, and the commits the constituents trained at) and ``artifacts/rollouts.csv``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.evaluation import EVALUATION, derived_seed, rollout
from experiments.models import load_policy, save_weights
from experiments.provenance import git_state, hardware, package_versions
from softq.composition import compose
from softq.envs.multigoal import (
    GOAL_NAMES,
    GOAL_RADIUS,
    GOALS,
    POSITION_BOUND,
    goal_indices,
    subset_reward_surface,
)

EXPERIMENT = "composition"
LABELS = ("constituent_a", "constituent_b", "composed")
N_ROLLOUTS = 50
GRID = 57  # fit states: a 57 x 57 grid over the position box (0.25 m apart)
ROLLOUTS = "rollouts.csv"
ARTIFACT_SEED_KEY = 2 * 10**6


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    save_weights(model, folder / layout.WEIGHTS)


def settings(profile: str) -> dict[str, Any]:
    """The task file's ``composition`` section, with the fit's per-profile update count resolved."""
    from experiments.registry import get_experiment

    section = dict(get_experiment(EXPERIMENT).config.sections["composition"])
    fit = dict(section["fit"])
    updates = fit.pop("n_updates")
    fit["n_updates"] = int(updates[profile] if isinstance(updates, dict) else updates)
    section["fit"] = fit
    return section


def state_grid(n: int = GRID) -> np.ndarray:
    axis = np.linspace(-POSITION_BOUND, POSITION_BOUND, n, dtype=np.float32)
    return np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)


def goal_fractions(policy, env: gym.Env, n_rollouts: int, seed: int) -> tuple[dict[str, float], pd.DataFrame]:
    """Fractions of ``n_rollouts`` rollouts from the origin (policy as it acts) ending at each goal, and
    the rollouts as a table (rollout, t, x, y)."""
    ends, rows = [], []
    for i in range(n_rollouts):
        episode = rollout(policy, env, deterministic=False, seed=derived_seed(seed, EVALUATION, ARTIFACT_SEED_KEY, i),
                          options={"position": (0.0, 0.0)})
        ends.append(episode.infos[-1]["goal"])
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    fractions = {f"goal_fraction_{name}": float(np.mean([e == g for e in ends])) for g, name in enumerate(GOAL_NAMES)}
    fractions["no_goal_fraction"] = float(np.mean([e == -1 for e in ends]))
    return fractions, pd.DataFrame(rows, columns=["rollout", "t", "x", "y"])


def finalize(root: str | Path, profile: str, seeds: list[int] | None = None) -> list[str]:
    """Compose the finished constituents of each seed and write the evaluation runs (see module docstring).

    Seeds whose evaluation runs are all finished are skipped; seeds whose constituents are not both
    finished are reported and skipped. Returns one line per seed for the CLI.
    """
    from experiments.registry import get_experiment
    from experiments.runner import _atomic_write_text, _now, read_manifest, write_manifest

    th.set_num_threads(1)  # as every run: one thread per process (oversubscribed threads run ~10x slower)
    root = Path(root)
    task = get_experiment(EXPERIMENT).config
    cfg = settings(profile)
    env_a, env_b = cfg["constituents"]
    algo, eval_env_id = cfg["algo"], cfg["eval_env"]
    shared = goal_indices([cfg["shared_goal"]])[0]
    lines = []
    for seed in seeds if seeds is not None else task.budget(profile).seeds:
        out = {label: layout.run_dir(root, EXPERIMENT, eval_env_id, label, seed) for label in LABELS}
        manifests = [read_manifest(folder) for folder in out.values()]
        if all(m is not None and m["status"] == layout.STATUS_FINISHED for m in manifests):
            lines.append(f"skipped   composition seed {seed} (evaluated before)")
            continue
        sources = [layout.run_dir(root, EXPERIMENT, env, algo, seed) for env in (env_a, env_b)]
        source_manifests = [read_manifest(folder) for folder in sources]
        missing = [
            str(folder) for folder, m in zip(sources, source_manifests, strict=True)
            if m is None or m["status"] != layout.STATUS_FINISHED or m["profile"] != profile
            or not (folder / layout.ARTIFACTS / layout.WEIGHTS).exists()
        ]
        if missing:
            lines.append(f"missing   composition seed {seed}: constituent run(s) not finished at profile {profile}: {missing}")
            continue
        started = time.perf_counter()
        constituents = [load_policy(folder / layout.ARTIFACTS / layout.WEIGHTS) for folder in sources]
        composed = compose(
            [p.qf for p in constituents],
            constituents[0].observation_space,
            constituents[0].action_space,
            state_grid(),
            seed=derived_seed(seed, EVALUATION, ARTIFACT_SEED_KEY, 0),
            **cfg["fit"],
        )
        fit_time = time.perf_counter() - started
        steps = [int(m["budget"]["total_steps"]) for m in source_manifests]
        env = gym.make(eval_env_id)
        for index, (label, policy, step) in enumerate(
            zip(LABELS, [*constituents, composed], [steps[0], steps[1], sum(steps)], strict=True)
        ):
            began = time.perf_counter()
            fractions, rollouts = goal_fractions(policy, env, int(cfg["rollouts"]), derived_seed(seed, EVALUATION, index))
            folder = out[label]
            (folder / layout.ARTIFACTS).mkdir(parents=True, exist_ok=True)
            rollouts.to_csv(folder / layout.ARTIFACTS / ROLLOUTS, index=False, float_format="%.4f")
            wall = time.perf_counter() - began + (fit_time if label == "composed" else 0.0)
            row = {layout.EPOCH: 1, layout.STEP: step, layout.WALL_TIME: round(wall, 3),
                   "shared_goal_fraction": fractions[f"goal_fraction_{GOAL_NAMES[shared]}"], **fractions}
            _atomic_write_text(folder / layout.PROGRESS, ",".join(row) + "\n" + ",".join(_cell(v) for v in row.values()) + "\n")
            write_manifest(folder, {
                "experiment": EXPERIMENT,
                "algo": label,
                "env": eval_env_id,
                "seed": seed,
                "profile": profile,
                "preset": source_manifests[0].get("preset"),
                "kind": "composition",
                "budget": {"steps_per_epoch": step, "n_epochs": 1, "total_steps": step},
                "composition": {
                    "constituents": [str(f.relative_to(root)) for f in sources] if label == "composed"
                    else [str(sources[index].relative_to(root))],
                    "q_function": "(Q_A + Q_B) / 2" if label == "composed" else "the constituent's own",
                    "fit": cfg["fit"] if label == "composed" else None,
                    "fit_states": f"{GRID} x {GRID} grid over [-{POSITION_BOUND}, {POSITION_BOUND}]^2" if label == "composed" else None,
                    "new_env_steps": 0,
                    "eval_env": eval_env_id,
                    "rollouts": int(cfg["rollouts"]),
                    "shared_goal": GOAL_NAMES[shared],
                    "constituent_git": [m.get("git") for m in source_manifests] if label == "composed"
                    else [source_manifests[index].get("git")],
                },
                "git": git_state(),
                "versions": package_versions(),
                "hardware": hardware(),
                "status": layout.STATUS_FINISHED,
                "started_at": _now(),
                "finished_at": _now(),
                "wall_time_s": round(wall, 1),
            })
        env.close()
        summary = ", ".join(
            f"{label} {pd.read_csv(out[label] / layout.PROGRESS)['shared_goal_fraction'].iloc[0]:.2f}" for label in LABELS
        )
        lines.append(f"finished  composition seed {seed}: fraction of rollouts at the shared goal: {summary}")
    return lines


def _cell(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float | np.floating) else str(value)


def figure(root: Path, out_dir: Path, profile: str | None = None) -> list[Path]:
    """Rollouts from the origin of A, B and the composed policy (all seeds), over the level curves of the
    position reward of A, B and the composed task, with the fraction ending at the shared goal."""
    from matplotlib.patches import Circle

    from experiments.analysis.aggregate import load_runs
    from experiments.analysis.plots import _new_figure, _slug, _title, save_figure

    df, _ = load_runs(root)
    df = df[(df["experiment"] == EXPERIMENT) & df["algo"].isin(LABELS)]
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
        titles = [f"A: goals {', '.join(subsets[0])}", f"B: goals {', '.join(subsets[1])}", "composed: (Q_A + Q_B) / 2"]
        fig = _new_figure(12.0, 5.2)
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
            ax.set_title(f"{title}\nat the shared goal: {fraction.mean():.2f} +- {fraction.std(ddof=1):.2f} (n={len(runs)})", fontsize=8)
            ax.set(xlim=(-POSITION_BOUND, POSITION_BOUND), ylim=(-POSITION_BOUND, POSITION_BOUND), aspect="equal")
            ax.set_xlabel("x")
        axes[0].set_ylabel("y")
        _title(fig, "Composition on multi-goal sub-tasks: rollouts from the origin of the policies as they act "
                    "(red circles: goals rewarded)", part)
        name = "composition_rollouts" + ("" if len(profiles) == 1 else f"__{_slug(prof)}")
        paths += save_figure(fig, Path(out_dir) / name)
    return paths
