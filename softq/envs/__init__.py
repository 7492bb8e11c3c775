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
    for env_id, arena, speed_of in (
        ("softq/AntMaze-v0", "two_passage_maze", "com"),  # goal rewards read the torso's position
        ("softq/AntPretrain-v1", "open", "com"),
        ("softq/AntWideHallway-v1", "wide_hallway", "com"),
        ("softq/AntNarrowHallway-v1", "narrow_hallway", "com"),
        # The U-maze's reward is unchanged; its id moves with the fine-tuning set, whose runs start from
        # softq/AntPretrain-v1, so that none can be taken for a run that started from v0.
        ("softq/AntUMaze-v1", "u_maze", "com"),
        # Retired (ledger ant-velocity): the speed of the torso body, kept while the quick runs made on them
        # stand in results/.
        ("softq/AntPretrain-v0", "open", "torso"),
        ("softq/AntWideHallway-v0", "wide_hallway", "torso"),
        ("softq/AntNarrowHallway-v0", "narrow_hallway", "torso"),
        ("softq/AntUMaze-v0", "u_maze", "torso"),
    ):
        _register(
            env_id,
            "softq.envs.ant:AntArenaEnv",
            max_episode_steps=500,
            kwargs={"arena": arena, "speed_of": speed_of},
        )


register_envs()
