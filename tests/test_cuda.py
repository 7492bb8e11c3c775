"""SQL, DDPG and SAC train, act, save and load on a CUDA GPU (skipped without one). The update's equations
on CUDA are checked against the reference in tests/test_sql_equivalence.py."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th

from baselines import SAC, HardTargetDDPG, make_action_noise
from softq import SQL

pytestmark = pytest.mark.skipif(not th.cuda.is_available(), reason="needs a CUDA GPU")
TINY = dict(learning_starts=64, batch_size=32, policy_kwargs=dict(net_arch=[32, 32]), seed=0, device="cuda")


def _models(env):
    noise = make_action_noise(env.action_space, {"type": "ornstein_uhlenbeck", "theta": 0.15, "sigma": 0.3})
    return {
        "sql": SQL("MlpPolicy", env, reward_scale=0.1, **TINY),
        "ddpg": HardTargetDDPG("MlpPolicy", env, target_update_interval=100, action_noise=noise, **TINY),
        "sac": SAC("MlpPolicy", env, **TINY),
    }


@pytest.mark.parametrize("algo", ["sql", "ddpg", "sac"])
def test_trains_acts_saves_and_loads_on_cuda(algo, tmp_path):
    env = gym.make("softq/MultiGoal-v0")
    model = _models(env)[algo]
    model.learn(300)
    assert all(p.device.type == "cuda" for p in model.policy.parameters())
    obs = env.reset(seed=0)[0]
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == env.action_space.shape
    model.save(tmp_path / "model")
    loaded = type(model).load(tmp_path / "model", env=env, device="cuda")
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], action, rtol=1e-5, atol=1e-6)
    # The weights trained on the GPU act the same on the CPU: the computation on CUDA is the policy's.
    on_cpu = type(model).load(tmp_path / "model", env=env, device="cpu")
    assert all(p.device.type == "cpu" for p in on_cpu.policy.parameters())
    np.testing.assert_allclose(on_cpu.predict(obs, deterministic=True)[0], action, rtol=1e-4, atol=1e-5)
