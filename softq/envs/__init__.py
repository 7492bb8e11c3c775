"""The paper's tasks as gymnasium envs, registered under the ``softq/`` namespace on ``import softq``."""

from __future__ import annotations

from gymnasium.envs.registration import register, registry


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)


def register_envs() -> None:
    _register("softq/MultiGoal-v0", "softq.envs.multigoal:MultiGoalEnv", max_episode_steps=30)


register_envs()
