"""Per-epoch schedules of the fine-tuning protocol (paper App. D.1), as pure functions of the epoch.

A schedule is built once and then called with the index of the epoch about to start (0 for the first):

- :func:`log_linear`: the temperature alpha annealed log-linearly from the pretraining value to 0.001
  "within 20 epochs": ``log_linear(0.1, 0.001, 20)`` gives 0.1 at epoch 0, 0.01 at epoch 10 and 0.001
  from epoch 20 on. With the temperature folded into the reward (``reward_scale = 1 / alpha``) the same
  schedule is ``log_linear(10, 1000, 20)``: the reciprocal of a log-linear schedule is log-linear.
- :func:`linear_count`: the size K_xi of the fixed noise set, shrunk linearly to 1 "within 20 epochs":
  ``linear_count(32, 1, 20)`` gives 32 at epoch 0, ceil(16.5) = 17 at epoch 10 and 1 from epoch 20 on.

Both hold their end value after ``n_epochs``; ``n_epochs = 0`` means the end value from the start.

Learning rates in configuration files may also be rl-baselines3-zoo's schedule strings, which
:func:`learning_rate` (for a whole argument dict, :func:`with_learning_rates`) turns into what SB3 takes:
``"lin_7.3e-4"`` decays linearly from 7.3e-4 at the start of training to 0 at its end, as a function of
SB3's ``progress_remaining`` (not of the epoch).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from stable_baselines3.common.utils import LinearSchedule

LINEAR_PREFIX = "lin_"  # rl-zoo3's linear learning-rate schedule, "lin_<initial value>"
LEARNING_RATE_ARGUMENTS = ("learning_rate", "sampler_learning_rate")  # SB3's, and SQL's sampler's


def _progress(epoch: int, n_epochs: int) -> float:
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    return 1.0 if n_epochs == 0 else min(epoch, n_epochs) / n_epochs


def _check(n_epochs: int) -> None:
    if int(n_epochs) != n_epochs or n_epochs < 0:
        raise ValueError(f"n_epochs must be a non-negative integer, got {n_epochs}")


def log_linear(start: float, end: float, n_epochs: int) -> Callable[[int], float]:
    """``start * (end / start) ** (min(epoch, n_epochs) / n_epochs)``: linear in log space, then constant."""
    _check(n_epochs)
    if not (start > 0 and end > 0):
        raise ValueError(f"a log-linear schedule needs positive start and end, got {start}, {end}")
    log_start, log_ratio = math.log(start), math.log(end / start)

    def value(epoch: int) -> float:
        progress = _progress(epoch, n_epochs)
        if progress == 0.0:
            return float(start)
        return float(end) if progress == 1.0 else math.exp(log_start + progress * log_ratio)

    return value


def linear_count(start: int, end: int, n_epochs: int) -> Callable[[int], int]:
    """``ceil(start + (end - start) * min(epoch, n_epochs) / n_epochs)``: an integer count moved linearly
    from ``start`` to ``end`` (rounded up, so it reaches ``end`` exactly at ``n_epochs``), then constant."""
    _check(n_epochs)
    if int(start) != start or int(end) != end or start < 1 or end < 1:
        raise ValueError(f"a count schedule needs integers >= 1, got {start}, {end}")

    def value(epoch: int) -> int:
        progress = _progress(epoch, n_epochs)
        # round first: 32 - 31 * 0.1 * 10 is 1.0000000000000036 in floating point, not 1
        return int(math.ceil(round(start + (end - start) * progress, 9)))

    return value


def learning_rate(value: float | str) -> float | LinearSchedule:
    """A configured learning rate as SB3 takes it: a number as it is, or rl-zoo3's ``"lin_<initial>"`` as
    ``initial * progress_remaining`` (:class:`~stable_baselines3.common.utils.LinearSchedule` from
    ``initial`` to 0, picklable, so checkpoints keep it). Raises ValueError on any other string."""
    if not isinstance(value, str):
        return value
    initial = value.removeprefix(LINEAR_PREFIX)
    try:
        start: float | None = float(initial)
    except ValueError:
        start = None
    if initial != value and start is not None and start > 0:  # NaN fails the comparison
        return LinearSchedule(start, 0.0, 1.0)
    plain_number = initial == value and start is not None
    hint = " (YAML reads 1e-3 as a string: write 1.0e-3)" if plain_number else ""
    raise ValueError(
        f"learning rate {value!r} is neither a number nor rl-zoo3's '{LINEAR_PREFIX}<positive initial value>'"
        f"{hint}"
    )


def with_learning_rates(arguments: dict[str, Any]) -> dict[str, Any]:
    """Constructor ``arguments`` with each learning rate (:data:`LEARNING_RATE_ARGUMENTS`) through
    :func:`learning_rate`; the configuration keeps the string, the model gets the schedule."""
    return {k: learning_rate(v) if k in LEARNING_RATE_ARGUMENTS else v for k, v in arguments.items()}
