"""Per-step cost and random-policy behaviour of the ant tasks (softq/envs/ant.py docstring numbers).

For every registered ant task: raw ``env.unwrapped.step`` rate with uniform random actions (resetting on
termination), the random policy's episode lengths (it bounces out of the healthy z range), and the Gaussian
bump at a few landmark points of the mazes. About 20 s of one CPU core.
Usage: python experiments/measurements/ant_envs.py [--steps N]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import softq.envs  # noqa: F401  (registers the env ids)
from softq.envs.ant import ANTMAZE_THRESHOLD, GOAL_SIGMA, MAZE_TARGET, UMAZE_TARGET, gaussian_bump

ANT_IDS = tuple(env_id for env_id in gym.registry if env_id.startswith("softq/Ant"))


def step_rate(env_id: str, steps: int, seed: int = 0) -> float:
    env = gym.make(env_id).unwrapped
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        if env.step(rng.uniform(-1, 1, 8))[2]:
            env.reset()
    return steps / (time.perf_counter() - t0)


def episode_lengths(env_id: str, episodes: int, scale: float, seed: int = 0) -> np.ndarray:
    env = gym.make(env_id)
    rng = np.random.default_rng(seed)
    lengths = []
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        steps, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step(scale * rng.uniform(-1, 1, 8))
            steps, done = steps + 1, terminated or truncated
        lengths.append(steps)
    return np.array(lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000, help="random steps per task for the step rate")
    args = parser.parse_args()
    for env_id in ANT_IDS:
        print(f"{env_id:28s} {step_rate(env_id, args.steps):7.0f} steps/s (raw step, uniform random actions)")
    for scale in (1.0, 0.3):
        lengths = episode_lengths("softq/AntPretrain-v1", 40, scale)
        print(
            f"random actions x {scale}: episode length q10/q50/q90 = {np.quantile(lengths, [0.1, 0.5, 0.9])}"
        )
    print(f"two-passage maze threshold = {ANTMAZE_THRESHOLD:.4f} m; sigma = {GOAL_SIGMA} m")
    for label, xy, target in (
        ("maze start (0, 0)", (0.0, 0.0), MAZE_TARGET),
        ("maze passage entrance (2, 2.5)", (2.0, 2.5), MAZE_TARGET),
        ("maze mid passage (4, 2.5)", (4.0, 2.5), MAZE_TARGET),
        ("maze threshold corner (6, 1)", (6.0, 1.0), MAZE_TARGET),
        ("u-maze start (0, 0)", (0.0, 0.0), UMAZE_TARGET),
        ("u-maze below the inner wall (0, 1.5)", (0.0, 1.5), UMAZE_TARGET),
        ("u-maze far corner (6, 0)", (6.0, 0.0), UMAZE_TARGET),
    ):
        print(f"bump at {label:38s} {gaussian_bump(xy, target, GOAL_SIGMA):.4f}")


if __name__ == "__main__":
    main()
