"""softq/SwimmerFinishLine-v0: undirected |v_x| reward, forward-only finish line, info, action checks."""

import gymnasium as gym
import numpy as np
import pytest

import softq.envs  # noqa: F401  (registers the env ids)
from softq.envs.swimmer import (
    FINISH_BONUS,
    FINISH_LINE_X,
    SwimmerFinishLineEnv,
    crossed_finish_line,
    finish_line_bonus,
)

ENV_ID = "softq/SwimmerFinishLine-v0"
DT = 0.04  # Swimmer-v5: 4 frames of 0.01 s
CTRL_W = 1e-4


def _env_at(x: float, x_velocity: float = 0.0) -> SwimmerFinishLineEnv:
    """The swimmer straight, with its torso at x, sliding along x at x_velocity."""
    env = SwimmerFinishLineEnv()
    env.reset(seed=0)
    qpos, qvel = np.zeros(5), np.zeros(5)
    qpos[0], qvel[0] = x, x_velocity
    env.set_state(qpos, qvel)
    return env


def _gait(env: gym.Env, phase: float) -> tuple[float, list[dict]]:
    """Open-loop travelling wave (0.6 Hz); phase -1 swims forward, +1 backward."""
    env.reset(seed=0)
    total, infos = 0.0, []
    for t in range(500):
        w = 2 * np.pi * 0.6 * t * DT
        _, r, terminated, truncated, info = env.step(
            np.clip(3 * np.array([np.sin(w), np.sin(w + phase)]), -1, 1)
        )
        total += r
        infos.append(info)
    assert truncated and not terminated
    return total, infos


def test_registered_and_make_works():
    env = gym.make(ENV_ID)
    assert env.spec.max_episode_steps == 500
    assert env.observation_space.shape == (10,)
    assert env.action_space.shape == (2,)
    obs, info = env.reset(seed=0)
    assert obs.shape == (10,)
    assert obs[0] == pytest.approx(info["x_position"])  # the torso x is in the observation
    obs, _, _, _, info = env.step(env.action_space.sample())
    assert obs[0] == pytest.approx(info["x_position"])
    assert env.unwrapped.dt == pytest.approx(DT)


def test_helpers_forward_only():
    assert crossed_finish_line(FINISH_LINE_X + 0.01)
    assert not crossed_finish_line(FINISH_LINE_X - 0.01)
    assert not crossed_finish_line(-FINISH_LINE_X - 10.0)
    assert finish_line_bonus(FINISH_LINE_X + 0.5) == FINISH_BONUS
    assert finish_line_bonus(FINISH_LINE_X - 0.5) == 0.0
    assert finish_line_bonus(-FINISH_LINE_X - 0.5) == 0.0
    assert 0 < FINISH_LINE_X and FINISH_BONUS > 0


@pytest.mark.parametrize(
    ("x0", "v0", "bonus"),
    [
        (FINISH_LINE_X + 0.5, 0.5, FINISH_BONUS),  # beyond the line, swimming forward
        (FINISH_LINE_X + 0.5, -0.5, FINISH_BONUS),  # beyond the line, drifting back: still beyond it
        (FINISH_LINE_X - 0.5, 0.5, 0.0),  # not there yet
        (-FINISH_LINE_X - 0.5, -0.5, 0.0),  # as far backward: no line there
        (0.0, -0.5, 0.0),
    ],
)
def test_reward_against_hand_computation(x0, v0, bonus):
    env = _env_at(x0, v0)
    action = np.array([0.7, -0.4])
    _, reward, _, _, info = env.step(action)
    x1 = info["x_position"]
    assert x1 == env.data.qpos[0]
    assert np.sign(x1 - x0) == np.sign(v0) and abs(x1 - x0) > 0.25 * abs(v0) * DT
    expected = abs(x1 - x0) / DT - CTRL_W * (0.7**2 + 0.4**2) + bonus
    assert reward == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert info["reward_finish"] == bonus
    assert info["beyond_finish_line"] == (bonus > 0)


def test_out_of_range_actions_are_clipped():
    env = _env_at(0.0)
    _, _, _, _, info = env.step(np.array([5.0, -3.0]))
    assert info["reward_ctrl"] == pytest.approx(-CTRL_W * 2.0)


def test_forward_gait_crosses_and_beats_backward():
    env = gym.make(ENV_ID)
    fwd_return, fwd = _gait(env, phase=-1.0)
    bwd_return, bwd = _gait(env, phase=+1.0)
    fwd_x = np.array([i["x_position"] for i in fwd])
    bwd_x = np.array([i["x_position"] for i in bwd])
    assert crossed_finish_line(fwd_x.max()) and fwd_x.argmax() > 0
    assert np.argmax(fwd_x > FINISH_LINE_X) < 400  # crosses well within the episode
    assert bwd_x.min() < -FINISH_LINE_X  # swims as far backward, and gets nothing for it
    assert sum(i["reward_finish"] for i in bwd) == 0.0
    fwd_bonus = sum(i["reward_finish"] for i in fwd)
    assert fwd_bonus == pytest.approx(FINISH_BONUS * np.sum(fwd_x > FINISH_LINE_X))
    assert fwd_bonus > 100
    assert fwd_return > bwd_return


def test_random_policy_stays_behind_the_line():
    env = gym.make(ENV_ID)
    rng = np.random.default_rng(0)
    for ep in range(4):
        env.reset(seed=ep)
        xs = [env.step(rng.uniform(-1, 1, 2))[4]["x_position"] for _ in range(500)]
        assert not crossed_finish_line(max(xs))


@pytest.mark.parametrize(
    ("action", "match"),
    [
        (np.zeros(3), "shape"),
        (np.zeros((1, 2)), "shape"),
        (np.array([np.nan, 0.0]), "finite"),
        (np.array([0.0, np.inf]), "finite"),
    ],
)
def test_bad_actions_rejected(action, match):
    env = gym.make(ENV_ID, disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_observation_layout_is_fixed():
    with pytest.raises(ValueError, match="torso x"):
        SwimmerFinishLineEnv(exclude_current_positions_from_observation=True)
    with pytest.raises(ValueError, match="ahead"):
        SwimmerFinishLineEnv(finish_line_x=-1.0)
