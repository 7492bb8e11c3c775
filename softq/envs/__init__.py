"""The paper's tasks as gymnasium envs, registered under the ``softq/`` namespace on ``import softq``."""

from __future__ import annotations

from gymnasium.envs.registration import register, registry


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    if env_id not in registry:
        register(id=env_id, entry_point=entry_point, **kwargs)


def register_envs() -> None:
    _register("softq/MultiGoal-v0", "softq.envs.multigoal:MultiGoalEnv", max_episode_steps=30)
    # Sub-tasks of the multi-goal env for composition (softq/composition.py): rewarded goals only.
    _register("softq/MultiGoalSubset-v0", "softq.envs.multigoal:MultiGoalEnv", max_episode_steps=30)
    _register(
        "softq/MultiGoalRightUp-v0",
        "softq.envs.multigoal:MultiGoalEnv",
        max_episode_steps=30,
        kwargs={"goals": ("right", "up")},
    )
    _register(
        "softq/MultiGoalUpLeft-v0",
        "softq.envs.multigoal:MultiGoalEnv",
        max_episode_steps=30,
        kwargs={"goals": ("up", "left")},
    )
    _register("softq/SwimmerFinishLine-v1", "softq.envs.swimmer:SwimmerFinishLineEnv", max_episode_steps=500)
    # The speed tasks are v1: v0 paid the torso's speed, not the centre of mass's (ledger ant-velocity). The
    # U-maze's reward is unchanged; its id moved with the fine-tuning set, whose runs start from
    # softq/AntPretrain-v1, so that none can be taken for a run that started from v0.
    for env_id, arena in (
        ("softq/AntMaze-v0", "two_passage_maze"),
        ("softq/AntPretrain-v1", "open"),
        ("softq/AntWideHallway-v1", "wide_hallway"),
        ("softq/AntNarrowHallway-v1", "narrow_hallway"),
        ("softq/AntUMaze-v1", "u_maze"),
    ):
        _register(env_id, "softq.envs.ant:AntArenaEnv", max_episode_steps=500, kwargs={"arena": arena})


register_envs()
