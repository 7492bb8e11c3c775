"""Fine-tuning pretrained policies on the hallways and the U-maze (paper Sec. 5.3, Fig. 5, App. D.1).

Each ``*_pretrained`` algo starts from the weights of the ``pretrain`` run of the same seed (task file
``init_from``; the runner loads them). SQL's fine-tuning follows App. D.1 through :func:`apply_schedule`,
the experiment's epoch hook, which the runner calls at the start of every epoch with the preset's
``schedule``:

- ``alpha: {start, end, epochs}``: the temperature annealed log-linearly from the pretraining value to
  ``end`` within ``epochs`` epochs (:func:`softq.schedules.log_linear`), applied as SQL's
  ``reward_scale = 1 / alpha``;
- ``noise_set: {start, end, epochs}``: the sampler's noise restricted to a fixed set {xi_1 .. xi_K} whose
  size K shrinks linearly from ``start`` to ``end`` (:func:`softq.schedules.linear_count`). The set is
  the first K rows of one fixed draw per run (:func:`noise_set_for`): xi_1 = 0, so the deterministic
  policy (xi_1) is the sampler at zero noise before, during and after the schedule, and the rest
  xi ~ N(0, I) from a generator seeded by the run's seed (a resumed run gets the same set). It needs
  the policy :class:`NoiseSetSQLPolicy`, which the task file's SQL preset names (``policy:``).

Both are pure functions of the epoch, so a resumed run applies exactly what the uninterrupted run would
have. The values applied are written into progress.csv (``alpha``, ``noise_set_size``).

:class:`FinetuneMetrics` logs where the deployed policy's evaluation rollouts took the ant's centre of
mass and how long they lasted, so that a return can be checked against movement; :func:`write_artifacts`
keeps the final weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments import layout
from experiments.evaluation import NOISE_SET, Episode, derived_seed
from experiments.metrics import TaskMetrics, planar_travel_columns
from experiments.models import save_weights
from softq import SQL, SQLPolicy
from softq.schedules import linear_count, log_linear

SCHEDULE_KEYS = {"alpha", "noise_set"}


class FinetuneMetrics(TaskMetrics):
    """From the deployed policy's evaluation rollouts (the policy whose return Fig. 5 plots), the ant's
    centre-of-mass displacement d = (x, y)_end - (x, y)_start (the env's ``com_travel_*``):

    - ``travel_x_deployed``: mean d_x (m), signed: the hallways run along x, so it says how far and which
      way the ant ran (the speed reward pays either way);
    - ``distance_deployed``, ``path_deployed`` and ``travel_ratio_deployed``
      (:func:`~experiments.metrics.planar_travel_columns`): how far it got, the path a speed reward pays
      for, and whether that speed went one way;
    - ``length_deployed``: mean episode length (steps), below the horizon when the torso left the healthy
      height range: every step alive earns the healthy reward and, on the U-maze, the goal bump at the
      start, so the return also measures how long the ant stayed up;
    - on goal tasks (the U-maze), ``min_distance_to_target_deployed``: the mean over episodes of the torso's
      closest approach to the target (m), which says whether the ant went round the maze at all.
    """

    def epoch_metrics(self, deployed: list[Episode], exploring: list[Episode]) -> dict[str, float]:
        travel, columns = planar_travel_columns(deployed, "deployed")
        metrics = {
            "travel_x_deployed": float(travel[:, 0].mean()),
            **columns,
            "length_deployed": float(np.mean([len(e.rewards) for e in deployed])),
        }
        if "distance_to_target" in deployed[0].infos[-1]:
            metrics["min_distance_to_target_deployed"] = float(
                np.mean([min(info["distance_to_target"] for info in e.infos) for e in deployed])
            )
        return metrics


def write_artifacts(model: BaseAlgorithm, env: gym.Env, folder: Path) -> None:
    """The fine-tuned policy's weights (``artifacts/model.zip``), so that what it does can be replayed."""
    save_weights(model, folder / layout.WEIGHTS)


class NoiseSetSQLPolicy(SQLPolicy):
    """SQL's policy with the fine-tuning noise set (App. D.1): :meth:`set_noise_set` restricts the
    sampler's noise to a fixed set of rows {xi_1, ..., xi_K}. While it is set, a stochastic action uses a
    row drawn uniformly at random, a deterministic action uses the first row xi_1 (the one a set shrunk to
    K = 1 keeps, so that with K = 1 the stochastic and deterministic policies are the same function), and
    the SVGD step draws its particles from the set as well (it draws from :meth:`sample_noise`). Without
    a set it is :class:`~softq.policies.SQLPolicy`. The set is a buffer of the policy: it is saved, loaded
    and checkpointed with the weights."""

    noise_set: th.Tensor | None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.register_buffer("noise_set", None)

    def set_noise_set(self, noise_set: th.Tensor | None) -> None:
        """Restrict the sampler's noise to the rows of ``noise_set`` (shape (K, action_dim), K >= 1), or
        lift the restriction with None."""
        if noise_set is None:
            self.noise_set = None
            return
        noise_set = th.as_tensor(noise_set, dtype=th.float32)
        if noise_set.ndim != 2 or noise_set.shape[0] < 1 or noise_set.shape[1] != self.action_dim:
            raise ValueError(
                f"noise_set must have shape (K >= 1, {self.action_dim}), got {tuple(noise_set.shape)}"
            )
        if not th.isfinite(noise_set).all():
            raise ValueError("noise_set must be finite")
        self.noise_set = noise_set.detach().clone().to(self.device)

    @property
    def noise_set_size(self) -> int | None:
        """K, the number of rows of the fixed noise set; None when the noise is N(0, I)."""
        return None if self.noise_set is None else int(self.noise_set.shape[0])

    def sample_noise(self, *shape: int, device: th.device | str | None = None) -> th.Tensor:
        """Rows of the noise set drawn uniformly with replacement (with K = 1 every SVGD particle is xi_1:
        the kernel is constant and the step is a deterministic-policy-gradient step on f(s, xi_1))."""
        if self.noise_set is None:
            return super().sample_noise(*shape, device=device)
        index = th.randint(self.noise_set.shape[0], shape, device=self.noise_set.device)
        return self.noise_set[index].to(device)

    def deterministic_noise(self, n: int, device: th.device | str | None = None) -> th.Tensor:
        if self.noise_set is None:
            return super().deterministic_noise(n, device)
        return self.noise_set[0].to(device).expand(n, self.action_dim)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # The noise set is an optional buffer: a state dict with one sets it, a state dict without one
        # (every policy that never had a set, e.g. a pretrained one) clears it.
        key = prefix + "noise_set"
        self.noise_set = state_dict[key].detach().clone() if key in state_dict else None
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


def noise_set_for(seed: int, size: int, action_dim: int) -> th.Tensor:
    """The run's fixed noise set, shape (size, action_dim): row 0 is zero, the others N(0, I) draws from
    a generator seeded by the run's seed (the global torch RNG is not touched)."""
    generator = th.Generator().manual_seed(derived_seed(seed, NOISE_SET))
    noise = th.randn(size, action_dim, generator=generator)
    noise[0] = 0.0
    return noise


def apply_schedule(model: BaseAlgorithm, epoch: int, schedule: dict[str, Any], seed: int) -> dict[str, float]:
    """Set the temperature and the noise set of epoch ``epoch`` (0 = the first); returns what it set."""
    if not schedule:
        return {}
    unknown = set(schedule) - SCHEDULE_KEYS
    if unknown:
        raise ValueError(f"unknown schedule entries {sorted(unknown)}; valid: {sorted(SCHEDULE_KEYS)}")
    if not isinstance(model, SQL):
        raise ValueError(f"fine-tuning schedules are for SQL; got {type(model).__name__}")
    if "noise_set" in schedule and not isinstance(model.policy, NoiseSetSQLPolicy):
        raise ValueError(f"a noise_set schedule needs policy: {__name__}:NoiseSetSQLPolicy in the preset")
    applied: dict[str, float] = {}
    if "alpha" in schedule:
        spec = schedule["alpha"]
        alpha = log_linear(float(spec["start"]), float(spec["end"]), int(spec["epochs"]))(epoch)
        model.reward_scale = 1.0 / alpha
        applied["alpha"] = alpha
    if "noise_set" in schedule:
        spec = schedule["noise_set"]
        size = linear_count(int(spec["start"]), int(spec["end"]), int(spec["epochs"]))(epoch)
        full = noise_set_for(seed, max(int(spec["start"]), int(spec["end"])), model.policy.action_dim)
        model.policy.set_noise_set(full[:size])
        applied["noise_set_size"] = size
    return applied
