"""The env a run trains on, made so that a checkpoint can hold it mid-episode.

MuJoCo and classic-control envs pickle as they are (:class:`experiments.run_folder.RunFolder` pickles
gymnasium's ``EzPickle`` envs by their state). Box2D's world (LunarLanderContinuous-v3) has no pickle, so
those envs come wrapped in :class:`ReplayPickledEnv`, which pickles as the recipe of its current episode
and is rebuilt by replaying it. Box2D is deterministic, so the replayed env is the one that was pickled;
tests/test_resume.py checks that a killed and resumed LunarLander run equals an uninterrupted one.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np

REPLAYED_ENTRY_POINTS = ("gymnasium.envs.box2d",)  # envs whose state does not pickle


def training_env(env_id: str) -> gym.Env:
    """``gym.make(env_id)``, as :class:`ReplayPickledEnv` where its state does not pickle."""
    entry_point = str(gym.spec(env_id).entry_point)
    if entry_point.startswith(REPLAYED_ENTRY_POINTS):
        return ReplayPickledEnv(env_id)
    return gym.make(env_id)


class ReplayPickledEnv(gym.Wrapper):
    """``gym.make(env_id)`` that pickles as its current episode: the seed, or the RNG state, its last
    reset started from, the reset's options and every action since. Unpickling makes the env again and
    replays them, so the env, its time limit's step count and its RNG continue where they were."""

    def __init__(self, env_id: str):
        super().__init__(gym.make(env_id))
        self.env_id = env_id
        self._episode: tuple[int | None, dict[str, Any] | None, dict[str, Any]] | None = None
        self._actions: list[np.ndarray] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        rng_state = copy.deepcopy(self.env.unwrapped.np_random.bit_generator.state)
        self._episode, self._actions = (seed, options, rng_state), []
        return super().reset(seed=seed, options=options)

    def step(self, action):
        self._actions.append(np.array(action, copy=True))
        return super().step(action)

    def __reduce__(self) -> tuple[Any, ...]:
        return _replayed, (self.env_id, self._episode, self._actions)


def _replayed(
    env_id: str,
    episode: tuple[int | None, dict[str, Any] | None, dict[str, Any]] | None,
    actions: list[np.ndarray],
) -> ReplayPickledEnv:
    env = ReplayPickledEnv(env_id)
    if episode is not None:
        seed, options, rng_state = episode
        if seed is None:  # a reset without a seed draws from the RNG as it stood
            env.unwrapped.np_random.bit_generator.state = rng_state
        env.reset(seed=seed, options=options)
        for action in actions:
            env.step(action)
    return env
