"""softq/SwimmerFinishLine-v1: rllab's swimmer, undirected centre-of-mass |v_x| reward, forward-only finish
line; the reward cannot be earned by wiggling in place; info and action checks."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import softq.envs  # noqa: F401  (registers the env ids)
from softq.envs.swimmer import (
    CTRL_COST_WEIGHT,
    FINISH_BONUS,
    FINISH_LINE_X,
    SwimmerFinishLineEnv,
    crossed_finish_line,
    finish_line_bonus,
)

ENV_ID = "softq/SwimmerFinishLine-v1"
DT = 0.05  # rllab: 50 frames of 0.001 s
# The best open-loop travelling wave of experiments/measurements/swimmer_finish_line.py's sweep.
GAIT = (0.35, -0.6, 3.0)  # Hz, phase of the second joint, amplitude before clipping to [-1, 1]


def _wave(t: int, freq: float, phase: float, amp: float) -> np.ndarray:
    w = 2 * np.pi * freq * t * DT
    return np.clip(amp * np.array([np.sin(w), np.sin(w + phase)]), -1, 1)


def _episode(policy, seed: int = 0, steps: int = 500) -> tuple[np.ndarray, list[dict], dict]:
    """Rewards and infos of one episode of ``policy(t, rng)``, and the reset info."""
    env = gym.make(ENV_ID)
    _, reset_info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rewards, infos = [], []
    for t in range(steps):
        _, reward, terminated, truncated, info = env.step(policy(t, rng))
        rewards.append(reward)
        infos.append(info)
    assert not terminated and truncated == (steps == 500)
    return np.array(rewards), infos, reset_info


def _mean_speed(policy, seeds=range(20)) -> float:
    """Per-step mean of the velocity reward over a few 500-step episodes."""
    return float(np.mean([np.mean([i["reward_forward"] for i in _episode(policy, s)[1]]) for s in seeds]))


def test_registered_and_make_works():
    env = gym.make(ENV_ID)
    assert env.spec.max_episode_steps == 500
    assert env.observation_space.shape == (13,)
    assert env.action_space.shape == (2,)
    assert env.action_space.low.tolist() == [-1, -1] and env.action_space.high.tolist() == [1, 1]
    assert env.unwrapped.dt == pytest.approx(DT)
    obs, info = env.reset(seed=0)
    assert obs[-3] == pytest.approx(info["com_x"])  # rllab's observation ends with the centre of mass
    assert info["com_travel"] == 0.0 and info["com_path"] == 0.0
    obs, _, _, _, info = env.step(env.action_space.sample())
    assert obs[-3] == pytest.approx(info["com_x"])


def test_model_has_rllab_parameters():
    model = gym.make(ENV_ID).unwrapped.model
    assert model.opt.timestep == 0.001 and model.opt.density == 4000 and model.opt.viscosity == 0.1
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_EULER
    assert model.actuator_ctrlrange.tolist() == [[-50, 50], [-50, 50]]
    assert model.opt.disableflags & mujoco.mjtDisableBit.mjDSBL_CONTACT  # rllab: no contact pairs
    # three capsules of radius 0.1 and length 1 at density 1000: equal masses
    np.testing.assert_allclose(model.body_mass[1:], model.body_mass[1], rtol=1e-12)
    assert model.body_mass[1] == pytest.approx(1000 * np.pi * (0.1**2 * 1.0 + 4 / 3 * 0.1**3), rel=1e-9)


def test_com_is_the_whole_swimmers_centre_of_mass():
    env = SwimmerFinishLineEnv()
    env.reset(seed=3)
    env.set_state(np.array([0.0, 0.0, 0.3, 1.2, -0.9]), np.zeros(5))  # bent: its COM is off the torso frame
    env.step(np.array([0.8, -0.6]))
    model, data = env.model, env.data
    mass = model.body_mass[1:]
    by_hand = (mass[:, None] * data.xipos[1:]).sum(axis=0) / mass.sum()
    np.testing.assert_allclose(env.com(), by_hand, atol=1e-12)
    assert abs(env.com()[0] - data.qpos[0]) > 0.1  # not the torso frame's reference point


def test_reward_against_hand_computation():
    env = SwimmerFinishLineEnv(finish_line_x=0.01)
    env.reset(seed=0)
    qvel = np.zeros(5)
    qvel[0] = 0.5  # slide the straight swimmer forward: its centre of mass crosses x = 0.01
    env.set_state(np.zeros(5), qvel)
    x0 = env.com()[0]
    action = np.array([0.7, -0.4])
    _, reward, _, _, info = env.step(action)
    x1 = env.com()[0]
    assert x1 > 0.01 and info["com_x"] == x1 and info["beyond_finish_line"]
    expected = abs(x1 - x0) / DT - CTRL_COST_WEIGHT * (0.7**2 + 0.4**2) + FINISH_BONUS
    assert reward == pytest.approx(expected, rel=1e-12)
    assert CTRL_COST_WEIGHT == 0.5 * 1e-2  # [C17]: 0.5 * 1e-2 * ||a||^2 on normalised actions


def test_helpers_forward_only():
    assert crossed_finish_line(FINISH_LINE_X + 0.01)
    assert not crossed_finish_line(FINISH_LINE_X - 0.01)
    assert not crossed_finish_line(-FINISH_LINE_X - 10.0)
    assert finish_line_bonus(FINISH_LINE_X + 0.5) == FINISH_BONUS
    assert finish_line_bonus(-FINISH_LINE_X - 0.5) == 0.0


def test_steady_gait_velocity_reward_is_its_travel():
    """For a gait that travels steadily, summed |v_x| dt equals the net centre-of-mass travel (to 2%), and
    the info's path is the same sum."""
    _, infos, reset_info = _episode(lambda t, rng: _wave(t, *GAIT))
    travel = infos[-1]["com_x"] - reset_info["com_x"]
    paid = sum(i["reward_forward"] for i in infos) * DT
    assert travel > 2.5  # measured 2.90 m
    assert paid == pytest.approx(infos[-1]["com_path"], rel=1e-9)
    assert travel == pytest.approx(infos[-1]["com_travel"], rel=1e-9)
    assert travel / paid > 0.98


@pytest.mark.parametrize(
    "vibration",
    [
        pytest.param(lambda t, rng: rng.uniform(-1, 1, 2), id="uniform-random"),
        pytest.param(lambda t, rng: rng.choice([-1.0, 1.0], 2), id="random-bang-bang"),
        pytest.param(lambda t, rng: np.array([1.0, -1.0]) * (1 if t % 2 == 0 else -1), id="10Hz-bang-bang"),
    ],
)
def test_vibrating_in_place_earns_almost_nothing(vibration):
    """Measured per step (20 episodes): gait 0.116; standing still 0.024 (the reset's velocity noise
    coasts), uniform random 0.019, random bang-bang 0.023, 10 Hz vibration 0.016. Vibration earns no more
    than standing still (25% margin: these are means of 20 noisy episodes) and under a quarter of the gait."""
    still = _mean_speed(lambda t, rng: np.zeros(2))
    gait = _mean_speed(lambda t, rng: _wave(t, *GAIT), seeds=[0])
    shaking = _mean_speed(vibration)
    assert shaking < 1.25 * still
    assert shaking < 0.25 * gait


def test_forward_gait_crosses_and_beats_backward():
    fwd_rewards, fwd, _ = _episode(lambda t, rng: _wave(t, *GAIT))
    bwd_rewards, bwd, _ = _episode(lambda t, rng: _wave(t, GAIT[0], -GAIT[1], GAIT[2]))
    fwd_x = np.array([i["com_x"] for i in fwd])
    bwd_x = np.array([i["com_x"] for i in bwd])
    assert crossed_finish_line(fwd_x.max()) and np.argmax(fwd_x > FINISH_LINE_X) < 400  # measured: step 281
    assert bwd_x.min() < -FINISH_LINE_X  # swims as far backward, and gets no bonus for it
    assert sum(i["reward_finish"] for i in bwd) == 0.0
    fwd_bonus = sum(i["reward_finish"] for i in fwd)
    assert fwd_bonus == pytest.approx(FINISH_BONUS * np.sum(fwd_x > FINISH_LINE_X))
    assert fwd_rewards.sum() > bwd_rewards.sum()


def test_torso_frame_moves_far_more_than_the_centre_of_mass():
    """What the retired v0 reward paid: random strokes swing the torso frame 8x as far as the centre of mass
    moves (measured 0.155 against 0.019 per step)."""
    _, infos, reset_info = _episode(lambda t, rng: rng.uniform(-1, 1, 2))
    torso_path = np.abs(np.diff([reset_info["torso_x"]] + [i["torso_x"] for i in infos])).sum()
    assert torso_path > 5 * infos[-1]["com_path"]


def test_random_policy_stays_behind_the_line():
    for seed in range(6):
        _, infos, _ = _episode(lambda t, rng: rng.uniform(-1, 1, 2), seed=seed)
        assert not crossed_finish_line(max(i["com_x"] for i in infos))


def test_reset_noise_is_rllabs():
    env = SwimmerFinishLineEnv()
    qpos, qvel = [], []
    for seed in range(400):
        env.reset(seed=seed)
        qpos.append(env.data.qpos.copy())
        qvel.append(env.data.qvel.copy())
    assert np.std(qpos) == pytest.approx(0.01, rel=0.1)
    assert np.std(qvel) == pytest.approx(0.1, rel=0.1)


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


def test_out_of_range_actions_are_clipped():
    env = SwimmerFinishLineEnv()
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([5.0, -3.0]))
    assert info["reward_ctrl"] == pytest.approx(-CTRL_COST_WEIGHT * 2.0)
    assert env.data.ctrl.tolist() == [50.0, -50.0]


def test_bad_construction_rejected():
    with pytest.raises(ValueError, match="ahead"):
        SwimmerFinishLineEnv(finish_line_x=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        SwimmerFinishLineEnv(finish_bonus=-1.0)
