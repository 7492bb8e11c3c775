"""The paper's quadruped tasks (Sec. 5.2 Fig. 3b, Sec. 5.3 Figs. 4, 5, 7) on the gymnasium Ant-v5 body.

One env class, :class:`AntArenaEnv`, parametrised by an :class:`ArenaSpec` (a list of wall boxes, a
reward kind and, for goal tasks, a target and a Gaussian width). Walls are generated into the MuJoCo
model from the same wall list that the maze threshold and the tests read.

==========================  =================  ==============================================================
id                          arena              reward (every task adds healthy - ctrl - contact, see below)
==========================  =================  ==============================================================
softq/AntMaze-v0            two-passage maze   exp(-d^2 / 2 sigma^2), d = torso distance to the target
softq/AntPretrain-v1        open floor         ||(v_x, v_y)||, planar speed of the ant's centre of mass, any
                                               direction
softq/AntWideHallway-v1     walls y = +-4.0    ||(v_x, v_y)|| (the pretraining reward)
softq/AntNarrowHallway-v1   walls y = +-1.25   ||(v_x, v_y)|| (the pretraining reward)
softq/AntUMaze-v1           U-maze             exp(-d^2 / 2 sigma^2)
==========================  =================  ==============================================================

The speed is that of the whole ant's centre of mass (the torso's subtree in MuJoCo), as rllab's
``get_body_comvel("torso")`` pays it, the robot the paper used. The retired ``-v0`` speed ids paid the
torso body's speed, which its rocking inflates by 5-15% over the centre of mass's (ledger ant-velocity;
git history keeps them and their runs). The U-maze's goal reward is unchanged; ``-v1`` marks the
fine-tuning runs that start from softq/AntPretrain-v1.

All five share one observation space, so a network pretrained on one loads unchanged on every other:
``Box(-inf, inf, (29,), float64)`` = qpos (15) + qvel (14) of Ant-v5 with
``exclude_current_positions_from_observation=False`` and ``include_cfrc_ext_in_observation=False``:

    [0:2] torso x, y   [2] torso z   [3:7] torso quaternion (w, x, y, z)   [7:15] 8 joint angles
    [15:18] torso linear velocity   [18:21] torso angular velocity        [21:29] 8 joint velocities

x, y are in the observation because the goal rewards depend on the position (the task stays Markov
without a goal observation; the target is fixed per task). The 78 clipped contact forces of Ant-v5's
default 105-dim observation are dropped (Ant-v4's default layout, plus x, y): the network input shrinks
3.7x, which matters at this project's compute budget, and the contact cost is still in the reward
(deviation ``ant-observation``). Walls are geoms of the world body, so they add no state and leave the
layout alone.

Reward terms (deviation ``ant-reward-terms``): all tasks keep rllab's Ant terms with rllab's weights, the
robot the paper used (Schulman et al. 2015b): healthy reward 0.05 while healthy, control cost
``0.005 ||a||^2``, contact cost ``5e-4 ||clip(cfrc_ext, -1, 1)||^2`` (gymnasium Ant-v5 defaults are 1.0,
0.5 and 5e-4). The paper's temperatures (alpha = 0.1 for pretraining) were set against that reward scale,
and with Ant-v5's weights a near-uniform max-ent policy pays about 1.3 per step of control cost, more than
the healthy reward, so ending the episode early would pay. Episodes terminate when the torso height
leaves [0.2, 1.0] (our reading of the paper's anti-flip termination: rllab's and Ant-v5's range).
Velocities are finite differences of the centre of mass's planar position over dt = 0.05 s (5 frames of
0.01 s); the horizon is 500 steps (25 s) for every task. Actions must have shape (8,) and be finite (else
``ValueError``); finite actions outside [-1, 1] are clipped before the physics and the control cost.

Geometry (metres; the ant starts at the origin, plus Ant-v5's uniform +-0.1 reset noise). The ant's
legs reach 0.95 m from the torso centre in the rest pose and at most 1.14 m (ankles at their flattest,
capsule radius included), so every maze corridor is 3 m wide (rllab AntMaze's MAZE_SIZE_SCALING). Walls
are 1 m high: with the feet hanging ~0.4 m below the torso, getting over one would take the torso above
z = 1.0, which terminates.

* Two-passage maze (Fig. 3b): free space x in [-2, 10.5], y in [-4, 4]. A divider x in [2, 7],
  y in [-1, 1] splits it into an upper (y in [1, 4]) and a lower (y in [-4, -1]) passage that look the
  same from the start; a block x in [6, 7] closes the upper passage's far end. Target (9, 0).
  :data:`ANTMAZE_THRESHOLD` = sqrt(10) = 3.162 m: the nearest point to the target of the free space
  reachable without the lower passage (the start area and the upper passage up to the block), see
  :func:`upper_route_threshold`. It ignores the ant's size, so it is a lower bound of what the upper
  route gives and ``min distance < threshold`` proves the lower route was found. Lower route start to
  target about 11.4 m: 23 s (456 steps) at 0.5 m/s, 228 steps at 1 m/s.
* U-maze (Fig. 4d): rllab AntMazeEnv's U-maze grid at its 3 m scaling: free x in [-1.5, 7.5],
  y in [-1.5, 7.5] minus the inner wall x in [-1.5, 4.5], y in [1.5, 4.5]. Start (0, 0), target (0, 6);
  the corridor path is 18 m (0.72 m/s to arrive within 25 s; gymnasium-robotics AntMaze_UMaze asks for
  24 m in 35 s, 0.69 m/s).
* Hallways (Fig. 4b, c): walls parallel to x from x = -100 to 100 with inner faces at y = +-w:
  w = 4.0 (wide: 8 m, about four ant widths) and w = 1.25 (narrow: 2.5 m; the ant, whose legs reach at
  most 1.14 m from the torso centre, fits in any heading with 0.1 m to spare, so it cannot run
  sideways).
* Goal reward width sigma = 3 m = one corridor width (deviation ``ant-goal-sigma``). In the two-passage
  maze the bump is 0.011 at the start, about 0.05 at the passage entrances and 0.57 at the threshold
  distance, so the blocked passage is a real local optimum worth at most ~0.6 of the target. In the
  U-maze it is 0.14 at the start, 0.32 against the inner wall below the target and 0.018 at the far
  corner (6, 0): the reward is deceptive there, as a curved path to a Gaussian target must be.

Per-step cost (``experiments/measurements/ant_envs.py``, 5000 uniform random steps per task, one CPU core,
mujoco 4.0.0): raw ``env.unwrapped.step`` runs at 5,500 steps/s on the open floor (0.18 ms/step), 4,800
in the hallways and 4,300-4,400 in the mazes (0.23 ms/step; collision checks against the wall geoms cost
the difference).
Note that an ant lying on its back rests at torso z = 0.27, inside the healthy range: the z rule (as in
rllab and Ant-v5) ends an episode when the torso bounces above 1.0, not once the ant lies flipped. A
uniform random policy terminates early (episode length q10/q50/q90 = 29/64/500 steps over 40
episodes): its torque bursts bounce the torso above z = 1.0. With actions scaled by 0.3 every episode
lasts the full 500 steps.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import mujoco
import numpy as np
from gymnasium import utils
from gymnasium.envs.mujoco.ant_v5 import AntEnv

from softq.envs.actions import checked_action

ASSET_XML = Path(__file__).parent / "assets" / "ant_arena.xml"

HORIZON = 500
DT = 0.05  # Ant-v5: frame_skip 5 x timestep 0.01
OBS_DIM = 29  # qpos 15 (with x, y) + qvel 14; no contact forces
HEALTHY_Z_RANGE = (0.2, 1.0)
HEALTHY_REWARD = 0.05  # rllab AntEnv
CTRL_COST_WEIGHT = 5e-3  # rllab AntEnv: 0.5 * 1e-2 * ||a||^2 on normalised actions
CONTACT_COST_WEIGHT = 5e-4  # rllab AntEnv (= Ant-v5 default)

WALL_HEIGHT = 1.0
WALL_THICKNESS = 0.5
CORRIDOR_WIDTH = 3.0
GOAL_SIGMA = 3.0

# Two-passage maze (Fig. 3b).
MAZE_X_RANGE = (-2.0, 10.5)
MAZE_Y_RANGE = (-4.0, 4.0)
MAZE_DIVIDER = (2.0, 7.0, -1.0, 1.0)  # x_min, x_max, y_min, y_max
MAZE_BLOCK_X = (6.0, 7.0)  # closes the upper passage (y in [1, 4]) at its far end
MAZE_TARGET = (9.0, 0.0)

# U-maze (Fig. 4d): rllab AntMazeEnv's U grid at scaling 3.
UMAZE_X_RANGE = (-1.5, 7.5)
UMAZE_Y_RANGE = (-1.5, 7.5)
UMAZE_INNER = (-1.5, 4.5, 1.5, 4.5)
UMAZE_TARGET = (0.0, 6.0)

# Hallways (Fig. 4b, c).
WIDE_HALLWAY_HALF_WIDTH = 4.0
NARROW_HALLWAY_HALF_WIDTH = 1.25
HALLWAY_HALF_LENGTH = 100.0

RewardKind = Literal["speed", "goal"]


@dataclass(frozen=True)
class Wall:
    """An axis-aligned wall box on the floor, given by its footprint (metres); height WALL_HEIGHT."""

    name: str
    x_min: float
    x_max: float
    y_min: float
    y_max: float

    def __post_init__(self) -> None:
        if not (self.x_min < self.x_max and self.y_min < self.y_max):
            raise ValueError(f"wall {self.name!r} has an empty footprint: {self}")


@dataclass(frozen=True)
class ArenaSpec:
    """Walls, reward kind and (goal tasks) target and Gaussian width of one ant task."""

    name: str
    reward: RewardKind
    walls: tuple[Wall, ...] = ()
    target: tuple[float, float] | None = None
    sigma: float = GOAL_SIGMA
    walls_by_name: Mapping[str, Wall] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.reward not in ("speed", "goal"):
            raise ValueError(f"arena {self.name!r}: reward must be 'speed' or 'goal', got {self.reward!r}")
        if self.reward == "goal" and self.target is None:
            raise ValueError(f"arena {self.name!r}: a goal reward needs a target")
        if self.reward == "goal" and not self.sigma > 0:
            raise ValueError(f"arena {self.name!r}: sigma must be positive, got {self.sigma}")
        names = [w.name for w in self.walls]
        if len(set(names)) != len(names):
            raise ValueError(f"arena {self.name!r}: wall names must be unique, got {names}")
        object.__setattr__(self, "walls_by_name", {w.name: w for w in self.walls})


def enclosure(x_range: tuple[float, float], y_range: tuple[float, float]) -> tuple[Wall, ...]:
    """Four outer walls whose inner faces bound the free rectangle x_range x y_range."""
    (x0, x1), (y0, y1), t = x_range, y_range, WALL_THICKNESS
    return (
        Wall("outer_left", x0 - t, x0, y0 - t, y1 + t),
        Wall("outer_right", x1, x1 + t, y0 - t, y1 + t),
        Wall("outer_bottom", x0, x1, y0 - t, y0),
        Wall("outer_top", x0, x1, y1, y1 + t),
    )


def hallway(half_width: float) -> tuple[Wall, ...]:
    """Two walls parallel to x with inner faces at y = +-half_width."""
    t, length = WALL_THICKNESS, HALLWAY_HALF_LENGTH
    return (
        Wall("hall_bottom", -length, length, -half_width - t, -half_width),
        Wall("hall_top", -length, length, half_width, half_width + t),
    )


TWO_PASSAGE_MAZE = ArenaSpec(
    name="two_passage_maze",
    reward="goal",
    walls=(
        *enclosure(MAZE_X_RANGE, MAZE_Y_RANGE),
        Wall("divider", *MAZE_DIVIDER),
        Wall("block", *MAZE_BLOCK_X, MAZE_DIVIDER[3], MAZE_Y_RANGE[1]),
    ),
    target=MAZE_TARGET,
)
U_MAZE = ArenaSpec(
    name="u_maze",
    reward="goal",
    walls=(*enclosure(UMAZE_X_RANGE, UMAZE_Y_RANGE), Wall("inner", *UMAZE_INNER)),
    target=UMAZE_TARGET,
)
OPEN_ARENA = ArenaSpec(name="open", reward="speed")
WIDE_HALLWAY = ArenaSpec(name="wide_hallway", reward="speed", walls=hallway(WIDE_HALLWAY_HALF_WIDTH))
NARROW_HALLWAY = ArenaSpec(name="narrow_hallway", reward="speed", walls=hallway(NARROW_HALLWAY_HALF_WIDTH))

ARENAS: dict[str, ArenaSpec] = {
    spec.name: spec for spec in (TWO_PASSAGE_MAZE, U_MAZE, OPEN_ARENA, WIDE_HALLWAY, NARROW_HALLWAY)
}


def rect_distance(point: Sequence[float], x_range: Sequence[float], y_range: Sequence[float]) -> float:
    """Euclidean distance from a point to the closed rectangle x_range x y_range (0 inside)."""
    px, py = point
    dx = max(x_range[0] - px, 0.0, px - x_range[1])
    dy = max(y_range[0] - py, 0.0, py - y_range[1])
    return math.hypot(dx, dy)


def upper_route_threshold(walls: Mapping[str, Wall], target: Sequence[float]) -> float:
    """The smallest torso-to-target distance reachable without taking the lower passage.

    The free space reachable by the upper route is the start area (between the left outer wall and the
    divider, full maze height) and the upper passage (above the divider, from the divider's start up to
    the block). Pure function of the walls named outer_left/outer_bottom/outer_top/divider/block. The
    ant's body is ignored, so this is a lower bound of what the upper route really reaches.
    """
    left, bottom, top = walls["outer_left"], walls["outer_bottom"], walls["outer_top"]
    divider, block = walls["divider"], walls["block"]
    start_area = ((left.x_max, divider.x_min), (bottom.y_max, top.y_min))
    upper_passage = ((divider.x_min, block.x_min), (divider.y_max, top.y_min))
    return min(rect_distance(target, xr, yr) for xr, yr in (start_area, upper_passage))


ANTMAZE_THRESHOLD = upper_route_threshold(TWO_PASSAGE_MAZE.walls_by_name, MAZE_TARGET)


def below_threshold(min_distance: float) -> bool:
    """True if a minimum distance to the maze target proves the lower passage was found (Fig. 3b)."""
    return bool(min_distance < ANTMAZE_THRESHOLD)


def gaussian_bump(xy: Sequence[float], target: Sequence[float], sigma: float) -> float:
    """exp(-||xy - target||^2 / (2 sigma^2)): 1 at the target."""
    d2 = (xy[0] - target[0]) ** 2 + (xy[1] - target[1]) ** 2
    return math.exp(-d2 / (2.0 * sigma**2))


def planar_speed(x_velocity: float, y_velocity: float) -> float:
    """Speed in the xy-plane in any direction, ||(v_x, v_y)|| (the pretraining reward)."""
    return math.hypot(x_velocity, y_velocity)


def arena_xml(spec: ArenaSpec) -> str:
    """The ant MJCF with the arena's walls (and a target marker site) added to the world body."""
    root = ET.parse(ASSET_XML).getroot()
    worldbody = root.find("worldbody")
    assert worldbody is not None  # the asset file has one
    for wall in spec.walls:
        cx, cy = (wall.x_min + wall.x_max) / 2, (wall.y_min + wall.y_max) / 2
        hx, hy = (wall.x_max - wall.x_min) / 2, (wall.y_max - wall.y_min) / 2
        ET.SubElement(
            worldbody,
            "geom",
            name=f"wall_{wall.name}",
            type="box",
            pos=f"{cx} {cy} {WALL_HEIGHT / 2}",
            size=f"{hx} {hy} {WALL_HEIGHT / 2}",
            contype="1",
            conaffinity="1",
            condim="3",
            rgba="0.45 0.45 0.5 1",
        )
    if spec.target is not None:
        ET.SubElement(
            worldbody,
            "site",
            name="target",
            type="sphere",
            pos=f"{spec.target[0]} {spec.target[1]} 0.1",
            size="0.3",
            rgba="0.9 0.2 0.2 0.6",
        )
    return ET.tostring(root, encoding="unicode")


_FIXED_LAYOUT_KWARGS = ("exclude_current_positions_from_observation", "include_cfrc_ext_in_observation")


class AntArenaEnv(AntEnv):
    """Ant-v5 body in an arena of walls, with a speed or a Gaussian goal reward (see module docstring).

    ``arena`` is a key of :data:`ARENAS` or an :class:`ArenaSpec`. The cost weights and the reset noise can
    be overridden; the observation layout cannot. ``info`` carries, every step and at reset,
    ``x_position``, ``y_position`` (torso), ``com_x``, ``com_y`` (centre of mass), ``com_travel_x``,
    ``com_travel_y`` (its displacement since reset) and ``com_path`` (the planar distance it covered since
    reset); every step ``x_velocity``, ``y_velocity`` (of the centre of mass), the reward terms, and for goal
    arenas ``distance_to_target`` (torso).
    """

    def __init__(
        self,
        arena: str | ArenaSpec = "open",
        ctrl_cost_weight: float = CTRL_COST_WEIGHT,
        contact_cost_weight: float = CONTACT_COST_WEIGHT,
        healthy_reward: float = HEALTHY_REWARD,
        reset_noise_scale: float = 0.1,
        **kwargs: Any,
    ) -> None:
        fixed = [k for k in _FIXED_LAYOUT_KWARGS if k in kwargs]
        if fixed:
            raise ValueError(f"the ant observation layout is fixed across tasks; do not pass {fixed}")
        if isinstance(arena, str):
            if arena not in ARENAS:
                raise ValueError(f"unknown arena {arena!r}; known: {sorted(ARENAS)}")
            spec = ARENAS[arena]
        elif isinstance(arena, ArenaSpec):
            spec = arena
        else:
            raise TypeError(f"arena must be a name or an ArenaSpec, got {type(arena).__name__}")
        self.arena = spec
        super().__init__(
            xml_file=str(ASSET_XML),
            frame_skip=5,
            ctrl_cost_weight=ctrl_cost_weight,
            contact_cost_weight=contact_cost_weight,
            healthy_reward=healthy_reward,
            terminate_when_unhealthy=True,
            healthy_z_range=HEALTHY_Z_RANGE,
            reset_noise_scale=reset_noise_scale,
            exclude_current_positions_from_observation=False,
            include_cfrc_ext_in_observation=False,
            **kwargs,
        )
        utils.EzPickle.__init__(
            self,
            arena,
            ctrl_cost_weight,
            contact_cost_weight,
            healthy_reward,
            reset_noise_scale,
            **kwargs,
        )
        assert self.observation_space.shape == (OBS_DIM,), self.observation_space.shape
        self._root = self.model.body("torso").id
        self._com_start = self.com()
        self._com_path = 0.0

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = mujoco.MjModel.from_xml_string(arena_xml(self.arena))
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        return model, mujoco.MjData(model)

    def distance_to_target(self) -> float:
        if self.arena.target is None:
            raise ValueError(f"arena {self.arena.name!r} has no target")
        x, y = self.data.qpos[0:2]
        return math.hypot(x - self.arena.target[0], y - self.arena.target[1])

    def com(self) -> np.ndarray:
        """The planar position of the whole ant's centre of mass (the torso's subtree; walls belong to the
        world body), at the current state."""
        return self.data.subtree_com[self._root, :2].copy()

    def step(self, action):
        action = checked_action(action, self.action_space, "Ant")

        com_before = self.com()
        self.do_simulation(action, self.frame_skip)
        # mj_step leaves subtree_com at the last substep's start; recompute it (and only the kinematics,
        # so that the contact forces the cost reads stay the step's) for the new state.
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)
        com_after = self.com()
        self._com_path += float(np.linalg.norm(com_after - com_before))
        x_velocity, y_velocity = (com_after - com_before) / self.dt

        info: dict[str, Any] = {
            **self._position_info(),
            "x_velocity": float(x_velocity),
            "y_velocity": float(y_velocity),
        }
        if self.arena.reward == "speed":
            task_reward = planar_speed(x_velocity, y_velocity)
            info["reward_speed"] = task_reward
        else:
            task_reward = gaussian_bump(self.data.qpos[0:2], self.arena.target, self.arena.sigma)
            info["reward_goal"] = task_reward
            info["distance_to_target"] = self.distance_to_target()
        healthy_reward = float(self.healthy_reward)
        ctrl_cost = float(self.control_cost(action))
        contact_cost = float(self.contact_cost)
        reward = task_reward + healthy_reward - ctrl_cost - contact_cost
        info.update(reward_survive=healthy_reward, reward_ctrl=-ctrl_cost, reward_contact=-contact_cost)
        terminated = (not self.is_healthy) and self._terminate_when_unhealthy

        if self.render_mode == "human":
            self.render()
        return self._get_obs(), reward, bool(terminated), False, info

    def reset_model(self) -> np.ndarray:
        observation = super().reset_model()  # set_state runs mj_forward, so subtree_com is current
        self._com_start, self._com_path = self.com(), 0.0
        return observation

    def _position_info(self) -> dict[str, float]:
        com = self.com()
        return {
            "x_position": float(self.data.qpos[0]),
            "y_position": float(self.data.qpos[1]),
            "com_x": float(com[0]),
            "com_y": float(com[1]),
            "com_travel_x": float(com[0] - self._com_start[0]),
            "com_travel_y": float(com[1] - self._com_start[1]),
            "com_path": self._com_path,
        }

    def _get_reset_info(self) -> dict[str, float]:
        info = self._position_info()
        if self.arena.target is not None:
            info["distance_to_target"] = self.distance_to_target()
        return info
