"""Composing maximum-entropy policies by averaging their soft Q functions (beyond the 2017 paper).

Haarnoja, Pong, Zhou, Dalal, Abbeel and Levine, "Composable Deep Reinforcement Learning for Robotic
Manipulation" (ICRA 2018): for tasks with rewards r_A and r_B, the soft Q function of the task with
reward (r_A + r_B) / 2 is approximated by Q_C = (Q_A + Q_B) / 2 (their Sec. IV gives the error bound),
and the composed policy is pi_C(a | s) ~ exp(Q_C(s, a) / alpha). With the temperature folded into the
reward (``reward_scale = 1 / alpha``, as :class:`softq.SQL` does), this needs constituents trained with
the same reward scale, and exp(Q_C) = sqrt(exp(Q_A) exp(Q_B)): the composed policy puts its mass where
*both* constituents' soft Q functions are high.

:func:`compose` fits a fresh sampling network to exp(Q_C) with the amortized SVGD step of soft
Q-learning (:func:`softq.kernels.amortized_svgd_loss`) on given states, and returns an
:class:`~softq.policies.SQLPolicy` whose Q network is Q_C. Nothing is sampled from an environment: the
states come from the constituents' replay buffers (:func:`compose_sql`) or any grid the caller passes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch as th
from gymnasium import spaces
from torch import nn

from softq.kernels import BANDWIDTH_RULES, BandwidthRule, amortized_svgd_loss
from softq.policies import SQLPolicy

QFunction = Callable[[th.Tensor, th.Tensor], th.Tensor]


class AverageQ(nn.Module):
    """Q_C(s, a) = sum_i w_i Q_i(s, a) (default w_i = 1 / n): the composed soft Q function.

    Q functions that are modules are deep-copied and frozen (the constituents stay untouched); other
    callables (analytic Q functions) are kept as they are. Each maps features (..., F) and actions
    (..., D) to Q values (...,), as :class:`~softq.policies.QNetwork` does.
    """

    def __init__(self, q_functions: Sequence[QFunction], weights: Sequence[float] | None = None):
        super().__init__()
        if len(q_functions) == 0:
            raise ValueError("compose at least one Q function")
        weights = (
            [1.0 / len(q_functions)] * len(q_functions) if weights is None else [float(w) for w in weights]
        )
        if len(weights) != len(q_functions):
            raise ValueError(f"got {len(weights)} weights for {len(q_functions)} Q functions")
        if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"weights must be non-negative and not all zero, got {weights}")
        self.weights = weights
        self.modules_ = nn.ModuleList()
        self._q_functions: list[QFunction] = []
        for q in q_functions:
            if isinstance(q, nn.Module):
                q = copy.deepcopy(q).requires_grad_(False).eval()
                self.modules_.append(q)
            self._q_functions.append(q)

    def forward(self, features: th.Tensor, actions: th.Tensor) -> th.Tensor:
        return cast(
            th.Tensor,
            sum(w * q(features, actions) for w, q in zip(self.weights, self._q_functions, strict=True)),
        )


def compose(
    q_functions: Sequence[QFunction],
    observation_space: spaces.Space,
    action_space: spaces.Box,
    states: np.ndarray | th.Tensor,
    *,
    weights: Sequence[float] | None = None,
    n_updates: int = 2000,
    batch_size: int = 64,
    kernel_n_particles: int = 32,
    kernel_update_ratio: float = 0.5,
    bandwidth_rule: BandwidthRule = "code",
    learning_rate: float = 3e-4,
    net_arch: Sequence[int] = (128, 128),
    seed: int | None = None,
) -> SQLPolicy:
    """A policy for exp(Q_C), Q_C = the (weighted) average of ``q_functions``, fitted by amortized SVGD.

    :param q_functions: soft Q functions on the same features (the flattened observation, as SQLPolicy's
        parameter-free extractor gives) and the same reward scale.
    :param states: observations to fit the sampler on, shape (N, *observation shape); minibatches of
        ``batch_size`` are drawn from them uniformly with replacement.
    :param n_updates: Adam steps on the sampler (one SVGD step on one minibatch each).
    :param seed: seeds torch's global generator (network initialisation, minibatches, particles).
    :return: an :class:`SQLPolicy` in evaluation mode whose ``qf`` (and ``qf_target``) is
        :class:`AverageQ` and whose sampler was fitted; use ``policy.predict(obs, deterministic=False)``.
        Its Q network is not a :class:`QNetwork`, so ``policy.save`` / ``SQLPolicy.load`` do not apply.
    """
    if n_updates < 1 or batch_size < 1:
        raise ValueError(f"n_updates and batch_size must be >= 1, got {n_updates}, {batch_size}")
    if bandwidth_rule not in BANDWIDTH_RULES:
        raise ValueError(f"unknown bandwidth_rule {bandwidth_rule!r}; valid: {BANDWIDTH_RULES}")
    n_updated = int(kernel_n_particles * kernel_update_ratio)
    if n_updated < 1 or kernel_n_particles - n_updated < 2:
        raise ValueError(
            f"{kernel_n_particles} particles at ratio {kernel_update_ratio} "
            "leave no updated or < 2 fixed particles"
        )
    if seed is not None:
        th.manual_seed(seed)
    policy = SQLPolicy(observation_space, action_space, lambda _: learning_rate, net_arch=list(net_arch))
    combined = AverageQ(q_functions, weights)
    policy.qf = combined  # type: ignore[assignment]  # any Q function serves the SVGD score
    policy.qf_target = combined  # type: ignore[assignment]
    policy.qf_optimizer = None  # type: ignore[assignment]  # nothing of Q_C is trained
    optimizer = th.optim.Adam(policy.sampler.parameters(), lr=learning_rate)
    states = th.as_tensor(np.asarray(states), dtype=th.float32)
    if states.shape[1:] != observation_space.shape or len(states) == 0:
        raise ValueError(
            f"states must have shape (N >= 1, *{observation_space.shape}), got {tuple(states.shape)}"
        )
    policy.set_training_mode(True)
    for _ in range(n_updates):
        batch = states[th.randint(len(states), (batch_size,))]
        loss = amortized_svgd_loss(
            sampler=policy.sampler,
            score=policy.svgd_score,
            features=policy.features(batch),
            action_dim=policy.action_dim,
            n_particles=kernel_n_particles,
            n_updated=n_updated,
            rule=bandwidth_rule,
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    policy.set_training_mode(False)
    return policy


def replay_observations(model) -> np.ndarray:
    """The observations an off-policy model has stored in its replay buffer, shape (N, *obs shape)."""
    buffer = model.replay_buffer
    size = buffer.buffer_size if buffer.full else buffer.pos
    return buffer.observations[:size].reshape(-1, *model.observation_space.shape)


def compose_sql(models: Sequence, states: np.ndarray | th.Tensor | None = None, **kwargs) -> SQLPolicy:
    """:func:`compose` for trained :class:`softq.SQL` models (Q_C = mean of their Q networks).

    ``states`` default to all observations in the models' replay buffers. The models must share the
    observation and action spaces and the reward scale (= 1 / alpha): averaging Q functions of different
    temperatures would not be the composed task's soft Q function. The sampler's width defaults to the
    first model's.
    """
    from softq.sql import SQL

    if not models:
        raise ValueError("compose at least one model")
    if not all(isinstance(m, SQL) for m in models):
        raise TypeError(f"compose_sql needs softq.SQL models, got {[type(m).__name__ for m in models]}")
    first = models[0]
    for m in models[1:]:
        if m.observation_space != first.observation_space or m.action_space != first.action_space:
            raise ValueError("the models must share the observation and action spaces")
        if m.reward_scale != first.reward_scale:
            raise ValueError(
                f"the models have reward scales {[x.reward_scale for x in models]} (= 1 / alpha); "
                "averaging soft Q functions needs one temperature"
            )
    if states is None:
        states = np.concatenate([replay_observations(m) for m in models])
    kwargs.setdefault("net_arch", first.policy.net_arch)
    return compose(
        [m.policy.qf for m in models], first.observation_space, first.action_space, states, **kwargs
    )
