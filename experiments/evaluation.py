"""Evaluation rollouts: the policy as deployed (deterministic) and as it acts while exploring."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm


@dataclass
class Episode:
    rewards: list[float] = field(default_factory=list)
    observations: list[Any] = field(default_factory=list)  # from the reset observation to the last one
    infos: list[dict[str, Any]] = field(default_factory=list)  # one per step
    reset_info: dict[str, Any] = field(default_factory=dict)  # what reset() returned beside the observation

    def undiscounted_return(self) -> float:
        return float(np.sum(self.rewards))

    def discounted_return(self, gamma: float) -> float:
        return float(np.sum(np.asarray(self.rewards) * gamma ** np.arange(len(self.rewards))))


def rollout(
    model: BaseAlgorithm, env: gym.Env, *, deterministic: bool, seed: int, options: dict | None = None
) -> Episode:
    """One episode. ``deterministic=False`` is the policy as it acts: SQL's sampler with fresh noise,
    SAC's Gaussian, and DDPG's actor (its OU noise belongs to training, not to the policy)."""
    obs, reset_info = env.reset(seed=seed, options=options)
    episode = Episode(observations=[obs], reset_info=reset_info)
    done = False
    while not done:
        action, _ = model.predict(obs, deterministic=deterministic)
        obs, reward, terminated, truncated, info = env.step(action)
        episode.rewards.append(float(reward))
        episode.observations.append(obs)
        episode.infos.append(info)
        done = terminated or truncated
    return episode


# Purposes of derived seeds. 1 was the seed of a resumed run's episodes, retired since a resume restores
# the training env; the numbers of the others stay, so that their seeds stay.
EVALUATION, NOISE_SET = 0, 2


def derived_seed(run_seed: int, purpose: int, *keys: int) -> int:
    """A reproducible seed for one purpose of a run (an evaluation episode, a noise set), independent of
    how often the run was interrupted."""
    return int(np.random.SeedSequence([run_seed, purpose, *keys]).generate_state(1)[0])


def evaluate(
    model: BaseAlgorithm, env: gym.Env, *, n_episodes: int, deterministic: bool, run_seed: int, epoch: int
) -> list[Episode]:
    return [
        rollout(model, env, deterministic=deterministic, seed=derived_seed(run_seed, EVALUATION, epoch, i))
        for i in range(n_episodes)
    ]
