"""Evaluation rollouts: the policy as deployed (deterministic) and as it acts while exploring."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import ActionNoise


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


@contextmanager
def _global_numpy_rng(seed: int) -> Iterator[None]:
    """numpy's global generator seeded with ``seed`` inside, restored to its previous state after: SB3's
    action noise draws from it, and so does training (hence the legacy global API)."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed % 2**32)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def rollout(
    model: BaseAlgorithm,
    env: gym.Env,
    *,
    deterministic: bool,
    seed: int,
    options: dict | None = None,
    behaviour_noise: tuple[ActionNoise, int] | None = None,
) -> Episode:
    """One episode. ``deterministic=False`` is the policy as it acts: SQL's sampler with fresh noise,
    SAC's Gaussian, and DDPG's actor (its OU noise belongs to training, not to the policy).

    ``behaviour_noise``: (an off-policy actor's training noise, SB3's ``action_noise``; a seed). The noise,
    restarted, is added as SB3 adds it while training (to the action scaled to [-1, 1], then clipped), drawn
    from numpy's global generator at that seed, whose state is restored after: evaluating the behaviour
    policy leaves training's random numbers alone."""
    obs, reset_info = env.reset(seed=seed, options=options)
    episode = Episode(observations=[obs], reset_info=reset_info)
    noise = None
    if behaviour_noise is not None:
        noise = copy.deepcopy(behaviour_noise[0])
        noise.reset()
    done = False
    with nullcontext() if behaviour_noise is None else _global_numpy_rng(behaviour_noise[1]):
        while not done:
            action, _ = model.predict(obs, deterministic=deterministic)
            if noise is not None:
                scaled = np.clip(model.policy.scale_action(action) + noise(), -1.0, 1.0)
                action = model.policy.unscale_action(scaled)
            obs, reward, terminated, truncated, info = env.step(action)
            episode.rewards.append(float(reward))
            episode.observations.append(obs)
            episode.infos.append(info)
            done = terminated or truncated
    return episode


# Purposes of derived seeds. 1 was the seed of a resumed run's episodes, retired since a resume restores
# the training env; the numbers of the others stay, so that their seeds stay.
EVALUATION, NOISE_SET, BEHAVIOUR_NOISE = 0, 2, 3


def derived_seed(run_seed: int, purpose: int, *keys: int) -> int:
    """A reproducible seed for one purpose of a run (an evaluation episode, a noise set), independent of
    how often the run was interrupted."""
    return int(np.random.SeedSequence([run_seed, purpose, *keys]).generate_state(1)[0])


def evaluate(
    model: BaseAlgorithm,
    env: gym.Env,
    *,
    n_episodes: int,
    deterministic: bool,
    run_seed: int,
    epoch: int,
    behaviour_noise: ActionNoise | None = None,
) -> list[Episode]:
    """The epoch's evaluation episodes; with ``behaviour_noise``, with the actor's training noise added
    (:func:`rollout`), from the same starts."""
    return [
        rollout(
            model,
            env,
            deterministic=deterministic,
            seed=derived_seed(run_seed, EVALUATION, epoch, i),
            behaviour_noise=None
            if behaviour_noise is None
            else (behaviour_noise, derived_seed(run_seed, BEHAVIOUR_NOISE, epoch, i)),
        )
        for i in range(n_episodes)
    ]
