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
  xi ~ N(0, I) from a generator seeded by the run's seed (a resumed run gets the same set).

Both are pure functions of the epoch, so a resumed run applies exactly what the uninterrupted run would
have. The values applied are written into progress.csv (``alpha``, ``noise_set_size``).
"""

from __future__ import annotations

from typing import Any

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm

from experiments.evaluation import NOISE_SET, derived_seed
from softq import SQL
from softq.schedules import linear_count, log_linear

SCHEDULE_KEYS = {"alpha", "noise_set"}


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
