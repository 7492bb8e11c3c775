"""The ant's velocity question: does the torso's speed (finite differences of qpos[0:2]), which the
retired softq/AntPretrain-v0 and hallway ids paid, differ from the speed of the ant's centre of mass (COM),
which rllab's ant pays (get_body_comvel("torso"): the root body's subtree, the whole ant) and the v1 ids
pay?

The swimmer's unsigned torso-frame reward paid for wiggling in place (ledger swimmer-torso-reward-retired),
so this measures the same for the ant, per step of softq/AntPretrain-v1 (the dynamics of v0 and v1 are the
same; only the reward differs), on

- every committed quick pretraining policy (results/runs/pretrain/*/<label>/seed_*/artifacts/model.zip:
  SQL at alpha 10, 1, 0.1, 0.01, DDPG and SAC), deployed (deterministic) and exploring (as it acts);
- uniform random actions, and the same scaled by 0.3 (random episodes bounce out of the healthy range
  early; scaled ones last 500 steps).

For each group: the per-step mean planar speed of the torso and of the COM, their ratio, and per episode
|net COM displacement| / COM path length (1: travels one way; near 0: moves back and forth in place).
The ledger entry ant-velocity records the numbers: first on the quick pretraining policies trained on
the torso's speed (at commit 390ed78, where they stood in results/), then on those trained on v1.
About 2 minutes of one CPU core.
Usage: python experiments/measurements/ant_velocity.py [--results results] [--episodes N]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import torch as th

import softq.envs  # noqa: F401  (registers the env ids)
from experiments.models import load_policy

ENV_ID = "softq/AntPretrain-v1"
Act = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def com_xy(env: gym.Env) -> np.ndarray:
    """The whole ant's centre of mass in the plane, at the current state (positions recomputed)."""
    base = env.unwrapped
    mujoco.mj_kinematics(base.model, base.data)  # positions only: the simulation is unchanged
    mujoco.mj_comPos(base.model, base.data)
    return base.data.subtree_com[base.model.body("torso").id, :2].copy()


def episode(env: gym.Env, act: Act, seed: int) -> dict[str, float]:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    base = env.unwrapped
    torso, com = [base.data.qpos[:2].copy()], [com_xy(env)]
    done = False
    while not done:
        obs, _, terminated, truncated, _ = env.step(act(obs, rng))
        torso.append(base.data.qpos[:2].copy())
        com.append(com_xy(env))
        done = terminated or truncated
    torso_steps = np.linalg.norm(np.diff(torso, axis=0), axis=1)
    com_steps = np.linalg.norm(np.diff(com, axis=0), axis=1)
    return {
        "steps": len(com_steps),
        "torso_speed": float(torso_steps.mean() / base.dt),
        "com_speed": float(com_steps.mean() / base.dt),
        "com_travel_ratio": float(np.linalg.norm(com[-1] - com[0]) / max(com_steps.sum(), 1e-12)),
    }


def policy_actor(path: Path, deterministic: bool) -> Act:
    policy = load_policy(path)

    def act(obs: np.ndarray, _: np.random.Generator) -> np.ndarray:
        with th.no_grad():
            action, _ = policy.predict(obs, deterministic=deterministic)
        return action

    return act


def report(label: str, rows: list[dict[str, float]]) -> None:
    torso = np.mean([r["torso_speed"] for r in rows])
    com = np.mean([r["com_speed"] for r in rows])
    ratios = [r["com_travel_ratio"] for r in rows]
    steps = np.mean([r["steps"] for r in rows])
    print(
        f"{label:34s} n={len(rows):2d} steps/ep {steps:5.0f}  torso {torso:.3f} m/s  COM {com:.3f} m/s  "
        f"torso/COM {torso / com:.3f}  COM |net|/path min {min(ratios):.2f} median {np.median(ratios):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="results root of the quick profile")
    parser.add_argument("--episodes", type=int, default=2, help="episodes per policy and mode")
    args = parser.parse_args()
    env = gym.make(ENV_ID)
    th.set_num_threads(1)
    for scale in (1.0, 0.3):
        rows = [episode(env, lambda _, rng, s=scale: s * rng.uniform(-1, 1, 8), seed) for seed in range(20)]
        report(f"uniform random x {scale:g}", rows)
    runs = sorted(Path(args.results, "runs", "pretrain").glob("*/*/seed_*/artifacts/model.zip"))
    for label in sorted({p.parts[-4] for p in runs}):
        for deterministic, mode in ((True, "deployed"), (False, "exploring")):
            rows = [
                episode(env, policy_actor(path, deterministic), 1000 + ep)
                for path in runs
                if path.parts[-4] == label
                for ep in range(args.episodes)
            ]
            report(f"{label} {mode}", rows)


if __name__ == "__main__":
    main()
