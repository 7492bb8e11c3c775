"""SB3 baselines configured to the paper's protocol; nothing re-implemented.

- ``ddpg``: :class:`HardTargetDDPG` (SB3 DDPG + hard target copies, App. D.1), OU or Gaussian noise.
- ``sac``, ``td3``: SB3's own classes (SAC with automatic entropy tuning).
"""

from stable_baselines3 import SAC, TD3

from baselines.ddpg import HardTargetDDPG, make_action_noise

__all__ = ["SAC", "TD3", "HardTargetDDPG", "make_action_noise"]
