"""Measurements behind the swimmer finish line (softq/envs/swimmer.py: FINISH_LINE_X, FINISH_BONUS).

1. Max torso x per 500-step episode under uniform random actions and under Ornstein-Uhlenbeck noise
   (DDPG's exploration): the finish line must lie beyond what these reach.
2. Open-loop travelling waves a = clip(A sin(w t), A sin(w t + phi)) on the two joints: a plausible forward
   speed, the step at which the best one crosses the line, and forward vs backward returns.

About 40 s of one CPU core with the defaults. Usage:
python experiments/measurements/swimmer_finish_line.py [--episodes N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from softq.envs.swimmer import FINISH_LINE_X, HORIZON, SwimmerFinishLineEnv


def max_x_random(env: SwimmerFinishLineEnv, episodes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(episodes)
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        xs = [env.step(rng.uniform(-1, 1, 2))[4]["x_position"] for _ in range(HORIZON)]
        out[ep] = max(xs)
    return out


def max_x_ou(env: SwimmerFinishLineEnv, episodes: int, seed: int, dt: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(episodes)
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        noise, best = np.zeros(2), -np.inf
        for _ in range(HORIZON):
            noise = noise - 0.15 * noise * dt + 0.3 * np.sqrt(dt) * rng.standard_normal(2)
            best = max(best, env.step(np.clip(noise, -1, 1))[4]["x_position"])
        out[ep] = best
    return out


def gait(env: SwimmerFinishLineEnv, freq: float, phase: float, amp: float) -> dict[str, float]:
    env.reset(seed=0)
    x0 = env.unwrapped.data.qpos[0]
    xs, ret, abs_v = [], 0.0, 0.0
    for t in range(HORIZON):
        w = 2 * np.pi * freq * t * env.dt
        _, r, _, _, info = env.step(np.clip(amp * np.array([np.sin(w), np.sin(w + phase)]), -1, 1))
        xs.append(info["x_position"])
        ret += r
        abs_v += info["reward_forward"]
    xs = np.array(xs)
    beyond = np.flatnonzero(xs > FINISH_LINE_X)
    return {
        "freq": freq,
        "phase": phase,
        "amp": amp,
        "displacement": xs[-1] - x0,
        "late_speed": (xs[-1] - xs[HORIZON // 2 - 1]) / (HORIZON // 2 * env.dt),
        "abs_v_return": abs_v,
        "return": ret,
        "first_step_beyond": int(beyond[0]) + 1 if beyond.size else -1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000, help="uniform random episodes")
    args = parser.parse_args()
    env = SwimmerFinishLineEnv()
    q = [0.5, 0.9, 0.99, 0.999, 1.0]

    t0 = time.perf_counter()
    mx = max_x_random(env, args.episodes, seed=1000)
    secs = time.perf_counter() - t0
    print(f"raw step rate: {args.episodes * HORIZON / secs:.0f} steps/s")
    print(f"uniform random, {args.episodes} episodes: max x quantiles {q} = {np.quantile(mx, q).round(3)}")
    print(f"  P(max x > {FINISH_LINE_X}) = {(mx > FINISH_LINE_X).mean():.4f}")
    for dt in (1e-2, 1.0):
        mo = max_x_ou(env, 200, seed=5000, dt=dt)
        print(
            f"OU noise (theta .15, sigma .3, dt {dt}), 200 episodes: max x q50/q99/max = "
            f"{np.quantile(mo, [0.5, 0.99, 1.0]).round(3)}"
        )

    sweep = [gait(env, f, p, a) for f in (0.3, 0.4, 0.5, 0.6) for p in (-1.0, -0.8, -0.6) for a in (1.0, 3.0)]
    best = max(sweep, key=lambda g: g["displacement"])
    print("best forward open-loop gait:", {k: round(v, 3) for k, v in best.items()})
    back = gait(env, best["freq"], -best["phase"], best["amp"])
    print("same wave, phase negated (swims backward):", {k: round(v, 3) for k, v in back.items()})
    abs_v = []
    for ep in range(20):
        rng = np.random.default_rng(ep)
        env.reset(seed=ep)
        abs_v.append(sum(env.step(rng.uniform(-1, 1, 2))[4]["reward_forward"] for _ in range(HORIZON)))
    rand_abs_v = float(np.mean(abs_v))
    print(f"uniform random |v_x| return per episode (20 episodes): {rand_abs_v:.1f}")


if __name__ == "__main__":
    main()
