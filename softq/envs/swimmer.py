"""The paper's undirected swimmer with a finish line (Sec. 5.2, Fig. 3a and Fig. 6 of App. D.3).

The swimmer is rewarded for the speed of its centre of mass along x in either direction; once the centre
of mass is far enough *forward* (+x) it is beyond a finish line, where the reward is larger. The right
strategy is to explore both directions until the bonus is found and then commit forward.

Body and reward are rllab's ``SwimmerEnv``, the robot the paper used, as the 2017 code's undirected
variant rewards it (deviation ``swimmer-body``; the model is ``assets/swimmer_rllab.xml``): three capsules
in a fluid of density 4000 and viscosity 0.1, two hinge motors with ctrlrange +-50 that the normalised
action in [-1, 1]^2 is scaled to (rllab's ``normalize``), 50 Euler steps of 1 ms per env step
(dt = 0.05 s). Per step, with c the x of the whole swimmer's centre of mass (MuJoCo's subtree centre of
mass of the root body ``torso``, which is what rllab's ``get_body_com("torso")`` and
``get_body_comvel("torso")`` compute):

    r = |c' - c| / dt - 0.5 * 1e-2 * ||a||^2 + FINISH_BONUS * [c' > FINISH_LINE_X]

The velocity is the finite difference over the step (rllab's ``MujocoEnv`` keeps the same difference as
``dcom``; its reward reads the instantaneous velocity at the step's end). Summed over an episode the velocity
term times dt is then exactly the distance the centre of mass travelled along x, forth and back: internal
strokes that leave the centre of mass in place earn nothing. The reference point of the torso
(``qpos[0]``) is not used: each stroke swings it back and forth, so an unsigned reward on it pays for
wiggling in place (``softq/SwimmerFinishLine-v0``, retired; deviation ``swimmer-torso-reward-retired``).

The public code [C17] has the undirected ``|v_x| - ctrl_cost`` reward but no finish line; its position and
bonus are given nowhere, so we chose them by measurement on this body
(``experiments/measurements/swimmer_finish_line.py``, mujoco 4.0.0; deviation ``swimmer-finish-line``);
the numbers are in that ledger entry. FINISH_LINE_X lies beyond the farthest centre-of-mass x of every
uniform-random and Ornstein-Uhlenbeck episode measured, while the best open-loop travelling wave crosses it
within the episode; only +x has a line, so swimming backward never earns the bonus. FINISH_BONUS is paid per
step while beyond the line (a function of the position only, whatever the gait) and is about the best
gait's velocity reward, so the reward roughly doubles beyond the line.

The observation is rllab's, 13-D: qpos (centre-free x, y of the torso frame, its angle, the 2 joint
angles), qvel (5), then the centre of mass (x, y, z). It includes the centre-of-mass x, on which the bonus
depends, so the task is Markov. The reset adds rllab's noise: N(0, 0.01^2) to qpos and N(0, 0.1^2) to
qvel. ``info`` carries ``com_x`` (signed, every step and at reset), ``com_travel`` (``com_x`` minus its
value at reset), ``com_path`` (the summed |dc| since reset: the distance the velocity reward paid for),
``torso_x`` (``qpos[0]``, for diagnostics only) and ``beyond_finish_line``. Actions must have shape (2,)
and be finite (else ``ValueError``); finite actions outside [-1, 1] are clipped. The horizon is 500 steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mujoco
import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from softq.envs.actions import checked_action

MODEL_PATH = Path(__file__).parent / "assets" / "swimmer_rllab.xml"
FINISH_LINE_X = 1.5
FINISH_BONUS = 0.1
CTRL_COST_WEIGHT = 0.5 * 1e-2  # [C17]/rllab: 0.5 * ctrl_cost_coeff (1e-2) * ||a / 50||^2
MOTOR_SCALE = 50.0  # rllab's ctrlrange +-50, reached from [-1, 1] as rllab's normalize does
FRAME_SKIP = 50  # rllab swimmer.xml: frame_skip 50 x timestep 0.001
HORIZON = 500
DT = 0.05
OBS_DIM = 13
QPOS_NOISE, QVEL_NOISE = 0.01, 0.1  # rllab MujocoEnv.reset_mujoco: Gaussian standard deviations


def beyond_finish_line(x: float, finish_line_x: float = FINISH_LINE_X) -> bool:
    """True if a centre-of-mass x position is past the (forward-only) finish line."""
    return bool(x > finish_line_x)


def crossed_finish_line(max_x: float, finish_line_x: float = FINISH_LINE_X) -> bool:
    """True if a run whose largest centre-of-mass x so far is ``max_x`` has crossed the line (Fig. 3a)."""
    return beyond_finish_line(max_x, finish_line_x)


def finish_line_bonus(x: float, bonus: float = FINISH_BONUS, finish_line_x: float = FINISH_LINE_X) -> float:
    """The finish-line part of the reward at post-step centre-of-mass x: ``bonus`` beyond the line, else 0."""
    return bonus if beyond_finish_line(x, finish_line_x) else 0.0


class SwimmerFinishLineEnv(MujocoEnv, utils.EzPickle):
    """rllab's swimmer with the undirected centre-of-mass |v_x| reward and a forward finish line (see the
    module docstring). Registered as ``softq/SwimmerFinishLine-v1`` (TimeLimit 500)."""

    metadata = {"render_modes": ["human", "rgb_array", "depth_array", "rgbd_tuple"], "render_fps": 20}

    def __init__(
        self,
        finish_line_x: float = FINISH_LINE_X,
        finish_bonus: float = FINISH_BONUS,
        ctrl_cost_weight: float = CTRL_COST_WEIGHT,
        **kwargs: Any,
    ) -> None:
        if not finish_line_x > 0:
            raise ValueError(f"the finish line must lie ahead of the start (x > 0), got {finish_line_x}")
        if finish_bonus < 0:
            raise ValueError(f"the finish-line bonus must be non-negative, got {finish_bonus}")
        utils.EzPickle.__init__(self, finish_line_x, finish_bonus, ctrl_cost_weight, **kwargs)
        self.finish_line_x = float(finish_line_x)
        self.finish_bonus = float(finish_bonus)
        self.ctrl_cost_weight = float(ctrl_cost_weight)
        observation_space = spaces.Box(-np.inf, np.inf, shape=(OBS_DIM,), dtype=np.float64)
        MujocoEnv.__init__(self, str(MODEL_PATH), FRAME_SKIP, observation_space=observation_space, **kwargs)
        # The policy acts in [-1, 1]^2; the motors' +-50 is reached by scaling (rllab's normalize).
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._root = self.model.body("torso").id
        self._start_x = self._path = 0.0

    def com(self) -> np.ndarray:
        """The whole swimmer's centre of mass (x, y, z): the subtree centre of mass of the root body."""
        return self.data.subtree_com[self._root].copy()

    def step(self, action):
        action = checked_action(action, self.action_space, "Swimmer")
        x_before = float(self.data.subtree_com[self._root, 0])
        self.do_simulation(MOTOR_SCALE * action, self.frame_skip)
        mujoco.mj_forward(self.model, self.data)  # as rllab: positions and subtree_com of the new state
        x_after = float(self.data.subtree_com[self._root, 0])
        self._path += abs(x_after - x_before)

        reward_forward = abs(x_after - x_before) / self.dt
        ctrl_cost = self.ctrl_cost_weight * float(np.sum(np.square(action)))
        bonus = finish_line_bonus(x_after, self.finish_bonus, self.finish_line_x)
        info = {
            **self._position_info(),
            "x_velocity": (x_after - x_before) / self.dt,
            "reward_forward": reward_forward,
            "reward_ctrl": -ctrl_cost,
            "reward_finish": bonus,
        }
        if self.render_mode == "human":
            self.render()
        return self._get_obs(), reward_forward - ctrl_cost + bonus, False, False, info

    def _get_obs(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel, self.data.subtree_com[self._root]])

    def reset_model(self) -> np.ndarray:
        qpos = self.init_qpos + self.np_random.normal(scale=QPOS_NOISE, size=self.model.nq)
        qvel = self.init_qvel + self.np_random.normal(scale=QVEL_NOISE, size=self.model.nv)
        self.set_state(qpos, qvel)  # runs mj_forward, so subtree_com is current
        self._start_x, self._path = float(self.data.subtree_com[self._root, 0]), 0.0
        return self._get_obs()

    def _position_info(self) -> dict[str, Any]:
        com_x = float(self.data.subtree_com[self._root, 0])
        return {
            "com_x": com_x,
            "com_y": float(self.data.subtree_com[self._root, 1]),
            "com_travel": com_x - self._start_x,
            "com_path": self._path,
            "torso_x": float(self.data.qpos[0]),
            "beyond_finish_line": beyond_finish_line(com_x, self.finish_line_x),
        }

    def _get_reset_info(self) -> dict[str, Any]:
        return self._position_info()
