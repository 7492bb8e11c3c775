"""A gymnasium env with random observations of any size, for tests and benchmarks of one update."""

import gymnasium as gym
import numpy as np


class RandomBoxEnv(gym.Env):
    """Random observations and normal rewards; an episode ends with probability ``done_probability`` per step.
    Only the spaces and a filled replay buffer matter to an update."""

    def __init__(self, obs_dim: int, act_dim: int, done_probability: float = 0.0):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (act_dim,), np.float32)
        self.done_probability = done_probability

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        done = bool(self.np_random.random() < self.done_probability)
        return self.observation_space.sample(), float(self.np_random.normal()), done, False, {}
