"""The paper's undirected swimmer with a finish line (Sec. 5.2, Fig. 3a and Fig. 6 of App. D.3).

The swimmer is rewarded for its speed along x in either direction; once it swims far enough *forward*
(+x) it crosses a finish line beyond which the reward is larger. The right strategy is to explore both
directions until the bonus is found and then commit forward. Body, frame_skip (4, dt = 0.04 s) and
control cost (1e-4 ||a||^2) are gymnasium's Swimmer-v5 (the paper used the rllab swimmer, deviation
``swimmer-body``). Per step, with x the torso's x (``qpos[0]``, the ``slider1`` joint):

    r = FORWARD_REWARD_WEIGHT * |x' - x| / dt - 1e-4 ||a||^2 + FINISH_BONUS * [x' > FINISH_LINE_X]

The public code [C17] has the undirected ``|v_x| - ctrl_cost`` reward but no finish line; its position and
bonus are not given anywhere, so we chose them by measurement
(``experiments/measurements/swimmer_finish_line.py``, mujoco 4.0.0; deviation ``swimmer-finish-line``):

* Uniform random actions, 1000 episodes of 500 steps: max torso x has median 0.46 m, 90th percentile
  0.89 m, 99th 1.29 m, 99.9th 1.49 m, maximum 1.50 m. Temporally correlated Ornstein-Uhlenbeck noise
  (theta 0.15, sigma 0.3, DDPG's exploration), 200 episodes each: maximum 1.51 m (SB3's dt = 1e-2) and
  1.64 m (dt = 1).
* The fastest open-loop travelling wave of a small sweep, a = clip(3 sin(2 pi 0.6 t), 3 sin(2 pi 0.6 t
  - 1.0)) with t in seconds, swims 0.19 m/s and is 3.7 m ahead after 500 steps. Published Swimmer
  returns, 40-145 per 1000 steps at gamma 0.99 and ~350 at gamma 0.9999, are 0.04-0.145 and 0.35 m/s.

FINISH_LINE_X = 2.0 m: 0.36 m beyond the farthest of 1,400 random-policy episodes, so a random policy
essentially never crosses, while the open-loop gait crosses at step 229 of 500, 0.145 m/s crosses at about
step 345 and 0.35 m/s at about step 143. Only +x has a line: swimming backward never earns the bonus.

FINISH_BONUS = 1.0 per step while the torso is beyond the line (post-step x > FINISH_LINE_X), not a
larger velocity weight: most of |v_x| per step is wiggling, not travel (uniform random actions earn
0.30 per step for no net travel; the gait earns 0.95 per step for 0.19 m/s net), so a larger velocity
weight beyond the line would pay for wiggling in place there as much as for swimming, while a per-step
bonus is a function of the position only, is paid whatever the gait, and makes forward strictly better
than backward in return by FINISH_BONUS x (steps beyond the line). Its size, 1.0, about matches the
gait's velocity reward (the reward roughly doubles beyond the line) and is 3.3x a random policy's. The
gait's 500-step return is 477 (|v_x|) + 249 (bonus: its torso x oscillates about the line for a while)
= 726 forward, against 522 for the same wave with the phase negated, which swims backward (3.6 m): the
undirected reward alone would slightly favour that backward gait.

The observation includes the torso x and y (``exclude_current_positions_from_observation=False``, 10-dim:
qpos [x, y, torso angle, joint 1, joint 2] then the 5 qvel) because the reward depends on x: without it
the task is not Markov. ``info["x_position"]`` (torso x, signed) is present every step and at reset;
``info["beyond_finish_line"]`` says whether the bonus was paid. Actions must have shape (2,) and be
finite (else ``ValueError``); finite actions outside [-1, 1] are clipped. The horizon is 500 steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.swimmer_v5 import SwimmerEnv

from softq.envs.actions import checked_action

FINISH_LINE_X = 2.0
FINISH_BONUS = 1.0
FORWARD_REWARD_WEIGHT = 1.0
CTRL_COST_WEIGHT = 1e-4  # Swimmer-v5 default
HORIZON = 500
DT = 0.04  # Swimmer-v5: frame_skip 4 x timestep 0.01
OBS_DIM = 10


def beyond_finish_line(x: float, finish_line_x: float = FINISH_LINE_X) -> bool:
    """True if a torso x position is past the (forward-only) finish line."""
    return bool(x > finish_line_x)


def crossed_finish_line(max_x: float, finish_line_x: float = FINISH_LINE_X) -> bool:
    """True if a run whose largest torso x so far is ``max_x`` has crossed the finish line (Fig. 3a)."""
    return beyond_finish_line(max_x, finish_line_x)


def finish_line_bonus(x: float, bonus: float = FINISH_BONUS, finish_line_x: float = FINISH_LINE_X) -> float:
    """The finish-line part of the reward at post-step torso x: ``bonus`` beyond +finish_line_x, else 0."""
    return bonus if beyond_finish_line(x, finish_line_x) else 0.0


class SwimmerFinishLineEnv(SwimmerEnv):
    """Swimmer-v5 with the undirected |v_x| reward and a forward finish line (see module docstring).

    Registered as ``softq/SwimmerFinishLine-v0`` (TimeLimit 500).
    """

    def __init__(
        self,
        finish_line_x: float = FINISH_LINE_X,
        finish_bonus: float = FINISH_BONUS,
        forward_reward_weight: float = FORWARD_REWARD_WEIGHT,
        ctrl_cost_weight: float = CTRL_COST_WEIGHT,
        reset_noise_scale: float = 0.1,
        **kwargs: Any,
    ) -> None:
        if "exclude_current_positions_from_observation" in kwargs:
            raise ValueError("the swimmer observation always includes the torso x, y (the reward uses x)")
        if not finish_line_x > 0:
            raise ValueError(f"the finish line must lie ahead of the start (x > 0), got {finish_line_x}")
        if finish_bonus < 0:
            raise ValueError(f"the finish-line bonus must be non-negative, got {finish_bonus}")
        self.finish_line_x = float(finish_line_x)
        self.finish_bonus = float(finish_bonus)
        super().__init__(
            frame_skip=4,
            forward_reward_weight=forward_reward_weight,
            ctrl_cost_weight=ctrl_cost_weight,
            reset_noise_scale=reset_noise_scale,
            exclude_current_positions_from_observation=False,
            **kwargs,
        )
        utils.EzPickle.__init__(
            self,
            finish_line_x,
            finish_bonus,
            forward_reward_weight,
            ctrl_cost_weight,
            reset_noise_scale,
            **kwargs,
        )

    def step(self, action):
        action = checked_action(action, self.action_space, "Swimmer")

        xy_before = self.data.qpos[0:2].copy()
        self.do_simulation(action, self.frame_skip)
        xy_after = self.data.qpos[0:2].copy()
        x_velocity, y_velocity = (xy_after - xy_before) / self.dt

        reward_forward = self._forward_reward_weight * abs(float(x_velocity))
        ctrl_cost = float(self.control_cost(action))
        bonus = finish_line_bonus(float(xy_after[0]), self.finish_bonus, self.finish_line_x)
        reward = reward_forward - ctrl_cost + bonus
        info = {
            "x_position": float(xy_after[0]),
            "y_position": float(xy_after[1]),
            "distance_from_origin": float(np.linalg.norm(xy_after)),
            "x_velocity": float(x_velocity),
            "y_velocity": float(y_velocity),
            "reward_forward": reward_forward,
            "reward_ctrl": -ctrl_cost,
            "reward_finish": bonus,
            "beyond_finish_line": beyond_finish_line(float(xy_after[0]), self.finish_line_x),
        }
        if self.render_mode == "human":
            self.render()
        return self._get_obs(), reward, False, False, info

    def _get_reset_info(self) -> dict[str, Any]:
        x, y = (float(v) for v in self.data.qpos[0:2])
        return {
            "x_position": x,
            "y_position": y,
            "distance_from_origin": float(np.hypot(x, y)),
            "beyond_finish_line": beyond_finish_line(x, self.finish_line_x),
        }
