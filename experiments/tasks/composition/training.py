"""Composition, training side: the constituents' weights, and the composed policy's evaluation runs
(:func:`finalize`; see the package)."""

from __future__ import annotations

import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.config import load_task
from experiments.evaluation import EVALUATION, derived_seed, rollout
from experiments.models import load_policy, save_weights
from experiments.provenance import git_state, hardware, package_versions
from experiments.run_folder import RunFolder, now
from experiments.tasks.composition import GRID, LABELS, NAME, ROLLOUTS, settings
from softq.composition import compose
from softq.envs.multigoal import GOAL_NAMES, POSITION_BOUND, goal_indices

ARTIFACT_SEED_KEY = 2 * 10**6


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    save_weights(model, folder / layout.WEIGHTS)


def state_grid(n: int = GRID) -> np.ndarray:
    axis = np.linspace(-POSITION_BOUND, POSITION_BOUND, n, dtype=np.float32)
    return np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)


def goal_fractions(policy, env: gym.Env, n_rollouts: int, seed: int) -> tuple[dict[str, float], pd.DataFrame]:
    """Fractions of ``n_rollouts`` rollouts from the origin (policy as it acts) ending at each goal, and
    the rollouts as a table (rollout, t, x, y)."""
    ends, rows = [], []
    for i in range(n_rollouts):
        episode = rollout(
            policy,
            env,
            deterministic=False,
            seed=derived_seed(seed, EVALUATION, ARTIFACT_SEED_KEY, i),
            options={"position": (0.0, 0.0)},
        )
        ends.append(episode.infos[-1]["goal"])
        rows += [(i, t, float(obs[0]), float(obs[1])) for t, obs in enumerate(episode.observations)]
    fractions = {
        f"goal_fraction_{name}": float(np.mean([e == g for e in ends])) for g, name in enumerate(GOAL_NAMES)
    }
    fractions["no_goal_fraction"] = float(np.mean([e == -1 for e in ends]))
    return fractions, pd.DataFrame(rows, columns=["rollout", "t", "x", "y"])


def finalize(root: str | Path, profile: str, seeds: list[int] | None = None) -> list[str]:
    """Compose the finished constituents of each seed and write the evaluation runs (see module docstring).

    Seeds whose evaluation runs are all finished are skipped; seeds whose constituents are not both
    finished are reported and skipped. Returns one line per seed for the CLI.
    """
    th.set_num_threads(1)  # as every run: one thread per process (oversubscribed threads run ~10x slower)
    root = Path(root)
    task = load_task(NAME)
    cfg = settings(profile)
    env_a, env_b = cfg["constituents"]
    algo, eval_env_id = cfg["algo"], cfg["eval_env"]
    shared = goal_indices([cfg["shared_goal"]])[0]
    lines = []
    for seed in seeds if seeds is not None else task.budget(profile).seeds:
        out = {label: RunFolder.of(root, NAME, eval_env_id, label, seed) for label in LABELS}
        manifests = [folder.read_manifest() for folder in out.values()]
        if all(m is not None and m["status"] == layout.FINISHED for m in manifests):
            lines.append(f"skipped   composition seed {seed} (evaluated before)")
            continue
        sources = [RunFolder.of(root, NAME, env, algo, seed) for env in (env_a, env_b)]
        source_manifests = [folder.read_manifest() for folder in sources]
        missing = [
            str(folder.path)
            for folder, m in zip(sources, source_manifests, strict=True)
            if m is None
            or m["status"] != layout.FINISHED
            or m["profile"] != profile
            or not (folder.artifacts / layout.WEIGHTS).exists()
        ]
        if missing:
            lines.append(
                f"missing   composition seed {seed}: constituent run(s) not finished "
                f"at profile {profile}: {missing}"
            )
            continue
        started = time.perf_counter()
        constituents = [load_policy(folder.artifacts / layout.WEIGHTS) for folder in sources]
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
            fractions, rollouts = goal_fractions(
                policy, env, int(cfg["rollouts"]), derived_seed(seed, EVALUATION, index)
            )
            folder = out[label]
            folder.artifacts.mkdir(parents=True, exist_ok=True)
            rollouts.to_csv(folder.artifacts / ROLLOUTS, index=False, float_format="%.4f")
            wall = time.perf_counter() - began + (fit_time if label == "composed" else 0.0)
            row = {
                layout.EPOCH: 1,
                layout.STEP: step,
                layout.WALL_TIME: round(wall, 3),
                "shared_goal_fraction": fractions[f"goal_fraction_{GOAL_NAMES[shared]}"],
                **fractions,
            }
            folder.write_progress(row)
            folder.write_manifest(
                {
                    "experiment": NAME,
                    "algo": label,
                    "env": eval_env_id,
                    "seed": seed,
                    "profile": profile,
                    "preset": source_manifests[0].get("preset"),
                    "kind": "composition",
                    "budget": {"steps_per_epoch": step, "n_epochs": 1, "total_steps": step},
                    "composition": {
                        "constituents": [str(f.path.relative_to(root)) for f in sources]
                        if label == "composed"
                        else [str(sources[index].path.relative_to(root))],
                        "q_function": "(Q_A + Q_B) / 2" if label == "composed" else "the constituent's own",
                        "fit": cfg["fit"] if label == "composed" else None,
                        "fit_states": f"{GRID} x {GRID} grid over [-{POSITION_BOUND}, {POSITION_BOUND}]^2"
                        if label == "composed"
                        else None,
                        "new_env_steps": 0,
                        "eval_env": eval_env_id,
                        "rollouts": int(cfg["rollouts"]),
                        "shared_goal": GOAL_NAMES[shared],
                        "constituent_git": [m.get("git") for m in source_manifests]
                        if label == "composed"
                        else [source_manifests[index].get("git")],
                    },
                    "git": git_state(),
                    "versions": package_versions(),
                    "hardware": hardware(),
                    "status": layout.FINISHED,
                    "started_at": now(),
                    "finished_at": now(),
                    "wall_time_s": round(wall, 1),
                }
            )
        env.close()
        summary = ", ".join(
            f"{label} {pd.read_csv(out[label].progress_path)['shared_goal_fraction'].iloc[0]:.2f}"
            for label in LABELS
        )
        lines.append(f"finished  composition seed {seed}: fraction of rollouts at the shared goal: {summary}")
    return lines
