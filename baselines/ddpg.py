"""DDPG as the paper ran it: SB3's DDPG plus hard target copies, and Ornstein-Uhlenbeck exploration.

The paper's DDPG shares SQL's hyperparameters (App. D.1), including target networks that are frozen
for ``target_update_interval`` steps and then copied (tau = 1). SB3's DDPG only averages targets
(Polyak, every update); :class:`HardTargetDDPG` is the smallest extension that copies instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3 import DDPG
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise, OrnsteinUhlenbeckActionNoise


class HardTargetDDPG(DDPG):
    """SB3 DDPG whose actor and critic targets are hard-copied every ``target_update_interval`` env steps.

    With an interval, SB3's own Polyak step runs with tau = 0 (a no-op) and :meth:`_on_step` copies,
    exactly as SQL does. With ``target_update_interval=None`` it is SB3's DDPG unchanged (Polyak, ``tau``).
    """

    def __init__(self, *args: Any, target_update_interval: int | None = None, **kwargs: Any):
        if target_update_interval is not None:
            if int(target_update_interval) != target_update_interval or target_update_interval < 1:
                raise ValueError(
                    f"target_update_interval must be a positive integer, got {target_update_interval}"
                )
            if kwargs.get("tau", 0.0) != 0.0:
                raise ValueError("with target_update_interval, targets are copied; do not also pass tau")
            kwargs["tau"] = 0.0
        self.target_update_interval = target_update_interval
        self._n_calls = 0
        super().__init__(*args, **kwargs)

    def _on_step(self) -> None:
        self._n_calls += 1
        if self.target_update_interval is None:
            return
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            self.actor_target.load_state_dict(self.actor.state_dict())
            self.critic_target.load_state_dict(self.critic.state_dict())


def make_action_noise(action_space: spaces.Box, spec: dict[str, Any]) -> ActionNoise:
    """Exploration noise in the normalised [-1, 1] action space from a config entry:
    ``{type: ornstein_uhlenbeck, theta, sigma}`` (App. D.1: theta 0.15, sigma 0.3) or
    ``{type: normal, sigma}`` (rl-zoo3)."""
    dim = int(np.prod(action_space.shape))
    kind = spec.get("type")
    if kind == "ornstein_uhlenbeck":
        return OrnsteinUhlenbeckActionNoise(
            mean=np.zeros(dim), sigma=spec["sigma"] * np.ones(dim), theta=spec["theta"]
        )
    if kind == "normal":
        return NormalActionNoise(mean=np.zeros(dim), sigma=spec["sigma"] * np.ones(dim))
    raise ValueError(f"unknown action noise type {kind!r}; valid: ['normal', 'ornstein_uhlenbeck']")
