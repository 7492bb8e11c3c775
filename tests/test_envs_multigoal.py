"""softq/MultiGoal-v0 against hand-computed cases (the 2018 code's env)."""

import gymnasium as gym
import numpy as np
import pytest

import softq.envs  # noqa: F401
from softq.envs.multigoal import multigoal_reward_surface


@pytest.fixture
def env():
    return gym.make("softq/MultiGoal-v0")


def test_reward_is_action_cost_plus_squared_distance_after_the_step(env):
    env.reset(seed=0, options={"position": (1.0, 2.0)})
    obs, reward, terminated, truncated, info = env.step(np.array([0.5, -0.5]))
    np.testing.assert_allclose(obs, [1.5, 1.5])
    # nearest goal to (1.5, 1.5) is (0, 5) or (5, 0): squared distance 1.5^2 + 3.5^2 = 14.5
    assert reward == pytest.approx(-30 * 0.5 - 14.5)
    assert not terminated and not truncated and info["goal"] == -1


def test_reaching_a_goal_pays_the_bonus_and_ends_the_episode(env):
    env.reset(seed=0, options={"position": (4.0, 0.0)})
    obs, reward, terminated, _, info = env.step(np.array([0.5, 0.0]))
    assert terminated and info["goal"] == 0
    assert reward == pytest.approx(-30 * 0.25 - 0.25 + 10)


def test_horizon_start_distribution_and_clipping(env):
    starts = np.array([env.reset(seed=s)[0] for s in range(400)])
    assert abs(starts.std() - 0.1) < 0.01 and np.abs(starts.mean(0)).max() < 0.02
    env.reset(seed=0, options={"position": (0.0, 0.0)})
    obs, reward, *_ = env.step(np.array([3.0, 0.0]))  # clipped to 1, as the code
    np.testing.assert_allclose(obs, [1.0, 0.0])
    steps = 1
    while True:
        *_, terminated, truncated, _ = env.step(np.zeros(2))
        steps += 1
        if terminated or truncated:
            break
    assert truncated and steps == 30


@pytest.mark.parametrize("action", [np.zeros(3), np.array([np.nan, 0.0]), np.array([np.inf, 0.0])])
def test_bad_actions_are_rejected(env, action):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="MultiGoal action must"):
        env.step(action)


def test_reward_surface_is_zero_at_goals_and_negative_between():
    assert multigoal_reward_surface(np.array([[5.0, 0.0], [0.0, -5.0]])).tolist() == [0.0, 0.0]
    assert multigoal_reward_surface(np.array([0.0, 0.0])) == pytest.approx(-25.0)
