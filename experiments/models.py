"""Build SQL, DDPG, SAC and TD3 from a task's hyperparameters, and read their Q functions."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from baselines import SAC, TD3, HardTargetDDPG, make_action_noise
from softq import SQL

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"sql": SQL, "ddpg": HardTargetDDPG, "sac": SAC, "td3": TD3}


def make_model(algo: str, env: gym.Env, hyperparameters: dict[str, Any], *, gamma: float, seed: int, total_steps: int) -> BaseAlgorithm:
    """A fresh model. ``gamma`` is the task's, unless the preset sets its own. The replay buffer is capped at the run's total steps: a buffer that can never
    fill behaves identically, and checkpoints stay small (deviation ``buffer-capped-at-budget``)."""
    kwargs = dict(hyperparameters)
    kwargs["buffer_size"] = min(int(kwargs.get("buffer_size", 1_000_000)), total_steps)
    if "action_noise" in kwargs:
        kwargs["action_noise"] = make_action_noise(env.action_space, kwargs["action_noise"])
    kwargs.setdefault("gamma", gamma)  # a preset may carry its own (rl-zoo3's Swimmer gamma)
    policy = "MultiInputPolicy" if isinstance(env.observation_space, gym.spaces.Dict) else "MlpPolicy"
    common = dict(seed=seed, verbose=0, device="cpu")
    if algo == "sql":
        preset = kwargs.pop("preset")
        return SQL.from_preset(preset, policy, env, **kwargs, **common)
    return ALGORITHMS[algo](policy, env, **kwargs, **common)


def load_model(algo: str, path: str, env: gym.Env) -> BaseAlgorithm:
    return ALGORITHMS[algo].load(path, env=env, device="cpu")


def q_values(model: BaseAlgorithm, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Q(s, a) for a batch of observations (N, obs) and normalised actions (N, act) in [-1, 1].

    SQL: its soft Q (on the reward_scale = 1/alpha scale). DDPG/SAC/TD3: the first critic."""
    obs = th.as_tensor(observations, dtype=th.float32)
    act = th.as_tensor(actions, dtype=th.float32)
    with th.no_grad():
        if isinstance(model, SQL):
            return model.policy.qf(model.policy.features(obs), act).numpy()
        return model.critic.q1_forward(obs, act).squeeze(-1).numpy()
