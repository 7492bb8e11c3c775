"""The paper's didactic multi-goal task (Sec. 5.1, Fig. 1), exactly as the public 2018 code.

A point mass in the plane moves by its action (a velocity in [-1, 1]^2). Four goals sit at (+-5, 0) and
(0, +-5). Reward and termination use the post-step position ([C18] ``environments/multigoal.py``):

    r = -30 ||a||^2 - min_g ||s' - g||^2  (+10 and done when min_g ||s' - g|| < 1)

The paper calls the reward "a mixture of Gaussians"; the public code uses this negative squared
distance, which we follow (deviation ``multigoal-reward``). The horizon is 30 steps (code; paper says 20).

Sub-tasks for composition (beyond the paper; Haarnoja et al., ICRA 2018): ``MultiGoalEnv(goals=...)``
rewards and ends episodes at a subset of the four goals only; the distance term is then to the nearest
goal *of the subset*, and the other goals are ordinary positions. ``softq/MultiGoalRightUp-v0`` (goals
right and up) and ``softq/MultiGoalUpLeft-v0`` (up and left) share only "up"; ``softq/MultiGoalSubset-v0``
takes ``goals=`` as an env kwarg. Without ``goals`` (``softq/MultiGoal-v0``) nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from softq.envs.actions import checked_action

GOALS = np.array([[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0], [0.0, -5.0]])
GOAL_NAMES = ("right", "left", "up", "down")  # the rows of GOALS
GOAL_RADIUS = 1.0
GOAL_BONUS = 10.0
ACTION_COST = 30.0
POSITION_BOUND = 7.0
INIT_SIGMA = 0.1
HORIZON = 30


def multigoal_reward_surface(positions: np.ndarray) -> np.ndarray:
    """The position part of the reward, -min_g ||p - g||^2, for positions of shape (..., 2).

    Its level curves are the background of Fig. 1 (left).
    """
    positions = np.asarray(positions, dtype=np.float64)
    sq_dist = ((positions[..., None, :] - GOALS) ** 2).sum(-1)
    return -sq_dist.min(-1)


def nearest_goal(position: np.ndarray) -> tuple[int, float]:
    """Index of the nearest goal and the distance to it."""
    dist = np.linalg.norm(GOALS - np.asarray(position), axis=-1)
    return int(dist.argmin()), float(dist.min())


def goal_indices(goals: Sequence[int | str]) -> tuple[int, ...]:
    """Rows of GOALS for goal names (``"right"``, ``"left"``, ``"up"``, ``"down"``) or indices, sorted."""
    out = set()
    for goal in goals:
        if isinstance(goal, str):
            if goal not in GOAL_NAMES:
                raise ValueError(f"unknown goal {goal!r}; valid goals: {list(GOAL_NAMES)}")
            out.add(GOAL_NAMES.index(goal))
        elif int(goal) == goal and 0 <= int(goal) < len(GOALS):
            out.add(int(goal))
        else:
            raise ValueError(f"goal index must be in 0..{len(GOALS) - 1}, got {goal!r}")
    if not out:
        raise ValueError("a multi-goal task needs at least one goal")
    return tuple(sorted(out))


def subset_reward_surface(positions: np.ndarray, goals: Sequence[int | str]) -> np.ndarray:
    """The position part of a sub-task's reward, -min_{g in goals} ||p - g||^2, for positions (..., 2)."""
    positions = np.asarray(positions, dtype=np.float64)
    sq_dist = ((positions[..., None, :] - GOALS[list(goal_indices(goals))]) ** 2).sum(-1)
    return -sq_dist.min(-1)


class MultiGoalEnv(gym.Env):
    """2D point mass with four goals. Registered as ``softq/MultiGoal-v0`` (TimeLimit 30).

    ``info["goal"]`` is the index of the goal reached on the terminating step, else -1.
    ``reset(options={"position": (x, y)})`` starts at a given position (Fig. 1 starts at the origin).
    ``goals``: names or indices of the goals that are rewarded and end the episode (default: all four);
    ``info["goal"]`` is always an index into :data:`GOALS`.
    """

    metadata = {"render_modes": []}

    def __init__(self, goals: Sequence[int | str] | None = None) -> None:
        self.observation_space = spaces.Box(-POSITION_BOUND, POSITION_BOUND, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._position = np.zeros(2)
        self.goals = None if goals is None else goal_indices(goals)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "position" in options:
            self._position = np.asarray(options["position"], dtype=np.float64).reshape(2)
        else:
            self._position = self.np_random.normal(0.0, INIT_SIGMA, size=2)
        return self._observation(), {"goal": -1}

    def step(self, action):
        action = checked_action(action, self.action_space, "MultiGoal")
        self._position = np.clip(self._position + action, -POSITION_BOUND, POSITION_BOUND)
        goal, distance = nearest_goal(self._position) if self.goals is None else self._nearest_rewarded_goal()
        reached = distance < GOAL_RADIUS
        reward = -ACTION_COST * float(action @ action) - distance**2 + (GOAL_BONUS if reached else 0.0)
        return self._observation(), reward, bool(reached), False, {"goal": goal if reached else -1}

    def _nearest_rewarded_goal(self) -> tuple[int, float]:
        assert self.goals is not None  # called only for a sub-task (step checks)
        dist = np.linalg.norm(GOALS[list(self.goals)] - self._position, axis=-1)
        return self.goals[int(dist.argmin())], float(dist.min())

    def _observation(self) -> np.ndarray:
        return self._position.astype(np.float32)
