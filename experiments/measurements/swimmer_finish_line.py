"""Measurements behind the swimmer (softq/envs/swimmer.py: body, FINISH_LINE_X, FINISH_BONUS) and the
swimmer claims' distances (experiments/claims.py), on the centre of mass (COM) of the whole swimmer.

1. What degenerate policies earn, per step: standing still, uniform random actions, random bang-bang
   (+-1), a 10 Hz vibration and a 2.5 Hz sine, against the best travelling gait; COM |v_x| beside the
   torso frame's |v_x| (qpos[0]), the quantity the retired v0 reward paid.
2. How far undirected exploration gets: the max and min COM x per 500-step episode under uniform random
   actions and under Ornstein-Uhlenbeck noise (DDPG's exploration, SB3's dt = 1e-2 and dt = 1): the
   finish line and the "explored" distance must lie beyond these.
3. Open-loop travelling waves a = clip(A sin(w t), A sin(w t + phi)): the forward speed a gait gets, the
   step at which the best one crosses the line, and forward against backward returns.
4. The same statistics for gymnasium's Swimmer-v5 body, and each env's cost per step.

About 3 minutes of one CPU core with the defaults. Usage:
python experiments/measurements/swimmer_finish_line.py [--episodes N]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

from softq.envs.swimmer import FINISH_LINE_X, HORIZON, SwimmerFinishLineEnv

Policy = Callable[[int, np.random.Generator], np.ndarray]


def _com_x(env: gym.Env) -> float:
    base = env.unwrapped
    return float(base.data.subtree_com[base.model.body("torso").id, 0])


def trace(env: gym.Env, policy: Policy, seed: int) -> dict[str, np.ndarray]:
    """One 500-step episode: per-step COM x, torso-frame x, reward, and the reset's COM x as ``com0``."""
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    com0 = _com_x(env)
    out = {k: np.empty(HORIZON) for k in ("com_x", "torso_x", "reward")}
    for t in range(HORIZON):
        _, reward, _, _, _ = env.step(policy(t, rng))
        out["com_x"][t], out["torso_x"][t] = _com_x(env), float(env.unwrapped.data.qpos[0])
        out["reward"][t] = reward
    out["com0"] = np.array(com0)
    return out


def speeds(tr: dict[str, np.ndarray], dt: float) -> tuple[float, float]:
    """Per-step mean |v_x| of the COM and of the torso frame (finite differences over a step)."""
    com = np.diff(np.concatenate([[tr["com0"]], tr["com_x"]]))
    return float(np.abs(com).mean() / dt), float(np.abs(np.diff(tr["torso_x"])).mean() / dt)


def wave(freq: float, phase: float, amp: float, dt: float) -> Policy:
    def act(t: int, _: np.random.Generator) -> np.ndarray:
        w = 2 * np.pi * freq * t * dt
        return np.clip(amp * np.array([np.sin(w), np.sin(w + phase)]), -1, 1)

    return act


def ou(dt: float) -> Policy:
    state = {"noise": np.zeros(2)}

    def act(t: int, rng: np.random.Generator) -> np.ndarray:
        if t == 0:
            state["noise"] = np.zeros(2)
        noise = state["noise"]
        state["noise"] = noise - 0.15 * noise * dt + 0.3 * np.sqrt(dt) * rng.standard_normal(2)
        return np.clip(state["noise"], -1, 1)

    return act


def degenerate(dt: float) -> dict[str, Policy]:
    return {
        "still (a = 0)": lambda t, rng: np.zeros(2),
        "uniform random": lambda t, rng: rng.uniform(-1, 1, 2),
        "random bang-bang": lambda t, rng: rng.choice([-1.0, 1.0], 2),
        "10 Hz vibration": lambda t, rng: np.full(2, 1.0 if t % 2 == 0 else -1.0) * np.array([1, -1]),
        "2.5 Hz sine": wave(2.5, -0.5, 1.0, dt),
    }


def best_gait(env: gym.Env, dt: float) -> tuple[tuple[float, float, float], dict[str, np.ndarray]]:
    freqs, phases, amps = (0.2, 0.25, 0.3, 0.35, 0.4), (-1.2, -0.9, -0.6, -0.3), (1.0, 3.0)
    sweep = [(f, p, a) for f in freqs for p in phases for a in amps]
    traces = {g: trace(env, wave(*g, dt), seed=0) for g in sweep}
    best = max(traces, key=lambda g: traces[g]["com_x"][-1] - traces[g]["com0"])
    return best, traces[best]


def report(name: str, env: gym.Env, episodes: int) -> None:
    dt = env.unwrapped.dt
    print(f"\n=== {name}: dt {dt:g} s")
    start = time.perf_counter()
    for ep in range(20):
        trace(env, degenerate(dt)["uniform random"], seed=ep)
    cost = (time.perf_counter() - start) / (20 * HORIZON) * 1e3
    print(f"env cost: {cost:.3f} ms per step (gym.make, random)")

    (freq, phase, amp), gait_trace = best_gait(env, dt)
    gait_com, gait_torso = speeds(gait_trace, dt)
    travel = gait_trace["com_x"][-1] - gait_trace["com0"]
    print(
        f"best forward gait: {freq} Hz, phase {phase}, amplitude {amp}: COM travel {travel:.3f} m "
        f"({travel / (HORIZON * dt):.3f} m/s); per-step |v_x| COM {gait_com:.3f}, "
        f"torso frame {gait_torso:.3f}"
    )
    if isinstance(env.unwrapped, SwimmerFinishLineEnv):
        beyond = np.flatnonzero(gait_trace["com_x"] > FINISH_LINE_X)
        back = trace(env, wave(freq, -phase, amp, dt), seed=0)
        print(
            f"  crosses x = {FINISH_LINE_X} at step {beyond[0] + 1 if beyond.size else 'never'}; return "
            f"{gait_trace['reward'].sum():.2f} forward against {back['reward'].sum():.2f} for the mirrored "
            f"wave (COM travel {back['com_x'][-1] - back['com0']:.3f} m)"
        )
    print("degenerate policies, mean over 20 episodes (per step: COM |v_x|, torso-frame |v_x|, reward):")
    for label, policy in degenerate(dt).items():
        rows = [trace(env, policy, seed=ep) for ep in range(20)]
        com, torso = np.mean([speeds(r, dt) for r in rows], axis=0)
        net = np.mean([abs(r["com_x"][-1] - r["com0"]) for r in rows])
        print(
            f"  {label:18s} COM {com:.4f} ({com / gait_com:5.1%} of the gait), torso {torso:.4f}, "
            f"reward {np.mean([r['reward'].mean() for r in rows]):.4f}, |net COM travel| {net:.3f} m"
        )

    q = [0.5, 0.9, 0.99, 0.999, 1.0]
    rand = [trace(env, degenerate(dt)["uniform random"], seed=1000 + ep) for ep in range(episodes)]
    groups = {f"uniform random, {episodes} episodes": rand}
    for d in (1e-2, 1.0):
        groups[f"OU (theta .15, sigma .3, dt {d:g}), 200 episodes"] = [
            trace(env, ou(d), seed=5000 + ep) for ep in range(200)
        ]
    for label, rows in groups.items():
        hi = np.array([r["com_x"].max() for r in rows])
        lo = np.array([-r["com_x"].min() for r in rows])
        print(
            f"{label}: max COM x quantiles {q} = {np.quantile(hi, q).round(3)}; "
            f"farthest backward {lo.max():.3f} m"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000, help="uniform random episodes")
    args = parser.parse_args()
    report("softq/SwimmerFinishLine-v1 (rllab body)", gym.make("softq/SwimmerFinishLine-v1"), args.episodes)
    report("gymnasium Swimmer-v5", gym.make("Swimmer-v5"), args.episodes)


if __name__ == "__main__":
    import softq.envs  # noqa: F401  (registers the env ids)

    main()
