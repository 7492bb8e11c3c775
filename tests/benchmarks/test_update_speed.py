"""pytest-benchmark: one gradient update of SQL against one of SB3's SAC, same batch and widths.

Swimmer-sized (obs 8, act 2) and ant-sized (obs 29 as our ant tasks, and 105 as Ant-v5 with contact
forces; act 8) inputs, so the SQL/SAC ratio is tracked from now on. Run with
``pytest tests/benchmarks --benchmark-only`` (or ``tox -e benchmarks``); skipped in the normal test run.
"""

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import SAC

from softq import SQL

BATCH = 128
NET_ARCH = [128, 128]
SHAPES = {"swimmer": (8, 2), "ant29": (29, 8), "ant105": (105, 8)}


class RandomBoxEnv(gym.Env):
    """Random observations of a given size; only the spaces matter for an update."""

    def __init__(self, obs_dim: int, act_dim: int):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), float(self.np_random.normal()), False, False, {}


def _filled(model):
    model.learn(2 * BATCH)  # fills the buffer past learning_starts
    return model


def _model(algo: str, shape: str):
    env = RandomBoxEnv(*SHAPES[shape])
    common = dict(learning_starts=BATCH, batch_size=BATCH, policy_kwargs=dict(net_arch=NET_ARCH), seed=0, device="cpu")
    if algo == "sql":  # the 'code' preset: 16 value particles, 16 SVGD particles (8 fixed + 8 updated)
        return _filled(SQL.from_preset("code", "MlpPolicy", env, **common))
    return _filled(SAC("MlpPolicy", env, **common))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("algo", ["sql", "sac"])
def test_one_update(benchmark, algo, shape):
    model = _model(algo, shape)
    benchmark.group = f"update-{shape}"
    benchmark(model.train, gradient_steps=1, batch_size=BATCH)
