"""Composition, training side: the constituents' weights, and the composed policy's evaluation runs
(:func:`finalize`; see the package)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    task = load_task(NAME)
    cfg = settings(profile)
    env_a, env_b = cfg["constituents"]
    shared_goal = GOAL_NAMES[goal_indices([cfg["shared_goal"]])[0]]
    composition = _Composition(Path(root), profile, cfg, (env_a, env_b), shared_goal)
    return [
        composition.finalize_seed(seed)
        for seed in (seeds if seeds is not None else task.budget(profile).seeds)
    ]


@dataclass(frozen=True)
class _Constituents:
    """One seed's finished constituent runs, A then B."""

    seed: int
    folders: list[RunFolder]
    manifests: list[dict[str, Any]]


@dataclass(frozen=True)
class _Composition:
    """What one :func:`finalize` call evaluates: the profile's composition settings (``cfg``)."""

    root: Path
    profile: str
    cfg: dict[str, Any]
    constituent_envs: tuple[str, str]
    shared_goal: str  # the name of the goal both constituents' tasks reward

    def finalize_seed(self, seed: int) -> str:
        """Evaluate one seed's constituents and their composition, unless done before or not possible;
        the seed's line for the CLI."""
        out = {label: RunFolder.of(self.root, NAME, self.cfg["eval_env"], label, seed) for label in LABELS}
        manifests = [folder.read_manifest() for folder in out.values()]  # all of them: a corrupt one raises
        if all(m is not None and m["status"] == layout.FINISHED for m in manifests):
            return f"skipped   composition seed {seed} (evaluated before)"
        algo = self.cfg["algo"]
        folders = [RunFolder.of(self.root, NAME, env, algo, seed) for env in self.constituent_envs]
        source_manifests = [folder.read_manifest() for folder in folders]
        missing = [
            str(folder.path)
            for folder, m in zip(folders, source_manifests, strict=True)
            if m is None
            or m["status"] != layout.FINISHED
            or m["profile"] != self.profile
            or not (folder.artifacts / layout.WEIGHTS).exists()
        ]
        if missing:
            return (
                f"missing   composition seed {seed}: constituent run(s) not finished "
                f"at profile {self.profile}: {missing}"
            )
        shared = self._evaluate(_Constituents(seed, folders, source_manifests), out)
        summary = ", ".join(f"{label} {shared[label]:.2f}" for label in LABELS)
        return f"finished  composition seed {seed}: fraction of rollouts at the shared goal: {summary}"

    def _evaluate(self, constituents: _Constituents, out: dict[str, RunFolder]) -> dict[str, float]:
        """Compose the constituents and write the evaluation runs of A, B and the composed policy into
        ``out``; the fraction of each one's rollouts that end at the shared goal."""
        seed = constituents.seed
        started = time.perf_counter()
        policies = [load_policy(folder.artifacts / layout.WEIGHTS) for folder in constituents.folders]
        composed = compose(
            [p.qf for p in policies],
            policies[0].observation_space,
            policies[0].action_space,
            state_grid(),
            seed=derived_seed(seed, EVALUATION, ARTIFACT_SEED_KEY, 0),
            **self.cfg["fit"],
        )
        fit_time = time.perf_counter() - started
        steps = [int(m["budget"]["total_steps"]) for m in constituents.manifests]
        env = gym.make(self.cfg["eval_env"])
        shared = {
            label: self._write_run(constituents, out[label], index, policy, step, env, fit_time)
            for index, (label, policy, step) in enumerate(
                zip(LABELS, [*policies, composed], [steps[0], steps[1], sum(steps)], strict=True)
            )
        }
        env.close()
        return shared

    def _write_run(
        self,
        constituents: _Constituents,
        folder: RunFolder,
        index: int,
        policy: Any,
        step: int,
        env: gym.Env,
        fit_time: float,
    ) -> float:
        """Evaluate the ``index``-th of A, B and composed into ``folder``; the fraction of its rollouts that
        end at the shared goal. The composed policy's wall time includes the fit (``fit_time``)."""
        label = LABELS[index]
        began = time.perf_counter()
        n_rollouts = int(self.cfg["rollouts"])
        seed = derived_seed(constituents.seed, EVALUATION, index)
        fractions, rollouts = goal_fractions(policy, env, n_rollouts, seed)
        folder.artifacts.mkdir(parents=True, exist_ok=True)
        rollouts.to_csv(folder.artifacts / ROLLOUTS, index=False, float_format="%.4f")
        wall = time.perf_counter() - began + (fit_time if label == "composed" else 0.0)
        shared = fractions[f"goal_fraction_{self.shared_goal}"]
        row = {
            layout.EPOCH: 1,
            layout.STEP: step,
            layout.WALL_TIME: round(wall, 3),
            "shared_goal_fraction": shared,
            **fractions,
        }
        folder.write_progress(row)
        folder.write_manifest(self._manifest(constituents, label, index, step, wall))
        return shared

    def _manifest(
        self, constituents: _Constituents, label: str, index: int, step: int, wall: float
    ) -> dict[str, Any]:
        """The manifest of ``label``'s evaluation run, the ``index``-th of A, B and composed."""
        composed = label == "composed"
        used = range(len(constituents.folders)) if composed else [index]
        return {
            "experiment": NAME,
            "algo": label,
            "env": self.cfg["eval_env"],
            "seed": constituents.seed,
            "profile": self.profile,
            "preset": constituents.manifests[0].get("preset"),
            "kind": "composition",
            "budget": {"steps_per_epoch": step, "n_epochs": 1, "total_steps": step},
            "composition": {
                "constituents": [str(constituents.folders[i].path.relative_to(self.root)) for i in used],
                "q_function": "(Q_A + Q_B) / 2" if composed else "the constituent's own",
                "fit": self.cfg["fit"] if composed else None,
                "fit_states": f"{GRID} x {GRID} grid over [-{POSITION_BOUND}, {POSITION_BOUND}]^2"
                if composed
                else None,
                "new_env_steps": 0,
                "eval_env": self.cfg["eval_env"],
                "rollouts": int(self.cfg["rollouts"]),
                "shared_goal": self.shared_goal,
                "constituent_git": [constituents.manifests[i].get("git") for i in used],
            },
            "git": git_state(),
            "versions": package_versions(),
            "hardware": hardware(),
            "status": layout.FINISHED,
            "started_at": now(),
            "finished_at": now(),
            "wall_time_s": round(wall, 1),
        }
